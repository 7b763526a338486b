/**
 * A simulated-time model of watchers following renders against a server that enforces the
 * published status limits with fixed windows (as the emulator does). Used by the scheduler's
 * unit tests and by bench/watch (run.mjs bundles it). Pure apart from the injected random
 * source; no timers. It lives with the benchmark: it is not part of the package.
 */
import {
  nextPoll,
  type RateLimitLimits,
  type RateLimitSnapshot,
  STATUS_LIMITS,
} from "../../src/lib/sdk/poll/scheduler.js";

import {
  emptyUsage,
  GROUP_LIMITS,
  paceFor,
  pruneUsage,
  recordRequest,
  roomFor,
} from "../../src/lib/sdk/poll/windows.js";

export { ageIntervalMs, minuteFloorMs } from "../../src/lib/sdk/poll/scheduler.js";

/** A polling policy: the delay before the next poll, from what the watcher knows. */
export type PollPolicy = (ctx: {
  now: number;
  elapsedMs: number;
  polled: boolean;
  consecutiveFailures: number;
  retryAfterMs: number | undefined;
  rateLimit: RateLimitSnapshot | undefined;
  recentRequests: readonly number[] | undefined;
  watchers: number;
  windowPaceMs?: number;
  random: () => number;
}) => number;

/** Our scheduler as a policy. */
export const schedulerPolicy: PollPolicy = (ctx) => nextPoll(ctx).delayMs;

/** A fixed-interval poller (what naive clients do); it does not even read Retry-After. */
export function fixedPolicy(intervalMs: number): PollPolicy {
  return () => intervalMs;
}

export interface SimulationOptions {
  /** Render length, ms. */
  renderMs: number;
  /** Watchers following renders of that length on one key. */
  watchers: number;
  /** Offset between the submissions of successive watchers' renders, ms. Default 7 000. */
  staggerMs?: number;
  policy: PollPolicy;
  limits?: RateLimitLimits;
  /** Seeded random source. Default: a fixed linear congruential generator. */
  random?: () => number;
  /** Whether watchers share the freshest rate-limit headers (the budget file). Default true. */
  share?: boolean;
  /** With `share`, whether each request first takes its slot from the shared budget (acquire). Default true. */
  acquire?: boolean;
}

export interface WatcherResult {
  requests: number;
  rateLimited: number;
  /** Time between the render finishing and the watcher seeing it, ms. */
  detectionDelayMs: number;
}

export interface SimulationResult {
  watchers: WatcherResult[];
  totalRequests: number;
  total429: number;
  worstDelayMs: number;
  medianDelayMs: number;
  /** The most requests the server counted in one minute window / one hour window. */
  peakMinute: number;
  peakHour: number;
}

/** A small deterministic PRNG (mulberry32). */
export function seededRandom(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Window {
  start: number;
  count: number;
}

/** Fixed windows per key, started by the first request after the previous one expired. */
export class SimulatedLimiter {
  private readonly minute: Window = { start: Number.NEGATIVE_INFINITY, count: 0 };
  private readonly hour: Window = { start: Number.NEGATIVE_INFINITY, count: 0 };
  peakMinute = 0;
  peakHour = 0;
  constructor(private readonly limits: RateLimitLimits = STATUS_LIMITS) {}

  take(now: number): { allowed: boolean; rateLimit: RateLimitSnapshot; retryAfterMs?: number } {
    if (now >= this.minute.start + 60_000) Object.assign(this.minute, { start: now, count: 0 });
    if (now >= this.hour.start + 3_600_000) Object.assign(this.hour, { start: now, count: 0 });
    const m = { w: this.minute, limit: this.limits.perMinute, len: 60_000 };
    const h = { w: this.hour, limit: this.limits.perHour, len: 3_600_000 };
    const exhausted = [m, h].filter((x) => x.w.count >= x.limit);
    if (exhausted.length > 0) {
      const resetAt = Math.max(...exhausted.map((x) => x.w.start + x.len));
      return {
        allowed: false,
        retryAfterMs: Math.max(1000, Math.ceil((resetAt - now) / 1000) * 1000),
        rateLimit: { limit: exhausted[0]!.limit, remaining: 0, resetAt, observedAt: now },
      };
    }
    m.w.count++;
    h.w.count++;
    this.peakMinute = Math.max(this.peakMinute, m.w.count);
    this.peakHour = Math.max(this.peakHour, h.w.count);
    const best = m.limit - m.w.count <= h.limit - h.w.count ? m : h;
    // The real header carries whole seconds: round the reset up, as a server would.
    const resetAt = Math.ceil((best.w.start + best.len) / 1000) * 1000;
    return {
      allowed: true,
      rateLimit: { limit: best.limit, remaining: best.limit - best.w.count, resetAt, observedAt: now },
    };
  }
}

/** Runs the simulation; time starts at 0 when the first render is submitted. */
export function simulateWatch(options: SimulationOptions): SimulationResult {
  const stagger = options.staggerMs ?? 7_000;
  const random = options.random ?? seededRandom(42);
  const limiter = new SimulatedLimiter(options.limits);
  const share = options.share ?? true;
  const ws = Array.from({ length: options.watchers }, (_, i) => ({
    submitted: i * stagger,
    next: i * stagger,
    polled: false,
    failures: 0,
    retryAfterMs: undefined as number | undefined,
    rateLimit: undefined as RateLimitSnapshot | undefined,
    done: false,
    result: { requests: 0, rateLimited: 0, detectionDelayMs: 0 } as WatcherResult,
  }));
  let shared: RateLimitSnapshot | undefined;
  let recent: number[] = [];
  // The shared budget file's log: acquire() before each request (as waitForRender does).
  const usage = emptyUsage();
  // First decision of each watcher, at its submission.
  const decide = (w: (typeof ws)[number], now: number) => {
    const active = ws.filter((x) => !x.done && x.submitted <= now).length;
    const delay = options.policy({
      now,
      elapsedMs: now - w.submitted,
      polled: w.polled,
      consecutiveFailures: w.failures,
      retryAfterMs: w.retryAfterMs,
      rateLimit: share ? shared : w.rateLimit,
      recentRequests: share ? recent : undefined,
      watchers: Math.max(1, active),
      windowPaceMs: share ? paceFor(usage, now, GROUP_LIMITS.status, Math.max(1, active)).floorMs : undefined,
      random,
    });
    w.next = now + Math.max(0, delay);
  };
  for (const w of ws) decide(w, w.submitted);
  for (let guard = 0; guard < 1_000_000; guard++) {
    const pending = ws.filter((x) => !x.done);
    if (pending.length === 0) break;
    const w = pending.reduce((a, b) => (b.next < a.next ? b : a));
    const now = w.next;
    if (share && options.acquire !== false) {
      // acquire("status"): wait (spread a little) until the sliding windows have room
      pruneUsage(usage, now);
      const room = roomFor(usage, now, GROUP_LIMITS.status);
      if (room.waitMs > 0) {
        w.next = now + room.waitMs + Math.floor(random() * Math.min(2_000, Math.max(20, room.waitMs / 4)));
        continue;
      }
      recordRequest(usage, now);
    }
    const answer = limiter.take(now);
    w.result.requests++;
    if (share) recent = [...recent.filter((t) => t > now - 65_000), now];
    w.polled = true;
    if (!shared || (answer.rateLimit.observedAt ?? 0) >= (shared.observedAt ?? 0)) shared = answer.rateLimit;
    w.rateLimit = answer.rateLimit;
    if (!answer.allowed) {
      w.result.rateLimited++;
      w.retryAfterMs = answer.retryAfterMs;
      decide(w, now);
      continue;
    }
    w.retryAfterMs = undefined;
    w.failures = 0;
    const finishedAt = w.submitted + options.renderMs;
    if (now >= finishedAt) {
      w.done = true;
      w.result.detectionDelayMs = now - finishedAt;
      continue;
    }
    decide(w, now);
  }
  const delays = ws.map((w) => w.result.detectionDelayMs).sort((a, b) => a - b);
  const mid = delays.length >> 1;
  const median = delays.length % 2 ? delays[mid]! : (delays[mid - 1]! + delays[mid]!) / 2;
  return {
    watchers: ws.map((w) => w.result),
    totalRequests: ws.reduce((s, w) => s + w.result.requests, 0),
    total429: ws.reduce((s, w) => s + w.result.rateLimited, 0),
    worstDelayMs: delays[delays.length - 1] ?? 0,
    medianDelayMs: median ?? 0,
    peakMinute: limiter.peakMinute,
    peakHour: limiter.peakHour,
  };
}
