/**
 * The key's request budget, shared by every process that uses the key on this machine
 * (watchers, `render`, `render --wait`, `render batch`: status polls and render creations),
 * through a small JSON file under the config folder:
 * `<configDir>/state/ratelimit-<sha256(key) prefix>.json` (never the key itself),
 * read, modified and written under `withSyncFileLock` (the whole transaction in synchronous
 * calls within one turn of the event loop: the lock is held for well under a millisecond).
 *
 *   const budget = new SharedBudget(apiKey);
 *   await budget.acquire("render", { signal });   // returns when a request may be sent
 *   const res = await send();
 *   await budget.observe("render", { rateLimit, retryAfterMs }); // what the server said
 *
 * Per endpoint group ("status", "render") the file holds the requests sent (windows.ts: a
 * sliding minute, hour and day kept at 90 % of the published limits), the freshest
 * X-RateLimit-* headers, and a server-asked pause (a 429's Retry-After: nobody sends before
 * it ends). It also lists the active watchers (an id, the pid, and until when the entry
 * counts, so one that died or hung is dropped), which the scheduler splits the budget between.
 *
 * Writes are atomic (never a partial file) but not fsynced: the file is rewritten on every
 * request, and a crash may lose a few seconds of history, which the headroom absorbs. A
 * missing or corrupt file starts fresh; a folder we cannot write makes this process work
 * alone with what it knows itself.
 */
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  configDir,
  ensurePrivateDir,
  pidAlive,
  readJsonFileSync,
  withSyncFileLock,
  writeFileAtomicSync,
} from "../../fs/index.js";
import { AbortedError } from "../errors.js";
import type { RateLimitSnapshot } from "./scheduler.js";
import {
  type BudgetGroup,
  emptyUsage,
  GROUP_LIMITS,
  paceFor,
  pruneUsage,
  recordRequest,
  roomFor,
  sanitizeUsage,
  type UsageLog,
  usageAt,
  type WindowLimits,
  windowLengths,
  type WindowName,
} from "./windows.js";

export type { BudgetGroup, WindowName } from "./windows.js";

export const BUDGET_FILE_VERSION = 2;
/** An entry counts for this long past the watcher's next planned poll. */
export const WATCHER_GRACE_MS = 60_000;
const GROUPS: readonly BudgetGroup[] = ["status", "render"];

interface WatcherEntry {
  pid: number;
  host: string;
  /** Local epoch ms until which this watcher counts as active. */
  until: number;
}

/** What the file knows of one endpoint group. */
export interface GroupState {
  usage: UsageLog;
  /** The freshest X-RateLimit-* headers seen by any process. */
  rateLimit?: RateLimitSnapshot & { observedAt: number };
  /** Local epoch ms before which nobody sends (a 429's Retry-After). */
  blockedUntil?: number;
}

export interface BudgetFile {
  version: number;
  watchers: Record<string, WatcherEntry>;
  groups: Partial<Record<BudgetGroup, GroupState>>;
}

/** What a watcher learns from the shared file. */
export interface BudgetView {
  /** Active watchers of the key, this one included (>= 1). */
  watchers: number;
  /** The freshest status rate-limit headers seen by any watcher, if any. */
  rateLimit?: RateLimitSnapshot;
  /** Times of the status requests of the last minute (all processes). */
  recentRequests: number[];
  /** Status requests in each sliding window. */
  used: Record<WindowName, number>;
  /**
   * The shortest interval per watcher the hourly and daily status windows allow now (0 while
   * both are less than half used), and which window sets it.
   */
  pace: { floorMs: number; window: WindowName | null };
  /** False when the file could not be used (unwritable folder, lock trouble): working alone. */
  shared: boolean;
}

/** What `acquire` returns once the request may go. */
export interface Grant {
  /** Local epoch ms the request was recorded at. */
  at: number;
  /** How long acquire waited, ms. */
  waitedMs: number;
  shared: boolean;
}

/** Why and how long `acquire` waits (its onWait callback). */
export interface BudgetWait {
  waitMs: number;
  /** The window that is full, "server" for a server-asked pause or headers saying none are left. */
  reason: WindowName | "server";
  /** Local epoch ms of the next try. */
  until: number;
}

export interface SharedBudgetOptions {
  /** Default: configDir(). */
  dir?: string;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
  /** Abortable sleep, for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1), for the spread of waits. Default Math.random. */
  random?: () => number;
  /** How long to wait for the lock before working alone this round. Default 2 000 ms. */
  lockTimeoutMs?: number;
  /** The length of the limits' minute (tests shorten it; hour and day follow). Default 60 000. */
  minuteMs?: number;
  /** The limits per group. Default: the published ones. */
  limits?: Partial<Record<BudgetGroup, WindowLimits>>;
}

/**
 * The state file of a key: a hash prefix names it, never the key. A server whose minute is
 * not 60 s (an emulator started with --rate-limit-minute) gets a file of its own,
 * `ratelimit-<hash>-m<ms>.json`: every window length in a file is that of its name, so a
 * process with another minute never prunes or misreads its history.
 */
export function budgetFilePath(apiKey: string, dir: string = configDir(), minuteMs = 60_000): string {
  const digest = createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
  const suffix = minuteMs === 60_000 ? "" : `-m${minuteMs}`;
  return join(dir, "state", `ratelimit-${digest}${suffix}.json`);
}

function emptyFile(): BudgetFile {
  return { version: BUDGET_FILE_VERSION, watchers: {}, groups: {} };
}

function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function sanitizeSnapshot(value: unknown): (RateLimitSnapshot & { observedAt: number }) | undefined {
  const rl = value as Partial<RateLimitSnapshot> | undefined;
  if (!rl || typeof rl !== "object" || !isNum(rl.observedAt)) return undefined;
  const n = (x: unknown) => (isNum(x) ? x : null);
  return {
    limit: n(rl.limit),
    remaining: n(rl.remaining),
    resetAt: n(rl.resetAt),
    observedAt: rl.observedAt,
  };
}

/** Keeps what is well-formed in a parsed file (version 1 files: their status part); anything else starts fresh. */
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
  const groups = (v.groups && typeof v.groups === "object" ? v.groups : {}) as Record<string, unknown>;
  for (const g of GROUPS) {
    const raw = groups[g] as Record<string, unknown> | undefined;
    if (!raw || typeof raw !== "object") continue;
    const state: GroupState = { usage: sanitizeUsage(raw.usage) };
    const rl = sanitizeSnapshot(raw.rateLimit);
    if (rl) state.rateLimit = rl;
    if (isNum(raw.blockedUntil)) state.blockedUntil = raw.blockedUntil;
    out.groups[g] = state;
  }
  // version 1: status request times and headers at the top level
  if (!out.groups.status && (Array.isArray(v.recent) || v.rateLimit)) {
    const state: GroupState = { usage: sanitizeUsage({ recent: v.recent }) };
    const rl = sanitizeSnapshot(v.rateLimit);
    if (rl) state.rateLimit = rl;
    out.groups.status = state;
  }
  return out;
}

/** Drops watchers whose entry expired or whose process is gone, and history no window sees. */
export function pruneBudgetFile(
  file: BudgetFile,
  now: number,
  host: string = hostname(),
  minuteMs = 60_000,
): BudgetFile {
  for (const [id, w] of Object.entries(file.watchers)) {
    if (w.until < now || (w.host === host && !pidAlive(w.pid))) delete file.watchers[id];
  }
  for (const g of GROUPS) {
    const s = file.groups[g];
    if (!s) continue;
    pruneUsage(s.usage, now, minuteMs);
    if (s.rateLimit && s.rateLimit.resetAt !== null && s.rateLimit.resetAt < now - 3_600_000)
      delete s.rateLimit;
    if (s.blockedUntil !== undefined && s.blockedUntil < now) delete s.blockedUntil;
  }
  return file;
}

/**
 * The wait before a request of `group` may go, from what the file knows at `now`: room
 * under every window's cap, a server-asked pause, and the server's own count (X-RateLimit-
 * Remaining less the requests sent since it was seen) for traffic we do not see.
 */
export function waitBeforeSend(
  state: GroupState | undefined,
  now: number,
  limits: WindowLimits,
  minuteMs = 60_000,
): { waitMs: number; reason: WindowName | "server" | null } {
  if (!state) return { waitMs: 0, reason: null };
  const room = roomFor(state.usage, now, limits, minuteMs);
  let best: { waitMs: number; reason: WindowName | "server" | null } = {
    waitMs: room.waitMs,
    reason: room.window,
  };
  // A server's pause counts for at most an hour of this server's clock (a bogus reset or
  // Retry-After years ahead must not stop every process of the key for good): after that, one
  // request asks again and its answer says more.
  const maxPause = windowLengths(minuteMs).hour;
  const server = (ms: number) => {
    const capped = Math.min(ms, maxPause);
    if (capped > best.waitMs) best = { waitMs: Math.ceil(capped), reason: "server" };
  };
  if (state.blockedUntil !== undefined) server(state.blockedUntil - now);
  const rl = state.rateLimit;
  // headers older than that maximum pause no longer hold anyone back (their reset was bogus)
  if (
    rl &&
    rl.remaining !== null &&
    rl.resetAt !== null &&
    rl.resetAt > now &&
    now - rl.observedAt < maxPause
  ) {
    const sentSince = state.usage.recent.filter((t) => t > rl.observedAt).length;
    if (rl.remaining - sentSince <= 0) server(rl.resetAt - now);
  }
  return best;
}

export interface BudgetUpdate {
  /** Until when this watcher should count as active (its next poll); default now. */
  nextPollAt?: number;
  /** Status rate-limit headers from the answer just received. */
  rateLimit?: RateLimitSnapshot;
  /** A status request was sent at this local time without `acquire` (recorded). */
  requestAt?: number;
  /** This watcher stops (done, failed, aborted). */
  leave?: boolean;
}

const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError("Aborted"));
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(new AbortedError("Aborted"));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/**
 * One process's handle on the shared budget of a key. `acquire` before each request of a
 * group, `observe` with what the answer said; watchers also `update` around each poll and
 * `leave` at the end.
 */
export class SharedBudget {
  readonly id: string;
  readonly path: string;
  readonly minuteMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly lockTimeoutMs: number;
  private readonly dir: string;
  private readonly limits: Record<BudgetGroup, WindowLimits>;
  /** What this process knows by itself, for when the file cannot be used. */
  private own: BudgetFile = emptyFile();
  private broken = false;
  private dirReady = false;

  constructor(apiKey: string, options: SharedBudgetOptions = {}) {
    this.dir = options.dir ?? configDir();
    this.minuteMs = validMinute(options.minuteMs);
    this.path = budgetFilePath(apiKey, this.dir, this.minuteMs);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 2_000;
    this.limits = { ...GROUP_LIMITS, ...options.limits };
    this.id = `${process.pid}-${randomBytes(4).toString("hex")}`;
  }

  /** The limits used for `group`. */
  limitsOf(group: BudgetGroup): WindowLimits {
    return this.limits[group];
  }

  /**
   * Returns when a request of `group` may be sent without passing 90 % of any window, a
   * server-asked pause, or the server's count, and records it as sent (call it right before
   * sending). Waits in between, each wait spread a little so processes do not come back in
   * the same millisecond; `onWait` hears of every wait. The signal aborts the wait
   * (AbortedError). Never fails for file trouble (it works alone then).
   */
  async acquire(
    group: BudgetGroup,
    options: {
      signal?: AbortSignal;
      onWait?: (wait: BudgetWait) => void;
      /**
       * A watcher's update made in the same transaction (one file write per poll): `watch`
       * registers it until `nextPollAt` and merges the headers it last saw; the grant then
       * carries the view `update` would return.
       */
      watch?: BudgetUpdate;
    } = {},
  ): Promise<Grant & { view?: BudgetView }> {
    const start = this.now();
    for (;;) {
      if (options.signal?.aborted) throw new AbortedError("Aborted");
      const r = await this.transact((file, now) => {
        const watched = options.watch ? this.applyUpdate(file, now, options.watch) : false;
        const state = groupOf(file, group);
        const w = waitBeforeSend(state, now, this.limits[group], this.minuteMs);
        if (w.waitMs > 0) return { write: watched, value: { ...w, at: now, view: undefined } };
        recordRequest(state.usage, now, this.minuteMs);
        const view = options.watch ? this.viewOf(file, now, false) : undefined;
        return { write: true, value: { ...w, at: now, view } };
      });
      if (r.value.waitMs <= 0)
        return {
          at: r.value.at,
          waitedMs: r.value.at - start,
          shared: r.shared,
          ...(r.value.view ? { view: { ...r.value.view, shared: r.shared } } : {}),
        };
      // Spread: up to a quarter of the wait, at most 2 s, so waiters do not collide on the lock.
      const spread = Math.floor(this.random() * Math.min(2_000, Math.max(20, r.value.waitMs / 4)));
      const waitMs = r.value.waitMs + spread;
      try {
        options.onWait?.({ waitMs, reason: r.value.reason ?? "minute", until: r.value.at + waitMs });
      } catch {
        // a listener's failure does not stop the wait
      }
      await this.sleep(waitMs, options.signal);
    }
  }

  /**
   * What the server said about a request of `group`: its X-RateLimit-* headers, and for a
   * 429 (or 503) its Retry-After, which pauses every process of the key at least that long.
   * Never throws.
   */
  async observe(
    group: BudgetGroup,
    info: { rateLimit?: RateLimitSnapshot; retryAfterMs?: number },
  ): Promise<void> {
    await this.transact((file, now) => {
      const state = groupOf(file, group);
      mergeSnapshot(state, info.rateLimit, now);
      if (info.retryAfterMs !== undefined && info.retryAfterMs > 0)
        state.blockedUntil = Math.max(
          state.blockedUntil ?? 0,
          now + Math.min(info.retryAfterMs, windowLengths(this.minuteMs).hour),
        );
      return { write: true, value: undefined };
    });
  }

  /** Registers this watcher (status group), records what happened, returns what all watchers know. Never throws. */
  async update(change: BudgetUpdate = {}): Promise<BudgetView> {
    const r = await this.transact((file, now) => {
      this.applyUpdate(file, now, change);
      return { write: true, value: this.viewOf(file, now, change.leave ?? false) };
    });
    return { ...r.value, shared: r.shared };
  }

  /** Applies a watcher's update to the file; true (it always changes the file). */
  private applyUpdate(file: BudgetFile, now: number, change: BudgetUpdate): boolean {
    if (change.leave) delete file.watchers[this.id];
    else
      file.watchers[this.id] = {
        pid: process.pid,
        host: hostname(),
        until: Math.max(now, change.nextPollAt ?? now) + WATCHER_GRACE_MS,
      };
    const state = groupOf(file, "status");
    mergeSnapshot(state, change.rateLimit, now);
    if (change.requestAt !== undefined) recordRequest(state.usage, change.requestAt, this.minuteMs);
    return true;
  }

  /** What all watchers of the key know (status group). */
  private viewOf(file: BudgetFile, now: number, leaving: boolean): Omit<BudgetView, "shared"> {
    const state = groupOf(file, "status");
    const watchers = Math.max(1, Object.keys(file.watchers).length + (leaving ? 1 : 0));
    return {
      watchers,
      rateLimit: state.rateLimit,
      recentRequests: [...state.usage.recent],
      used: usageAt(state.usage, now, this.minuteMs),
      pace: paceFor(state.usage, now, this.limits.status, watchers, this.minuteMs),
    };
  }

  /** Removes this watcher from the file. Never throws. */
  async leave(): Promise<void> {
    await this.update({ leave: true });
  }

  /**
   * Runs `fn` on the file under its lock (and writes it back when asked), or on this
   * process's own copy when the file cannot be used.
   */
  private async transact<T>(
    fn: (file: BudgetFile, now: number) => { write: boolean; value: T },
  ): Promise<{ value: T; shared: boolean }> {
    const alone = () => {
      const now = this.now();
      pruneBudgetFile(this.own, now, hostname(), this.minuteMs);
      return { value: fn(this.own, now).value, shared: false };
    };
    if (this.broken) return alone();
    try {
      if (!this.dirReady) {
        try {
          await ensurePrivateDir(join(this.dir, "state"));
          this.dirReady = true;
        } catch {
          this.broken = true;
          return alone();
        }
      }
      const value = await withSyncFileLock(
        `${this.path}.lock`,
        () => {
          let file: BudgetFile;
          try {
            const r = readJsonFileSync(this.path);
            file = r.kind === "ok" ? sanitizeBudgetFile(r.value) : emptyFile();
          } catch {
            file = emptyFile(); // EISDIR, EACCES on read: start fresh (the write will tell)
          }
          const now = this.now();
          pruneBudgetFile(file, now, hostname(), this.minuteMs);
          const out = fn(file, now);
          if (out.write) {
            try {
              writeFileAtomicSync(this.path, `${JSON.stringify(file)}\n`, 0o600);
            } catch (err) {
              this.broken = true;
              throw err;
            }
            this.own = file; // the latest shared view, should the file go away
          }
          return out.value;
        },
        { timeoutMs: this.lockTimeoutMs, staleMs: 10_000 },
      );
      return { value, shared: true };
    } catch {
      // Unwritable file, lock held too long, full disk...: work alone this time (a lock
      // timeout is worth another try next time).
      return alone();
    }
  }
}

/** A minute length in whole ms, at least 1 ms; 60 000 when missing or not a number. */
function validMinute(ms: number | undefined): number {
  return ms !== undefined && Number.isFinite(ms) && ms >= 1 ? Math.round(ms) : 60_000;
}

/** The group's state in the file, created empty when missing. */
function groupOf(file: BudgetFile, group: BudgetGroup): GroupState {
  let state = file.groups[group];
  if (!state) {
    state = { usage: emptyUsage() };
    file.groups[group] = state;
  }
  return state;
}

function mergeSnapshot(state: GroupState, rl: RateLimitSnapshot | undefined, now: number): void {
  if (!rl) return;
  const observedAt = rl.observedAt ?? now;
  if (!state.rateLimit || observedAt >= state.rateLimit.observedAt) {
    state.rateLimit = { limit: rl.limit, remaining: rl.remaining, resetAt: rl.resetAt, observedAt };
  }
}
