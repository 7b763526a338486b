/**
 * keytar inside the standalone binary. A single executable cannot `require` a `.node` file
 * from disk, so the build ships keytar's native module as the SEA asset `keytar.node`. It is
 * written into a fresh private folder (mkdtemp: random name, mode 0700), created exclusively
 * (`wx`, so nothing planted can be loaded), loaded with `process.dlopen`, and the folder is
 * removed at once. When any of that fails, the caller falls back to the file store.
 *
 * Two ways in, so the credential store needs no SEA-specific code:
 * - the binary's bundle resolves `import("keytar")` to ./keytar-sea-module.js (which calls
 *   `loadKeytarFromSea`);
 * - the binary's entry sets `globalThis.__gigareelsLoadKeytar` for stores that load keytar
 *   some other way (e.g. through createRequire, which a bundler cannot see).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
  cached = wrapNative(dlopenFromBytes(new Uint8Array(bytes)));
  return cached;
}

export function installSeaKeytarHook(): void {
  globalThis.__gigareelsLoadKeytar = loadKeytarFromSea;
}
