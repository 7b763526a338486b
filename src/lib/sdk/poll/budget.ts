/**
 * What the processes watching renders with the same API key know of its status budget,
 * shared through a small JSON file under the config folder:
 * `<configDir>/state/ratelimit-<sha256(key) prefix>.json` (never the key itself), read,
 * modified and written under `withFileLock`.
 *
 * It records the active watchers (an id, the pid, and until when the entry counts, so a
 * watcher that died or hung is dropped), the freshest X-RateLimit-* headers seen by any of
 * them, and the times of the status requests of the last minute. A missing or corrupt file
 * starts fresh; a folder we cannot write makes this watcher work alone (it still knows its
 * own headers and requests).
 */
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  configDir,
  ensurePrivateDir,
  pidAlive,
  readJsonFile,
  withFileLock,
  writeFileAtomic,
} from "../../fs/index.js";
import type { RateLimitSnapshot } from "./scheduler.js";

export const BUDGET_FILE_VERSION = 1;
/** An entry counts for this long past the watcher's next planned poll. */
export const WATCHER_GRACE_MS = 60_000;
/** Request times older than this are dropped from the file. */
export const RECENT_WINDOW_MS = 65_000;
/** At most this many request times are kept (a bound on the file size). */
const MAX_RECENT = 200;

interface WatcherEntry {
  pid: number;
  host: string;
  /** Local epoch ms until which this watcher counts as active. */
  until: number;
}

export interface BudgetFile {
  version: number;
  watchers: Record<string, WatcherEntry>;
  rateLimit?: RateLimitSnapshot & { observedAt: number };
  /** Local epoch ms of the status requests sent with this key recently, by any watcher. */
  recent: number[];
}

/** What a watcher learns from the shared file. */
export interface BudgetView {
  /** Active watchers of the key, this one included (>= 1). */
  watchers: number;
  /** The freshest rate-limit headers seen by any watcher, if any. */
  rateLimit?: RateLimitSnapshot;
  /** Times of the status requests sent with this key recently (all watchers). */
  recentRequests: number[];
  /** False when the file could not be used (unwritable folder, lock trouble): working alone. */
  shared: boolean;
}

export interface SharedBudgetOptions {
  /** Default: configDir(). */
  dir?: string;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** How long to wait for the lock before working alone this round. Default 2 000 ms. */
  lockTimeoutMs?: number;
}

/** The state file of a key: a hash prefix names it, never the key. */
export function budgetFilePath(apiKey: string, dir: string = configDir()): string {
  const digest = createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
  return join(dir, "state", `ratelimit-${digest}.json`);
}

function emptyFile(): BudgetFile {
  return { version: BUDGET_FILE_VERSION, watchers: {}, recent: [] };
}

function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Keeps what is well-formed in a parsed file; anything else starts fresh. */
export function sanitizeBudgetFile(value: unknown): BudgetFile {
  const out = emptyFile();
  if (!value || typeof value !== "object") return out;
  const v = value as Record<string, unknown>;
  if (v.watchers && typeof v.watchers === "object") {
    for (const [id, e] of Object.entries(v.watchers as Record<string, unknown>)) {
      const w = e as Partial<WatcherEntry> | null;
      if (w && isNum(w.pid) && isNum(w.until) && typeof w.host === "string") {
        out.watchers[id] = { pid: w.pid, host: w.host, until: w.until };
      }
    }
  }
  const rl = v.rateLimit as Partial<RateLimitSnapshot> | undefined;
  if (rl && typeof rl === "object" && isNum(rl.observedAt)) {
    const n = (x: unknown) => (isNum(x) ? x : null);
    out.rateLimit = {
      limit: n(rl.limit),
      remaining: n(rl.remaining),
      resetAt: n(rl.resetAt),
      observedAt: rl.observedAt,
    };
  }
  if (Array.isArray(v.recent)) out.recent = v.recent.filter(isNum);
  return out;
}

/** Drops watchers whose entry expired or whose process is gone, and old request times. */
export function pruneBudgetFile(file: BudgetFile, now: number, host: string = hostname()): BudgetFile {
  for (const [id, w] of Object.entries(file.watchers)) {
    if (w.until < now || (w.host === host && !pidAlive(w.pid))) delete file.watchers[id];
  }
  file.recent = file.recent.filter((t) => t > now - RECENT_WINDOW_MS && t <= now + 5_000).slice(-MAX_RECENT);
  if (file.rateLimit && file.rateLimit.resetAt !== null && file.rateLimit.resetAt < now - 3_600_000) {
    delete file.rateLimit;
  }
  return file;
}

export interface BudgetUpdate {
  /** Until when this watcher should count as active (its next poll); default now. */
  nextPollAt?: number;
  /** Rate-limit headers from the answer just received. */
  rateLimit?: RateLimitSnapshot;
  /** A status request was just sent (at this local time). */
  requestAt?: number;
  /** This watcher stops (done, failed, aborted). */
  leave?: boolean;
}

/**
 * One watcher's handle on the shared budget of a key. Create one per followed render;
 * call `update` around each poll and `leave` at the end.
 */
export class SharedBudget {
  readonly id: string;
  readonly path: string;
  private readonly now: () => number;
  private readonly lockTimeoutMs: number;
  private readonly dir: string;
  /** What this watcher knows by itself, for when the file cannot be used. */
  private own: { rateLimit?: RateLimitSnapshot; recent: number[] } = { recent: [] };
  private broken = false;

  constructor(apiKey: string, options: SharedBudgetOptions = {}) {
    this.dir = options.dir ?? configDir();
    this.path = budgetFilePath(apiKey, this.dir);
    this.now = options.now ?? Date.now;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 2_000;
    this.id = `${process.pid}-${randomBytes(4).toString("hex")}`;
  }

  /** Records what happened and returns what all watchers of the key know. Never throws. */
  async update(change: BudgetUpdate = {}): Promise<BudgetView> {
    const now = this.now();
    if (change.rateLimit)
      this.own.rateLimit = { ...change.rateLimit, observedAt: change.rateLimit.observedAt ?? now };
    if (change.requestAt !== undefined) this.own.recent.push(change.requestAt);
    this.own.recent = this.own.recent.filter((t) => t > now - RECENT_WINDOW_MS).slice(-MAX_RECENT);
    const alone: BudgetView = {
      watchers: 1,
      rateLimit: this.own.rateLimit,
      recentRequests: [...this.own.recent],
      shared: false,
    };
    if (this.broken) return alone;
    try {
      return await this.readModifyWrite(now, change);
    } catch {
      // Unwritable folder, lock held too long, full disk...: work alone from now on, but a
      // lock timeout is worth another try next time.
      return alone;
    }
  }

  /** Removes this watcher from the file. Never throws. */
  async leave(): Promise<void> {
    await this.update({ leave: true });
  }

  private async readModifyWrite(now: number, change: BudgetUpdate): Promise<BudgetView> {
    const stateDir = join(this.dir, "state");
    try {
      await ensurePrivateDir(stateDir);
    } catch {
      this.broken = true;
      throw new Error("state folder not writable");
    }
    return withFileLock(
      `${this.path}.lock`,
      async () => {
        let file: BudgetFile;
        try {
          const r = await readJsonFile(this.path);
          file = r.kind === "ok" ? sanitizeBudgetFile(r.value) : emptyFile();
        } catch {
          file = emptyFile(); // EISDIR, EACCES on read: start fresh (the write will tell)
        }
        pruneBudgetFile(file, now);
        if (change.leave) delete file.watchers[this.id];
        else {
          file.watchers[this.id] = {
            pid: process.pid,
            host: hostname(),
            until: Math.max(now, change.nextPollAt ?? now) + WATCHER_GRACE_MS,
          };
        }
        const rl = change.rateLimit;
        if (rl) {
          const observedAt = rl.observedAt ?? now;
          if (!file.rateLimit || observedAt >= file.rateLimit.observedAt) {
            file.rateLimit = { limit: rl.limit, remaining: rl.remaining, resetAt: rl.resetAt, observedAt };
          }
        }
        if (change.requestAt !== undefined) {
          file.recent.push(change.requestAt);
          file.recent.sort((a, b) => a - b);
          file.recent = file.recent.slice(-MAX_RECENT);
        }
        try {
          await writeFileAtomic(this.path, `${JSON.stringify(file)}\n`, { mode: 0o600 });
        } catch (err) {
          this.broken = true;
          throw err;
        }
        return {
          watchers: Math.max(1, Object.keys(file.watchers).length + (change.leave ? 1 : 0)),
          rateLimit: file.rateLimit,
          recentRequests: [...file.recent],
          shared: true,
        };
      },
      { timeoutMs: this.lockTimeoutMs, staleMs: 10_000 },
    );
  }
}
