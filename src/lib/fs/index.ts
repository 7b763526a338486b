/**
 * Small file-system helpers shared by the credential store and the rate-limit budget:
 * the config folder, a private folder, an atomic write, an inter-process lock and a
 * JSON read that tells "missing" from "corrupt". Imports nothing of ours.
 *
 * Typical read-modify-write of a shared state file:
 *
 *   const dir = configDir();
 *   await ensurePrivateDir(dir);
 *   await withFileLock(join(dir, "budget.json.lock"), async () => {
 *     const r = await readJsonFile(join(dir, "budget.json"));
 *     const state = r.kind === "ok" ? r.value : {};
 *     ...modify state...
 *     await writeFileAtomic(join(dir, "budget.json"), JSON.stringify(state), { mode: 0o600 });
 *   });
 *
 * State rewritten on every request (the rate-limit budget) uses the synchronous variants
 * instead: withSyncFileLock runs the lock, the read, the write and the release in one turn
 * of the event loop, so the lock is held for a few system calls, not for thread-pool round
 * trips that a busy machine stretches to tens of milliseconds.
 */
import {
  closeSync,
  constants as fsc,
  fchmodSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { homedir, hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { LockTimeoutError } from "./errors.js";
import { chmod, lstat, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from "./promises.js";

export { LockTimeoutError };

/** node:crypto takes milliseconds to load: only writers need it, so readers (status --offline) skip it. */
async function randomHex(bytes: number): Promise<string> {
  const { randomBytes } = await import("node:crypto");
  return randomBytes(bytes).toString("hex");
}

/** The config folder: GIGAREELS_CONFIG_DIR, else ~/.gigareels. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.GIGAREELS_CONFIG_DIR;
  if (fromEnv && fromEnv.trim() !== "") return fromEnv;
  return join(homedir(), ".gigareels");
}

/**
 * The per-user cache folder: GIGAREELS_CACHE_DIR, else the platform's (~/Library/Caches/gigareels,
 * %LOCALAPPDATA%\gigareels, $XDG_CACHE_HOME/gigareels or ~/.cache/gigareels). The same rule
 * as the V8 code cache in scripts/cli-loader.cjs (plain CommonJS, so it cannot import this).
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GIGAREELS_CACHE_DIR && env.GIGAREELS_CACHE_DIR.trim() !== "") return env.GIGAREELS_CACHE_DIR;
  const home = homedir();
  if (process.platform === "darwin") return join(home, "Library/Caches/gigareels");
  if (process.platform === "win32") return join(env.LOCALAPPDATA || join(home, "AppData/Local"), "gigareels");
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), "gigareels");
}

/**
 * Creates `dir` (and parents) and makes it 0700. An existing folder is tightened to 0700
 * too; returns true when its mode had to be changed (for a warning).
 */
export async function ensurePrivateDir(dir: string): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (process.platform === "win32") return false;
  const st = await stat(dir);
  if ((st.mode & 0o777) !== 0o700) {
    await chmod(dir, 0o700);
    return true;
  }
  return false;
}

export interface WriteAtomicOptions {
  /** File mode, applied with chmod after the write (a create mode is masked by umask). Default 0o600. */
  mode?: number;
  /**
   * fsync the file and its folder (default true). False for state that may be lost in a crash
   * but is written often (the rate-limit budget): still never a partial file, only not durable.
   */
  sync?: boolean;
}

/**
 * Writes `data` to `path` so readers see either the old or the new content, never a
 * partial file: a temporary file in the same folder, fsync, chmod, rename over `path`,
 * then fsync of the folder (both fsyncs skipped with `sync: false`). The folder must exist. If `path` is a symbolic link the link
 * itself is replaced (callers that must refuse links check with `lstat` first).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteAtomicOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${await randomHex(6)}.tmp`);
  let renamed = false;
  try {
    const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
    try {
      await fh.writeFile(data);
      if (options.sync !== false) await fh.sync();
      if (process.platform !== "win32") await fh.chmod(mode);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    renamed = true;
    if (process.platform !== "win32") await chmod(path, mode);
    if (options.sync !== false) await fsyncDir(dir);
  } finally {
    if (!renamed) await rm(tmp, { force: true }).catch(() => {});
  }
}

/**
 * Removes the temporary files that earlier writeFileAtomic calls on `path` left behind (a
 * process killed between create and rename): `.<name>.<pid>.<hex>.tmp` of a process that is
 * gone, or older than a minute. Call it under the lock that serialises the writers of `path`.
 * They may hold secrets (a credentials file), so they do not stay. Returns the removed paths.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    const file = join(dir, name);
    try {
      const st = await lstat(file);
      const old = Date.now() - st.mtimeMs > 60_000;
      if (!st.isFile() || (pid !== process.pid && pidAlive(pid) && !old)) continue;
      if (pid === process.pid && !old) continue;
      await unlink(file);
      removed.push(file);
    } catch {}
  }
  return removed;
}

async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  let fh: import("node:fs/promises").FileHandle | undefined;
  try {
    fh = await open(dir, fsc.O_RDONLY);
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a folder; the rename is still atomic.
  } finally {
    await fh?.close().catch(() => {});
  }
}

export type JsonReadResult<T = unknown> =
  | { kind: "missing" }
  | { kind: "ok"; value: T; text: string }
  | { kind: "corrupt"; text: string; error: string };

/** A file's text as JSON (a leading BOM ignored): ok, or corrupt with the parser's message. */
function parseJsonText<T>(text: string): JsonReadResult<T> {
  try {
    return { kind: "ok", value: JSON.parse(text.replace(/^\uFEFF/, "")) as T, text };
  } catch (err) {
    return { kind: "corrupt", text, error: (err as Error).message };
  }
}

/**
 * Reads and parses a JSON file. "missing" when it does not exist, "corrupt" when it is not
 * valid JSON (the text is returned so the caller can keep a copy). Other errors (EACCES,
 * EISDIR...) are thrown as they are.
 */
export async function readJsonFile<T = unknown>(path: string): Promise<JsonReadResult<T>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw err;
  }
  return parseJsonText<T>(text);
}

export interface FileLockOptions {
  /** Give up after this long (LockTimeoutError). Default 10 000 ms. */
  timeoutMs?: number;
  /** A lock older than this is considered abandoned and taken over. Default 30 000 ms. */
  staleMs?: number;
  /** Upper bound of one retry sleep (jittered). Default 50 ms. */
  maxSleepMs?: number;
}

interface LockInfo {
  pid: number;
  host: string;
  token: string;
  at: number;
}

/**
 * Runs `fn` while holding an inter-process lock on `lockPath` (a file created with
 * O_CREAT|O_EXCL holding {pid, host, token, at}). Waits with short jittered sleeps while
 * another process holds it. A lock is taken over at once when its holder (same host) is
 * dead, after 1 s when it is empty or unreadable (a writer that failed or died between create
 * and write), and when it is older than `staleMs`. A lock this call could not write (a full
 * disk) is removed before the error is thrown. The lock file is removed afterwards, only if it is
 * still ours. Not re-entrant: do not nest two withFileLock calls on the same path.
 * The folder of `lockPath` must exist.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T> | T,
  options: FileLockOptions = {},
): Promise<T> {
  const token = await acquireLock(lockPath, options);
  try {
    return await fn();
  } finally {
    await releaseLock(lockPath, token);
  }
}

async function acquireLock(lockPath: string, options: FileLockOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const maxSleep = Math.max(2, options.maxSleepMs ?? 50);
  const token = `${process.pid}-${await randomHex(8)}`;
  const deadline = Date.now() + timeoutMs;
  const info: LockInfo = { pid: process.pid, host: hostname(), token, at: Date.now() };
  for (;;) {
    try {
      const fh = await open(lockPath, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
      try {
        info.at = Date.now();
        await fh.writeFile(JSON.stringify(info));
      } catch (err) {
        // A full disk (ENOSPC, EDQUOT) fails the write after the create: an empty lock file
        // left behind would block every later writer, so it goes with the error.
        await fh.close().catch(() => {});
        await unlink(lockPath).catch(() => {});
        throw err;
      }
      await fh.close();
      return token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (await isStale(lockPath, staleMs)) {
      await breakStaleLock(lockPath, staleMs);
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(lockPath, timeoutMs);
    const ms = Math.min(maxSleep, 1 + Math.floor(Math.random() * maxSleep));
    await new Promise((r) => setTimeout(r, ms));
  }
}

async function readLockInfo(lockPath: string): Promise<LockInfo | null> {
  try {
    const v = JSON.parse(await readFile(lockPath, "utf8")) as Partial<LockInfo>;
    if (typeof v.pid === "number" && typeof v.token === "string") return v as LockInfo;
  } catch {}
  return null;
}

/** Whether a process with this id exists on this machine (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function isStale(lockPath: string, staleMs: number): Promise<boolean> {
  let mtime: number;
  try {
    mtime = (await lstat(lockPath)).mtimeMs;
  } catch {
    return false; // gone: the next attempt will take it
  }
  const info = await readLockInfo(lockPath);
  // Its holder is dead (same machine): taken over at once.
  if (info) return (info.host === hostname() && !pidAlive(info.pid)) || Date.now() - mtime > staleMs;
  // An empty or unreadable lock file: a holder between create and write (microseconds), or one
  // that failed to write it (a full disk) or died there. Stale after a short grace.
  return Date.now() - mtime > Math.min(staleMs, UNWRITTEN_LOCK_GRACE_MS);
}

/** How long an empty lock file is taken for a holder about to write it. */
const UNWRITTEN_LOCK_GRACE_MS = 1_000;

/**
 * Removes a stale lock. Breakers serialise on a second lock file (`<lock>.break`, held for
 * microseconds) and check again under it that the lock is still the same stale one, so two
 * processes breaking at once cannot delete a lock freshly taken by a third.
 */
async function breakStaleLock(lockPath: string, staleMs: number): Promise<void> {
  const before = await readLockInfo(lockPath);
  const breakPath = `${lockPath}.break`;
  let fh: import("node:fs/promises").FileHandle;
  try {
    fh = await open(breakPath, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // Another process is breaking it. A break lock left by a crashed process is removed by age.
    try {
      if (Date.now() - (await lstat(breakPath)).mtimeMs > 5_000) await unlink(breakPath);
    } catch {}
    await new Promise((r) => setTimeout(r, 2));
    return;
  }
  try {
    await fh.close();
    const now = await readLockInfo(lockPath);
    const same = (before?.token ?? null) === (now?.token ?? null);
    if (same && (await isStale(lockPath, staleMs))) await unlink(lockPath).catch(() => {});
  } finally {
    await unlink(breakPath).catch(() => {});
  }
}

async function releaseLock(lockPath: string, token: string): Promise<void> {
  const info = await readLockInfo(lockPath);
  if (info?.token === token) await unlink(lockPath).catch(() => {});
}

/**
 * writeFileAtomic without fsync, in synchronous calls (for withSyncFileLock): a temporary file
 * in the same folder, chmod, rename over `path`. Never a partial file; not durable (a power
 * loss may bring back the previous content).
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${syncHex()}.tmp`);
  let renamed = false;
  try {
    const fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
    try {
      const buf = typeof data === "string" ? Buffer.from(data) : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      if (process.platform !== "win32") fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) rmSync(tmp, { force: true });
  }
}

/** readJsonFile in one synchronous call. */
export function readJsonFileSync<T = unknown>(path: string): JsonReadResult<T> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "missing" };
    throw err;
  }
  return parseJsonText<T>(text);
}

let syncCounter = 0;
/** A unique-enough hex name part without loading node:crypto (names only, never secrets). */
function syncHex(): string {
  syncCounter = (syncCounter + 1) % 0x10000;
  return `${Math.floor(Math.random() * 0xffffffff).toString(16)}${syncCounter.toString(16)}`;
}

/**
 * withFileLock for a SYNCHRONOUS critical section (`fn` must not await): every attempt to
 * take the lock, `fn` and the release run in one turn of the event loop with synchronous
 * calls, so the lock is held for the time of a few system calls (well under a millisecond)
 * and a process never holds it while its event loop is busy elsewhere. Between attempts it
 * sleeps 1 to `maxSleepMs` ms (default 4). Same lock file format and stale rules as
 * withFileLock, so both may serve one lock path.
 */
export async function withSyncFileLock<T>(
  lockPath: string,
  fn: () => T,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const maxSleep = Math.max(1, options.maxSleepMs ?? 4);
  const host = hostname();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const token = `${process.pid}-${syncHex()}`;
    if (tryLockSync(lockPath, { pid: process.pid, host, token, at: Date.now() })) {
      try {
        return fn();
      } finally {
        const info = readLockInfoSync(lockPath);
        if (info?.token === token) {
          try {
            unlinkSync(lockPath);
          } catch {}
        }
      }
    }
    // a stale lock is broken and retried at once, unless another process is breaking it
    if (isStaleSync(lockPath, staleMs) && breakStaleLockSync(lockPath, staleMs)) continue;
    if (Date.now() >= deadline) throw new LockTimeoutError(lockPath, timeoutMs);
    await new Promise((r) => setTimeout(r, 1 + Math.floor(Math.random() * maxSleep)));
  }
}

/** Creates the lock file holding `info`; false when it exists. */
function tryLockSync(lockPath: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(info));
  } catch (err) {
    // a full disk: no empty lock left behind (see acquireLock)
    closeSync(fd);
    try {
      unlinkSync(lockPath);
    } catch {}
    throw err;
  }
  closeSync(fd);
  return true;
}

function readLockInfoSync(lockPath: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(lockPath, "utf8")) as Partial<LockInfo>;
    if (typeof v.pid === "number" && typeof v.token === "string") return v as LockInfo;
  } catch {}
  return null;
}

/** isStale in synchronous calls. */
function isStaleSync(lockPath: string, staleMs: number): boolean {
  let mtime: number;
  try {
    mtime = lstatSync(lockPath).mtimeMs;
  } catch {
    return false;
  }
  const info = readLockInfoSync(lockPath);
  if (info) return (info.host === hostname() && !pidAlive(info.pid)) || Date.now() - mtime > staleMs;
  return Date.now() - mtime > Math.min(staleMs, UNWRITTEN_LOCK_GRACE_MS);
}

/** breakStaleLock in synchronous calls (the same `<lock>.break` protocol); false when another process is breaking it. */
function breakStaleLockSync(lockPath: string, staleMs: number): boolean {
  const before = readLockInfoSync(lockPath);
  const breakPath = `${lockPath}.break`;
  let fd: number;
  try {
    fd = openSync(breakPath, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    try {
      if (Date.now() - lstatSync(breakPath).mtimeMs > 5_000) unlinkSync(breakPath);
    } catch {}
    return false;
  }
  try {
    closeSync(fd);
    const now = readLockInfoSync(lockPath);
    if ((before?.token ?? null) === (now?.token ?? null) && isStaleSync(lockPath, staleMs)) {
      try {
        unlinkSync(lockPath);
      } catch {}
    }
  } finally {
    try {
      unlinkSync(breakPath);
    } catch {}
  }
  return true;
}
