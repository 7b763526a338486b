/**
 * OS keychain backend on keytar (an optional dependency). keytar is imported lazily, only
 * when a key is read or written; every call is raced against a timeout (3 s by default),
 * since a keyring can block on an unlock prompt or a dead D-Bus. Callers decide whether a
 * failure falls back to the file; this module only reports it (KeychainFailure).
 */

export const KEYCHAIN_SERVICE = "gigareels";
export const DEFAULT_KEYCHAIN_TIMEOUT_MS = 3000;

/** The part of keytar we use (also what tests inject). */
export interface KeytarLike {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

export interface KeychainOptions {
  keychainTimeoutMs?: number;
  /** For tests: a keytar stand-in, or a loader. Default: `import("keytar")`. */
  keytar?: KeytarLike | (() => Promise<KeytarLike>);
}

/** Why the keychain could not be used. The message names the cause, never a key. */
export class KeychainFailure extends Error {
  readonly code = "keychain_unavailable";
  constructor(
    readonly reason: string,
    readonly kind: "missing" | "timeout" | "error",
  ) {
    super(reason);
    this.name = "KeychainFailure";
  }
}

export function keychainOrigin(profile: string): string {
  return `OS keychain (service ${KEYCHAIN_SERVICE}, account ${profile})`;
}

let defaultKeytar: Promise<KeytarLike> | undefined;

async function importKeytar(): Promise<KeytarLike> {
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
  op: (k: KeytarLike) => Promise<T>,
): Promise<T> {
  const ms = options.keychainTimeoutMs ?? DEFAULT_KEYCHAIN_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new KeychainFailure(`${what} did not answer within ${ms} ms`, "timeout")),
      ms,
    );
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
      return await Promise.race([op(k), timeout]);
    } catch (err) {
      if (err instanceof KeychainFailure) throw err;
      throw new KeychainFailure(`${what} failed: ${describe(err)}`, "error");
    }
  } finally {
    clearTimeout(timer);
  }
}

export function keychainGet(profile: string, options: KeychainOptions): Promise<string | null> {
  return call(options, "the keychain read", (k) => k.getPassword(KEYCHAIN_SERVICE, profile));
}

export async function keychainSet(profile: string, key: string, options: KeychainOptions): Promise<void> {
  await call(options, "the keychain write", (k) => k.setPassword(KEYCHAIN_SERVICE, profile, key));
}

export function keychainDelete(profile: string, options: KeychainOptions): Promise<boolean> {
  return call(options, "the keychain delete", (k) => k.deletePassword(KEYCHAIN_SERVICE, profile));
}

/** Profile names that have an item in the keychain (the keys themselves are dropped at once). */
export async function keychainAccounts(options: KeychainOptions): Promise<string[]> {
  const creds = await call(options, "the keychain listing", (k) => k.findCredentials(KEYCHAIN_SERVICE));
  return creds.map((c) => c.account);
}
