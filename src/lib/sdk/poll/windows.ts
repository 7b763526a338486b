/**
 * The key's request budget per endpoint group as PURE functions of a usage log (no clock, no
 * I/O), so tests follow a day of requests in simulated time. budget.ts keeps one log per
 * group in the shared state file and calls these under its lock.
 *
 * The published limits are fixed windows (a minute, an hour, a day) whose start we cannot
 * see. We count in SLIDING windows instead: when every interval of a window's length holds
 * at most `cap` requests, so does any fixed window of that length, wherever it starts. The
 * cap keeps 10 % headroom under each published limit (rounding, clock drift, a request the
 * file lost in a crash).
 *
 * The log is exact for the minute (request times) and bucketed for the hour (1/6 minute
 * buckets) and the day (5-minute buckets), so it stays small; a bucket counts for the whole
 * window as long as any part of it is inside, which only errs on the safe side.
 */

/** The endpoint groups whose requests share a budget across processes. */
export type BudgetGroup = "status" | "render";
export type WindowName = "minute" | "hour" | "day";

export interface WindowLimits {
  minute: number;
  hour: number;
  day: number;
}

/** The published per-key limits (gigareels-api.md, part A). */
export const GROUP_LIMITS: Record<BudgetGroup, WindowLimits> = {
  render: { minute: 10, hour: 100, day: 1000 },
  status: { minute: 60, hour: 1000, day: 10000 },
};

/** The share of each published limit we allow ourselves: 10 % headroom. */
export const HEADROOM_SHARE = 0.9;

export const WINDOWS: readonly WindowName[] = ["minute", "hour", "day"];

/** Window lengths for a minute of `minuteMs` (tests shorten it; the hour and the day follow). */
export function windowLengths(minuteMs = 60_000): Record<WindowName, number> {
  return { minute: minuteMs, hour: minuteMs * 60, day: minuteMs * 1440 };
}

function bucketMs(window: "hour" | "day", minuteMs: number): number {
  return window === "hour" ? minuteMs / 6 : minuteMs * 5;
}

/** The requests we allow ourselves in a window of the published `limit`: 90 %, at least 1. */
export function capOf(limit: number): number {
  return Math.max(1, Math.floor(limit * HEADROOM_SHARE));
}

/** What a group's requests have been: exact times for the minute, [start, count] buckets for longer. */
export interface UsageLog {
  /** Local epoch ms of the requests of the last minute, ascending. */
  recent: number[];
  /** [bucket start, requests] for the last hour, ascending. */
  hour: [number, number][];
  /** [bucket start, requests] for the last day, ascending. */
  day: [number, number][];
}

export function emptyUsage(): UsageLog {
  return { recent: [], hour: [], day: [] };
}

/** Drops what no window can still see at `now`. */
export function pruneUsage(log: UsageLog, now: number, minuteMs = 60_000): UsageLog {
  const len = windowLengths(minuteMs);
  log.recent = log.recent.filter((t) => t > now - len.minute - 1_000);
  const hb = bucketMs("hour", minuteMs);
  const db = bucketMs("day", minuteMs);
  log.hour = log.hour.filter(([s]) => s + hb > now - len.hour);
  log.day = log.day.filter(([s]) => s + db > now - len.day);
  return log;
}

function addToBuckets(buckets: [number, number][], t: number, size: number): void {
  const start = Math.floor(t / size) * size;
  const i = buckets.findIndex(([s]) => s === start);
  if (i >= 0) buckets[i]![1]++;
  else {
    buckets.push([start, 1]);
    buckets.sort((a, b) => a[0] - b[0]);
  }
}

/** Records one request sent at `t`. */
export function recordRequest(log: UsageLog, t: number, minuteMs = 60_000): UsageLog {
  log.recent.push(t);
  log.recent.sort((a, b) => a - b);
  addToBuckets(log.hour, t, bucketMs("hour", minuteMs));
  addToBuckets(log.day, t, bucketMs("day", minuteMs));
  return log;
}

/** Requests counted in each sliding window ending at `now`. */
export function usageAt(log: UsageLog, now: number, minuteMs = 60_000): Record<WindowName, number> {
  const len = windowLengths(minuteMs);
  const sum = (b: [number, number][], size: number, L: number) =>
    b.reduce((n, [s, c]) => (s + size > now - L && s <= now ? n + c : n), 0);
  return {
    minute: log.recent.filter((t) => t > now - len.minute && t <= now).length,
    hour: sum(log.hour, bucketMs("hour", minuteMs), len.hour),
    day: sum(log.day, bucketMs("day", minuteMs), len.day),
  };
}

export interface Room {
  /** 0: a request may go now; else how long until every window has room for one, ms. */
  waitMs: number;
  /** The window that imposes the wait (null when there is room). */
  window: WindowName | null;
}

/**
 * When one more request fits under the cap of every window (no request sent meanwhile).
 * Each window's count only falls as time passes, so the answer is the latest of the windows'.
 */
export function roomFor(log: UsageLog, now: number, limits: WindowLimits, minuteMs = 60_000): Room {
  const len = windowLengths(minuteMs);
  let best: Room = { waitMs: 0, window: null };
  const consider = (w: WindowName, waitMs: number) => {
    if (waitMs > best.waitMs) best = { waitMs: Math.ceil(waitMs), window: w };
  };
  // minute: exact times; after the (n - cap)-th oldest leaves, cap - 1 remain
  const cap = capOf(limits.minute);
  const inMinute = log.recent.filter((t) => t > now - len.minute && t <= now);
  if (inMinute.length >= cap) consider("minute", inMinute[inMinute.length - cap]! + len.minute - now + 1);
  for (const w of ["hour", "day"] as const) {
    const size = bucketMs(w, minuteMs);
    const inside = log[w].filter(([s]) => s + size > now - len[w] && s <= now);
    let count = inside.reduce((n, [, c]) => n + c, 0);
    const wcap = capOf(limits[w]);
    let i = 0;
    let leaveAt = now;
    while (count >= wcap && i < inside.length) {
      const [s, c] = inside[i++]!;
      count -= c;
      leaveAt = s + size + len[w];
    }
    if (leaveAt > now) consider(w, leaveAt - now + 1);
  }
  return best;
}

/**
 * The slowest pace the hourly and daily windows allow each of `watchers` watchers once half
 * of a window's cap is used: the window's cap spread evenly over its length, split between
 * them (so a watcher slows down long before the hour runs out instead of stopping at its
 * end). 0 while every window is less than half used.
 */
export function paceFor(
  log: UsageLog,
  now: number,
  limits: WindowLimits,
  watchers: number,
  minuteMs = 60_000,
): { floorMs: number; window: WindowName | null } {
  const len = windowLengths(minuteMs);
  const used = usageAt(log, now, minuteMs);
  const w = Math.max(1, Math.floor(watchers));
  let out: { floorMs: number; window: WindowName | null } = { floorMs: 0, window: null };
  for (const name of ["hour", "day"] as const) {
    const cap = capOf(limits[name]);
    if (used[name] * 2 < cap) continue;
    const floorMs = Math.ceil((len[name] * w) / cap);
    if (floorMs > out.floorMs) out = { floorMs, window: name };
  }
  return out;
}

/** Keeps what is well-formed in a parsed log. */
export function sanitizeUsage(value: unknown): UsageLog {
  const out = emptyUsage();
  if (!value || typeof value !== "object") return out;
  const v = value as Record<string, unknown>;
  const num = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
  const pairs = (x: unknown): [number, number][] =>
    Array.isArray(x)
      ? x
          .filter((p): p is [number, number] => Array.isArray(p) && p.length === 2 && num(p[0]) && num(p[1]))
          .map(([s, c]) => [s, Math.max(0, Math.floor(c))] as [number, number])
          .sort((a, b) => a[0] - b[0])
      : [];
  if (Array.isArray(v.recent)) out.recent = v.recent.filter(num).sort((a, b) => a - b);
  out.hour = pairs(v.hour);
  out.day = pairs(v.day);
  return out;
}
