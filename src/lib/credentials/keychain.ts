/**
 * OS keychain backend on keytar (an optional dependency). keytar is imported lazily, only
 * when a key is read or written; every call is raced against a timeout (3 s by default),
 * since a keyring can block on an unlock prompt or a dead D-Bus. Callers decide whether a
 * failure falls back to the file; this module only reports it (KeychainFailure).
 */

import { KeychainFailure } from "./errors.js";

export { KeychainFailure };

export const KEYCHAIN_SERVICE = "gigareels";
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 3000;

/** The part of keytar we use (also what tests inject). */
export interface KeytarLike {
  getPassword(service: string, account: string, signal?: AbortSignal): Promise<string | null>;
  setPassword(service: string, account: string, password: string, signal?: AbortSignal): Promise<void>;
  deletePassword(service: string, account: string, signal?: AbortSignal): Promise<boolean>;
  findCredentials(
    service: string,
    signal?: AbortSignal,
  ): Promise<Array<{ account: string; password: string }>>;
}

export interface KeychainOptions {
  keychainTimeoutMs?: number;
  /** For tests: a keytar stand-in, or a loader. Default: `import("keytar")`. */
  keytar?: KeytarLike | (() => Promise<KeytarLike>);
}

export function keychainOrigin(profile: string): string {
  return `OS keychain (service ${KEYCHAIN_SERVICE}, account ${profile})`;
}

let defaultKeytar: Promise<KeytarLike> | undefined;

/**
 * A keytar call that hangs (a dead D-Bus peer, an unanswered unlock prompt) blocks a libuv
 * thread for good, and then even `process.exit` waits for it. So, under plain Node, each
 * call runs keytar in a short-lived child process (the key goes through stdin, never argv)
 * that is killed on timeout. In a single-executable build (no separate node to spawn)
 * keytar is loaded in-process.
 */
const CHILD_SCRIPT = `
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", async () => {
  const out = (v) => process.stdout.write(JSON.stringify(v));
  try {
    const req = JSON.parse(input);
    const k = require(req.keytarPath);
    let value;
    if (req.op === "get") value = await k.getPassword(req.service, req.account);
    else if (req.op === "set") value = await k.setPassword(req.service, req.account, req.password);
    else if (req.op === "delete") value = await k.deletePassword(req.service, req.account);
    else value = (await k.findCredentials(req.service)).map((c) => ({ account: c.account, password: "" }));
    out({ ok: true, value: value === undefined ? null : value });
  } catch (e) {
    out({ ok: false, error: String((e && e.message) || e).split("\\n")[0] });
  }
});
`;

function isSingleExecutable(require: NodeJS.Require): boolean {
  try {
    const sea = require("node:sea") as { isSea?: () => boolean };
    return sea.isSea?.() === true;
  } catch {
    return false;
  }
}

async function runChild(
  keytarPath: string,
  request: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<unknown> {
  // Imported here: node:child_process takes Node 20 about 6 ms to load, and status --offline
  // (which loads this module but never asks the keychain) is a start-up path.
  const { spawn } = await import("node:child_process");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", CHILD_SCRIPT], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const onAbort = () => child.kill("SIGKILL");
    signal?.addEventListener("abort", onAbort, { once: true });
    // Aborted while node:child_process was being imported.
    if (signal?.aborted) onAbort();
    child.on("error", (err) => {
      signal?.removeEventListener("abort", onAbort);
      reject(err);
    });
    child.on("close", (code, sig) => {
      signal?.removeEventListener("abort", onAbort);
      if (sig) return reject(new Error(`the keychain helper process was killed (${sig})`));
      try {
        const r = JSON.parse(stdout) as { ok: boolean; value?: unknown; error?: string };
        if (r.ok) resolve(r.value);
        else reject(new Error(r.error ?? "unknown error"));
      } catch {
        reject(
          new Error(`the keychain helper process exited ${code}: ${stderr.trim().split("\n")[0] ?? ""}`),
        );
      }
    });
    child.stdin.on("error", () => {});
    child.stdin.end(JSON.stringify({ keytarPath, ...request }));
  });
}

/** keytar run in a child process per call (see CHILD_SCRIPT). */
function childKeytar(keytarPath: string): KeytarLike {
  return {
    getPassword: (service, account, signal?: AbortSignal) =>
      runChild(keytarPath, { op: "get", service, account }, signal) as Promise<string | null>,
    setPassword: async (service, account, password, signal?: AbortSignal) => {
      await runChild(keytarPath, { op: "set", service, account, password }, signal);
    },
    deletePassword: (service, account, signal?: AbortSignal) =>
      runChild(keytarPath, { op: "delete", service, account }, signal).then((v) => v === true),
    findCredentials: (service, signal?: AbortSignal) =>
      runChild(keytarPath, { op: "list", service }, signal) as Promise<
        Array<{ account: string; password: string }>
      >,
  };
}

async function importKeytar(): Promise<KeytarLike> {
  // node:module is loaded here, not at start-up: `status --offline` never needs it.
  const require = (await import("node:module")).createRequire(import.meta.url);
  if (!isSingleExecutable(require)) {
    // Resolving finds the package without loading the native module.
    return childKeytar(require.resolve("keytar"));
  }
  // Seam for the standalone binary (issue 8): its entry sets this loader, which dlopens keytar's
  // native module from the binary's SEA asset via a private temporary folder
  // (src/lib/cli/bundle/keytar-sea.ts); it throws when that fails, and the file store is used.
  const seaLoader = (globalThis as { __gigareelsLoadKeytar?: () => KeytarLike }).__gigareelsLoadKeytar;
  if (seaLoader) return seaLoader();
  // A variable specifier keeps bundlers from inlining the native module and keeps keytar
  // optional at build time.
  const specifier = "keytar";
  const mod = (await import(specifier)) as { default?: KeytarLike } & Partial<KeytarLike>;
  const k = (mod.default ?? mod) as KeytarLike;
  if (typeof k.getPassword !== "function") throw new Error("keytar has no getPassword");
  return k;
}

async function loadKeytar(options: KeychainOptions): Promise<KeytarLike> {
  const injected = options.keytar;
  if (injected) return typeof injected === "function" ? injected() : injected;
  defaultKeytar ??= importKeytar();
  try {
    return await defaultKeytar;
  } catch (err) {
    defaultKeytar = undefined;
    throw err;
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const msg = String(e?.message ?? err)
    .split("\n")[0]!
    .trim();
  return msg.length > 200 ? `${msg.slice(0, 200)}…` : msg;
}

/** Runs one keychain operation with the timeout; any failure becomes a KeychainFailure. */
async function call<T>(
  options: KeychainOptions,
  what: string,
  op: (k: KeytarLike, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ms = options.keychainTimeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS;
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort(); // kills the helper process, if any
      reject(new KeychainFailure(`${what} did not answer within ${ms} ms`, "timeout"));
    }, ms);
  });
  try {
    let k: KeytarLike;
    try {
      k = await Promise.race([loadKeytar(options), timeout]);
    } catch (err) {
      if (err instanceof KeychainFailure) throw err;
      throw new KeychainFailure(`keytar could not be loaded: ${describe(err)}`, "missing");
    }
    try {
      return await Promise.race([op(k, abort.signal), timeout]);
    } catch (err) {
      if (err instanceof KeychainFailure) throw err;
      throw new KeychainFailure(`${what} failed: ${describe(err)}`, "error");
    }
  } finally {
    clearTimeout(timer);
  }
}

export function keychainGet(profile: string, options: KeychainOptions): Promise<string | null> {
  return call(options, "the keychain read", (k, signal) => k.getPassword(KEYCHAIN_SERVICE, profile, signal));
}

export async function keychainSet(profile: string, key: string, options: KeychainOptions): Promise<void> {
  await call(options, "the keychain write", (k, signal) =>
    k.setPassword(KEYCHAIN_SERVICE, profile, key, signal),
  );
}

export function keychainDelete(profile: string, options: KeychainOptions): Promise<boolean> {
  return call(options, "the keychain delete", (k, signal) =>
    k.deletePassword(KEYCHAIN_SERVICE, profile, signal),
  );
}

/** Profile names that have an item in the keychain (the keys themselves are dropped at once). */
export async function keychainAccounts(options: KeychainOptions): Promise<string[]> {
  const creds = await call(options, "the keychain listing", (k, signal) =>
    k.findCredentials(KEYCHAIN_SERVICE, signal),
  );
  return creds.map((c) => c.account);
}
