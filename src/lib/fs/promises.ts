/**
 * node:fs/promises, imported on the first call of one of these functions. Loading it costs each
 * start-up about 2 ms here (it brings readline's interface and the file watchers with it), and
 * `status --offline` and most commands never need it: they read their few small files with the
 * synchronous API (credentials.json: ../credentials/file-store.ts). Same functions, same results
 * and errors as node:fs/promises' own.
 */
type FsPromises = typeof import("node:fs/promises");

let loading: Promise<FsPromises> | undefined;

function lazy<K extends keyof FsPromises>(name: K): FsPromises[K] {
  const call = async (...args: unknown[]) => {
    loading ??= import("node:fs/promises");
    const fn = (await loading)[name] as (...a: unknown[]) => unknown;
    return fn(...args);
  };
  // The module's own function type (with its overloads), which `call` forwards to unchanged.
  return call as unknown as FsPromises[K];
}

export const chmod = lazy("chmod");
export const copyFile = lazy("copyFile");
export const lstat = lazy("lstat");
export const mkdir = lazy("mkdir");
export const open = lazy("open");
export const readdir = lazy("readdir");
export const readFile = lazy("readFile");
export const rename = lazy("rename");
export const rm = lazy("rm");
export const stat = lazy("stat");
export const unlink = lazy("unlink");
