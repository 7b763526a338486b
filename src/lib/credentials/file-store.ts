/**
 * credentials.json: reading (with v1 migration, permission tightening, symlink refusal,
 * corruption and version checks) and locked read-modify-write.
 *
 * ## The credentials file (format v2)
 *
 * `~/.gigareels/credentials.json` (the folder moves with `GIGAREELS_CONFIG_DIR`). The folder
 * is 0700 and the file 0600 (set again after every write); it is written atomically (a
 * temporary file in the same folder, fsync, rename) under an inter-process lock
 * (`credentials.json.lock`), so concurrent gigareels processes never lose each other's
 * changes. A symbolic link in place of the file is refused; a file readable by other users
 * is tightened to 0600 and reported.
 *
 * ```json
 * {
 *   "version": 2,
 *   "activeProfile": "default",
 *   "profiles": {
 *     "default": {
 *       "baseUrl": "https://gigareels.com",
 *       "keyLocation": "keychain",
 *       "keyId": "key_8f2c",
 *       "keyLast4": "9xQz",
 *       "account": { "id": "acct_123", "email": "ada@example.com", "name": "Ada" },
 *       "createdAt": "2026-11-28T04:50:00.000Z"
 *     },
 *     "local": {
 *       "baseUrl": "http://127.0.0.1:4010",
 *       "keyLocation": "file",
 *       "apiKey": "giga_…",
 *       "keyLast4": "k3Ys",
 *       "createdAt": "2026-11-28T04:52:00.000Z"
 *     }
 *   }
 * }
 * ```
 *
 * - `version` (required): `2`. A file with a higher version is left untouched and reported.
 * - `activeProfile`: the profile used when neither `--profile` nor `GIGAREELS_PROFILE` is given.
 * - `profiles.<name>` (names: letters, digits, `.`, `_`, `-`; at most 64):
 *   - `baseUrl`: the API the key belongs to (production and `--local` keys live side by side).
 *   - `keyLocation`: `"keychain"` (the key is in the OS keychain, service `gigareels`,
 *     account `<name>`) or `"file"` (the key is in `apiKey` below, in plain text).
 *   - `apiKey`: the key itself, present only when `keyLocation` is `"file"`.
 *   - `keyId`, `keyLast4`, `account` (`id`, `email`, `name`), `createdAt` (ISO 8601): metadata,
 *     kept even when the key is in the keychain, so `gigareels status --offline` needs neither
 *     the network nor the keychain.
 *   - `obtainedBy`: `"web"` or `"device"` (a key this CLI's login minted: logout revokes it) or
 *     `"token"` (pasted or piped in: logout only forgets it). Absent (older files): `"token"`.
 *   - `localChosen`: `true` when `baseUrl` is a plain-http loopback URL the person chose at
 *     login (`--local`, or `--base-url` as the emulator's printed command): `status` does not
 *     warn that it is not https. Absent otherwise.
 * - Unknown fields are kept as they are when the file is rewritten.
 *
 * Version 1 (older tools) is the flat `{"apiKey": "giga_…", "baseUrl": "…"}`. It is read as
 * it is and rewritten as v2 with one profile, `default`, whose key stays in the file
 * (`keyLocation: "file"`); `gigareels login` moves it to the keychain.
 *
 * A file that is not valid JSON (or not this shape) gives an error naming it; it is copied
 * aside as `credentials.json.corrupt-<time>` before anything replaces it.
 */
import { lstatSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  configDir,
  ensurePrivateDir,
  removeStaleTempFiles,
  withFileLock,
  writeFileAtomic,
} from "../fs/index.js";
import {
  ConfigDirNotAFolderError,
  CredentialsCorruptError,
  CredentialsError,
  CredentialsNotAFileError,
  CredentialsSymlinkError,
  CredentialsUnreadableError,
  CredentialsUnsupportedVersionError,
  FS_ERROR_CODES,
} from "./errors.js";
import { chmod, copyFile, lstat, stat, unlink } from "../fs/promises.js";
import { keyLast4, normalizeKey } from "./key-format.js";
import type { CredentialsFileV2, ProfileRecord } from "./types.js";
import { reportCredentialsWarning } from "./warning-sink.js";

export const CREDENTIALS_FILE = "credentials.json";
export const CURRENT_VERSION = 2;
export const DEFAULT_PROFILE = "default";
export const DEFAULT_BASE_URL = "https://gigareels.com";

export interface FileStoreOptions {
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  onWarning?: (message: string) => void;
  /** Report loose modes instead of tightening them (the SDK's reads: no side effects). */
  readOnly?: boolean;
}

/**
 * Says something about the file (its mode was tightened, it was kept aside, it was migrated).
 * Without an onWarning the line goes to the sink the CLI sets (warning-sink.ts), never to
 * stderr from here: whichever caller reads the file first (`whoami`, `status --offline`) must
 * not make the report disappear, and a library does not write on its host's stderr.
 */
function report(options: FileStoreOptions, message: string): void {
  reportCredentialsWarning(options.onWarning, message);
}

export function credentialsFilePath(options: FileStoreOptions = {}): string {
  return join(options.configDir ?? configDir(options.env ?? process.env), CREDENTIALS_FILE);
}

export type LoadedFile =
  | { state: "missing"; path: string }
  | { state: "ok"; path: string; data: CredentialsFileV2; migratedFrom?: 1 }
  | { state: "corrupt"; path: string; text: string; error: CredentialsCorruptError }
  | { state: "newer"; path: string; error: CredentialsUnsupportedVersionError };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? String(e?.message ?? err);
}

/** Turns parsed JSON into v2 (migrating v1), or says why it cannot. */
export function interpret(
  path: string,
  value: unknown,
  mtime?: Date,
):
  | { data: CredentialsFileV2; migratedFrom?: 1 }
  | CredentialsCorruptError
  | CredentialsUnsupportedVersionError {
  if (!isObject(value)) return new CredentialsCorruptError(path, "the top level is not an object");
  const version = value.version;
  if (version === undefined || version === 1) {
    if (typeof value.apiKey !== "string") {
      return new CredentialsCorruptError(path, 'no "version" field and no v1 "apiKey"');
    }
    const raw = value.apiKey;
    const record: ProfileRecord = {
      baseUrl: typeof value.baseUrl === "string" && value.baseUrl ? value.baseUrl : DEFAULT_BASE_URL,
      keyLocation: "file",
      apiKey: raw,
      keyLast4: keyLast4(raw),
      createdAt: (mtime ?? new Date()).toISOString(),
    };
    return {
      data: { version: 2, activeProfile: DEFAULT_PROFILE, profiles: { [DEFAULT_PROFILE]: record } },
      migratedFrom: 1,
    };
  }
  if (typeof version === "number" && Number.isFinite(version) && version > CURRENT_VERSION) {
    return new CredentialsUnsupportedVersionError(path, version);
  }
  if (version !== CURRENT_VERSION) {
    return new CredentialsCorruptError(path, `unknown "version" ${JSON.stringify(version)}`);
  }
  const profiles = value.profiles ?? {};
  if (!isObject(profiles)) return new CredentialsCorruptError(path, '"profiles" is not an object');
  for (const [name, rec] of Object.entries(profiles)) {
    if (!isObject(rec)) return new CredentialsCorruptError(path, `profile "${name}" is not an object`);
    if (rec.keyLocation !== "keychain" && rec.keyLocation !== "file") {
      return new CredentialsCorruptError(path, `profile "${name}" has no valid "keyLocation"`);
    }
    if (rec.apiKey !== undefined && typeof rec.apiKey !== "string") {
      return new CredentialsCorruptError(path, `profile "${name}" has a non-string "apiKey"`);
    }
    // Metadata a hand edit may have broken: better one clear error than a TypeError later.
    for (const field of ["baseUrl", "keyId", "keyLast4", "createdAt", "obtainedBy"]) {
      if (field in rec && typeof rec[field] !== "string") {
        return new CredentialsCorruptError(path, `profile "${name}" has a "${field}" that is not a string`);
      }
    }
    if ("account" in rec && rec.account !== null) {
      if (!isObject(rec.account)) {
        return new CredentialsCorruptError(path, `profile "${name}" has an "account" that is not an object`);
      }
      for (const field of ["id", "email", "name"]) {
        const v = rec.account[field];
        if (v !== undefined && v !== null && typeof v !== "string") {
          return new CredentialsCorruptError(
            path,
            `profile "${name}" has an "account.${field}" that is not a string`,
          );
        }
      }
    }
  }
  const activeProfile =
    typeof value.activeProfile === "string" && value.activeProfile ? value.activeProfile : DEFAULT_PROFILE;
  return {
    data: { ...(value as object), version: 2, activeProfile, profiles } as CredentialsFileV2,
  };
}

/**
 * Reads credentials.json without writing it (except tightening its mode, which is reported).
 * Throws for a symlink or an unreadable file; returns corrupt/newer states for the caller
 * to report or handle. The reads are synchronous (a small file, read once per command): so
 * `status --offline` and the like never load node:fs/promises nor start libuv's thread pool.
 */
export async function loadCredentialsFile(options: FileStoreOptions = {}): Promise<LoadedFile> {
  const path = credentialsFilePath(options);
  let st: import("node:fs").Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { state: "missing", path };
    throw new CredentialsUnreadableError(path, errText(err));
  }
  if (st.isSymbolicLink()) throw new CredentialsSymlinkError(path);
  if (!st.isFile()) {
    throw new CredentialsNotAFileError(path, st.isDirectory() ? "a folder" : "not a regular file");
  }
  await tightenModes(path, st.mode, options);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new CredentialsUnreadableError(path, errText(err));
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    const detail = `invalid JSON: ${String((err as Error).message).split("\n")[0]}`;
    return { state: "corrupt", path, text, error: new CredentialsCorruptError(path, detail) };
  }
  const r = interpret(path, value, st.mtime);
  if (r instanceof CredentialsCorruptError) return { state: "corrupt", path, text, error: r };
  if (r instanceof CredentialsUnsupportedVersionError) return { state: "newer", path, error: r };
  return r.migratedFrom
    ? { state: "ok", path, data: r.data, migratedFrom: r.migratedFrom }
    : { state: "ok", path, data: r.data };
}

async function tightenModes(path: string, mode: number, options: FileStoreOptions): Promise<void> {
  if (process.platform === "win32") return;
  if (options.readOnly) {
    if ((mode & 0o077) !== 0) {
      report(
        options,
        `${path} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); run chmod 600 ${path} (gigareels does it on its next write).`,
      );
    }
    return;
  }
  if ((mode & 0o077) !== 0) {
    try {
      await chmod(path, 0o600);
      report(
        options,
        `${path} was readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); tightened to 0600. If others could read it, revoke the key and log in again.`,
      );
    } catch (err) {
      report(
        options,
        `${path} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, "0")}) and could not be tightened (${errText(err)}); run chmod 600 ${path}.`,
      );
    }
  }
  const dir = dirname(path);
  try {
    const d = statSync(dir);
    if ((d.mode & 0o077) !== 0) {
      await chmod(dir, 0o700);
      report(
        options,
        `${dir} was accessible by other users (mode ${(d.mode & 0o777).toString(8).padStart(4, "0")}); tightened to 0700.`,
      );
    }
  } catch {
    // not ours to fix (e.g. owned by someone else); the file itself is 0600
  }
}

/** Copies a corrupt file aside (0600) and returns the copy's path. */
export async function keepAside(path: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  let aside = `${path}.corrupt-${stamp}`;
  for (let i = 1; ; i++) {
    try {
      await lstat(aside);
      aside = `${path}.corrupt-${stamp}-${i}`;
    } catch {
      break;
    }
  }
  await copyFile(path, aside);
  if (process.platform !== "win32") await chmod(aside, 0o600);
  return aside;
}

export function emptyFile(): CredentialsFileV2 {
  return { version: 2, activeProfile: DEFAULT_PROFILE, profiles: {} };
}

export function serialize(data: CredentialsFileV2): string {
  return `${JSON.stringify(data, null, 2)}\n`;
}

export interface MutateContext {
  path: string;
  /** Set when the file was v1 and is being rewritten as v2. */
  migratedFrom?: 1;
  /** Set when a corrupt file was copied aside before this write. */
  keptAsidePath?: string;
  existed: boolean;
}

export interface MutateOptions extends FileStoreOptions {
  /** What to do with a corrupt file: throw (default) or keep it aside and start empty. */
  onCorrupt?: "throw" | "replace";
  lockTimeoutMs?: number;
}

/**
 * Read-modify-write of credentials.json under the lock. `fn` gets a copy of the current
 * content (v2, empty when there is none) and returns the new content, `null` to delete the
 * file, or `undefined` to leave it as it is. A newer-version file is never touched (throws).
 */
export async function mutateCredentialsFile<T>(
  options: MutateOptions,
  fn: (
    data: CredentialsFileV2,
    ctx: MutateContext,
  ) => { next: CredentialsFileV2 | null | undefined; result: T },
): Promise<T> {
  const path = credentialsFilePath(options);
  const dir = dirname(path);
  try {
    if (await ensurePrivateDir(dir))
      report(options, `${dir} was accessible by other users; tightened to 0700.`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const file = code === "EEXIST" || code === "ENOTDIR" ? await fileOnPath(dir) : undefined;
    if (file) throw new ConfigDirNotAFolderError(dir, file);
    throw new CredentialsUnreadableError(dir, errText(err), "write");
  }
  try {
    return await lockedMutation(path, options, fn);
  } catch (err) {
    // A full or read-only disk while taking the lock or keeping a corrupt file aside: one line
    // naming the file and the fix, not a raw ENOSPC.
    const code = (err as NodeJS.ErrnoException).code;
    if (!(err instanceof CredentialsError) && code && FS_ERROR_CODES.has(code)) {
      throw new CredentialsUnreadableError(path, code, "write");
    }
    throw err;
  }
}

async function lockedMutation<T>(
  path: string,
  options: MutateOptions,
  fn: (
    data: CredentialsFileV2,
    ctx: MutateContext,
  ) => { next: CredentialsFileV2 | null | undefined; result: T },
): Promise<T> {
  return withFileLock(
    `${path}.lock`,
    async () => {
      // Temporary copies left by a write that was killed may hold keys: every writer (and
      // logout) removes them.
      await removeStaleTempFiles(path);
      const loaded = await loadCredentialsFile(options);
      const ctx: MutateContext = { path, existed: loaded.state !== "missing" };
      let data: CredentialsFileV2;
      if (loaded.state === "newer") throw loaded.error;
      if (loaded.state === "corrupt") {
        if (options.onCorrupt !== "replace") throw loaded.error;
        ctx.keptAsidePath = await keepAside(path);
        report(options, `${path} was not a valid credentials file; kept as ${ctx.keptAsidePath}.`);
        data = emptyFile();
      } else if (loaded.state === "ok") {
        data = structuredClone(loaded.data);
        if (loaded.migratedFrom) ctx.migratedFrom = loaded.migratedFrom;
      } else {
        data = emptyFile();
      }
      const { next, result } = fn(data, ctx);
      const write = next !== undefined || ctx.migratedFrom !== undefined;
      if (!write) return result;
      try {
        if (next === null) {
          await unlink(path).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== "ENOENT") throw err;
          });
        } else {
          await writeFileAtomic(path, serialize(next ?? data), { mode: 0o600 });
          if (ctx.migratedFrom) {
            report(
              options,
              `Migrated ${path} from format v1 to v2 (profile "${DEFAULT_PROFILE}"; the key stays in the file, run \`gigareels login\` to move it to the OS keychain).`,
            );
          }
        }
      } catch (err) {
        throw new CredentialsUnreadableError(path, errText(err), "write");
      }
      return result;
    },
    { timeoutMs: options.lockTimeoutMs ?? 15_000 },
  );
}

/** The first existing non-folder on the way down to `dir` (what makes mkdir fail), if any. */
async function fileOnPath(dir: string): Promise<string | undefined> {
  const chain: string[] = [];
  for (let p = dir; ; p = dirname(p)) {
    chain.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of chain) {
    try {
      if (!(await stat(p)).isDirectory()) return p;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A v1 file found by a reader is rewritten as v2 right away (best effort, under the lock). */
export async function migrateIfNeeded(options: FileStoreOptions): Promise<void> {
  try {
    await mutateCredentialsFile(options, () => ({ next: undefined, result: undefined }));
  } catch (err) {
    report(
      options,
      `Could not rewrite ${credentialsFilePath(options)} as v2 (${(err as Error).message}); it was read as v1.`,
    );
  }
}

/** The untrimmed key stored in a file record (undefined when the key is elsewhere). */
export function fileKey(record: ProfileRecord | undefined): string | undefined {
  if (record?.keyLocation !== "file") return undefined;
  if (typeof record.apiKey !== "string" || normalizeKey(record.apiKey) === "") return undefined;
  return record.apiKey;
}
