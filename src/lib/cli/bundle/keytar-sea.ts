/**
 * keytar inside the standalone binary. A single executable cannot `require` a `.node` file
 * from disk, so the build ships keytar's native module as the SEA asset `keytar.node`. It is
 * written into a fresh private folder (mkdtemp: random name, mode 0700) inside the per-user
 * cache folder (GIGAREELS_CACHE_DIR or ~/.cache/gigareels, made 0700; a shared /tmp is often
 * mounted noexec, where dlopen fails and the keychain silently became unavailable), created
 * exclusively (`wx`, so nothing planted can be loaded), loaded with `process.dlopen`, and the
 * folder is removed at once. Only when the cache folder fails is TMPDIR tried, with a warning
 * that says so; when both fail the error names both, and the caller falls back to the file
 * store with that reason.
 *
 * Two ways in, so the credential store needs no SEA-specific code:
 * - the binary's bundle resolves `import("keytar")` to ./keytar-sea-module.js (which calls
 *   `loadKeytarFromSea`);
 * - the binary's entry sets `globalThis.__gigareelsLoadKeytar` for stores that load keytar
 *   some other way (e.g. through createRequire, which a bundler cannot see).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheDir } from "../../fs/index.js";
import { stderrLine } from "../output.js";

export const KEYTAR_ASSET = "keytar.node";

export interface KeytarApi {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findPassword(service: string): Promise<string | null>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

declare global {
  // Set by the standalone binary's entry; absent under plain Node.
  var __gigareelsLoadKeytar: (() => KeytarApi) | undefined;
}

let cached: KeytarApi | undefined;

/** Loads the native module from `bytes` via a private, exclusively created temporary file. */
export function dlopenFromBytes(bytes: Uint8Array, baseDir: string = tmpdir()): Record<string, unknown> {
  const dir = mkdtempSync(join(baseDir, "gigareels-keytar-"));
  try {
    const file = join(dir, KEYTAR_ASSET);
    writeFileSync(file, bytes, { flag: "wx", mode: 0o700 });
    const mod = { exports: {} as Record<string, unknown> };
    process.dlopen(mod, file);
    return mod.exports;
  } finally {
    // On Windows a loaded DLL cannot be deleted; the folder is private, so leaving it is safe.
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
}

export interface NativeLoadOptions {
  /** Tried first: the per-user cache folder (default: GIGAREELS_CACHE_DIR or the platform's). */
  cacheDir?: string;
  /** Tried when the cache folder fails (default: TMPDIR). */
  tmpDir?: string;
  /** Told when the module came from TMPDIR because the cache folder failed. */
  onFallback?: (message: string) => void;
}

/** Makes `dir` a private folder of this user (0700); throws when it cannot be. */
function privateFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === "win32") return;
  const st = statSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  if (typeof process.getuid === "function" && st.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user`);
  }
  if ((st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

const reasonOf = (err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  return (e?.code ?? String(e?.message ?? err).split("\n")[0])!.slice(0, 200);
};

/**
 * Loads the native module from `bytes`: from the per-user cache folder, else from TMPDIR
 * (saying which, through onFallback). Throws an error that names both places and why each failed.
 */
export function loadNativeModule(
  bytes: Uint8Array,
  options: NativeLoadOptions = {},
): Record<string, unknown> {
  const cache = join(options.cacheDir ?? cacheDir(), "native");
  let cacheProblem: string;
  try {
    privateFolder(cache);
    return dlopenFromBytes(bytes, cache);
  } catch (err) {
    cacheProblem = reasonOf(err);
  }
  const tmp = options.tmpDir ?? tmpdir();
  try {
    const exports = dlopenFromBytes(bytes, tmp);
    options.onFallback?.(
      `the keychain module was loaded from TMPDIR (${tmp}) because the cache folder ${cache} could not be used (${cacheProblem})`,
    );
    return exports;
  } catch (err) {
    throw new Error(
      `the keychain module could not be loaded from the cache folder ${cache} (${cacheProblem}) nor from TMPDIR ${tmp} (${reasonOf(err)})`,
    );
  }
}

/** keytar's own JS wrapper (lib/keytar.js): argument checks around the native calls. */
export function wrapNative(native: Record<string, unknown>): KeytarApi {
  // biome-ignore lint/suspicious/noExplicitAny: the native module's functions are untyped.
  const call = (name: string, checks: [string, string][], args: string[]): any => {
    for (const [value, label] of checks) {
      if (!value || value.length <= 0) throw new Error(`${label} is required.`);
    }
    const fn = native[name];
    if (typeof fn !== "function") throw new Error(`keytar's native module has no ${name}`);
    return fn(...args);
  };
  return {
    getPassword: (service, account) =>
      call(
        "getPassword",
        [
          [service, "Service"],
          [account, "Account"],
        ],
        [service, account],
      ),
    setPassword: (service, account, password) =>
      call(
        "setPassword",
        [
          [service, "Service"],
          [account, "Account"],
          [password, "Password"],
        ],
        [service, account, password],
      ),
    deletePassword: (service, account) =>
      call(
        "deletePassword",
        [
          [service, "Service"],
          [account, "Account"],
        ],
        [service, account],
      ),
    findPassword: (service) => call("findPassword", [[service, "Service"]], [service]),
    findCredentials: (service) => call("findCredentials", [[service, "Service"]], [service]),
  };
}

/** keytar from the binary's asset; throws when there is none or it cannot be loaded. */
export function loadKeytarFromSea(): KeytarApi {
  if (cached) return cached;
  // node:sea exists only in Node >= 20.12; required lazily so plain Node never loads it.
  const sea = process.getBuiltinModule?.("node:sea") as typeof import("node:sea") | undefined;
  if (!sea?.isSea()) throw new Error("not running as a single executable");
  let bytes: ArrayBuffer;
  try {
    bytes = sea.getRawAsset(KEYTAR_ASSET) as ArrayBuffer;
  } catch {
    throw new Error("this binary carries no keychain module");
  }
  cached = wrapNative(
    loadNativeModule(new Uint8Array(bytes), { onFallback: (message) => stderrLine(`Warning: ${message}`) }),
  );
  return cached;
}

export function installSeaKeytarHook(): void {
  globalThis.__gigareelsLoadKeytar = loadKeytarFromSea;
}
