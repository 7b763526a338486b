/**
 * The poll scheduler used to follow a render: a PURE function of its inputs (no clock, no
 * timers, no I/O; the random source is a parameter), so a test or a benchmark can follow an
 * hour-long render in simulated time.
 *
 * Every delay respects the key's budget, the "budget floor": (a) the watcher's share of 90 %
 * of the minute limit (W watchers: one poll per W x 60 s / 54 each), which applies in full
 * once the key's sliding minute (all watchers' requests, from the shared budget file) is
 * three quarters used and not at all while it is half used or less (in between, a part
 * growing linearly), so a few watchers of young renders are not held to a share they cannot
 * exhaust; without that record, in full; (b) once half of the current window is used, its
 * remaining requests (X-RateLimit-Remaining until -Reset) spread evenly over the time left,
 * split between the watchers, unless the server counted no more requests in that minute than
 * this machine sent (then all the traffic is ours and (c) is enough); (c) the sliding minute of all
 * watchers' recent requests (from the shared budget file) kept at 90 % of the limit; (d) once
 * half of the hour's or the day's 90 % is used, that window's pace (budget.ts / windows.ts),
 * so a watcher slows down long before the hour runs out.
 *
 * Policy, in order of precedence:
 * 1. A wait the server asked for (Retry-After, the 429 body's "Try again in N seconds",
 *    X-RateLimit-Reset on a 429) is a LOWER BOUND: the delay is the longer of it and the
 *    budget floor, plus a random spread over one budget share, so the watchers of a key that
 *    were refused together come back one by one rather than together.
 * 2. When the last seen rate-limit headers say the window is (nearly) exhausted, wait for
 *    its reset (spread likewise).
 * 3. Transient failures back off with full jitter (random between 0 and an exponential bound),
 *    never sooner than the whole share (a).
 * 4. Otherwise the interval grows with the render's age: the first poll 1 s after submission,
 *    then 2 s, growing to 2.5 s at 10 s of age and staying there until 40 s (a render of up to
 *    40 s is seen within 2.5 s of its end), then +1 s per 13 s of age up to a cap (10 s from
 *    2 min 17 s; for renders older than ten minutes, longer when several watchers share the
 *    hourly budget).
 * The cross-process budget (budget.ts `acquire`) enforces the windows again right before each
 * request; this policy plans so that it rarely has to wait.
 */

/** The published status-endpoint limits per key. */
export const STATUS_LIMITS = { perMinute: 60, perHour: 1000 } as const;

export interface RateLimitLimits {
  perMinute: number;
  perHour: number;
}

/** The last rate-limit headers seen for the key (resetAt already skew-corrected, local epoch ms). */
export interface RateLimitSnapshot {
  limit: number | null;
  remaining: number | null;
  resetAt: number | null;
  /** Local epoch ms when these headers were seen. */
  observedAt?: number;
}

export interface PollInput {
  /** Local epoch ms now. */
  now: number;
  /** Age of the render (since submission, or since the watch started when unknown), ms. */
  elapsedMs: number;
  /** Whether at least one status answer was already received (or attempted). */
  polled: boolean;
  /** Transient failures in a row (0 after a good answer). */
  consecutiveFailures: number;
  /** A wait the server asked for in its last answer (429/503), ms. */
  retryAfterMs?: number;
  /** The freshest rate-limit headers known for the key (from this or another watcher). */
  rateLimit?: RateLimitSnapshot;
  /** Watchers currently following renders with the same key, this one included. Default 1. */
  watchers?: number;
  /**
   * Local times of the status requests sent with this key recently, by every watcher (from
   * the shared budget file). The sliding minute they describe is kept under the minute limit
   * whatever the watcher count says.
   */
  recentRequests?: readonly number[];
  /** The published limits. Default STATUS_LIMITS. */
  limits?: RateLimitLimits;
  /** The length of the limits' minute (tests shorten it; the hour follows). Default 60 000. */
  minuteMs?: number;
  /**
   * The pace the hourly and daily windows allow each watcher now (the shared budget's
   * `pace.floorMs`; 0 while they are less than half used).
   */
  windowPaceMs?: number;
  /** A number in [0, 1). */
  random: () => number;
}

export type PollReason = "first" | "age" | "budget" | "retry-after" | "rate-limit" | "backoff";

export interface PollDecision {
  delayMs: number;
  reason: PollReason;
}

/** Tunables, exported for the tests and the benchmark report. */
export const SCHEDULE = {
  /** The first poll comes this long after submission. */
  firstPollMs: 1_000,
  /** The interval after the first poll (a render of age 0)... */
  startIntervalMs: 2_000,
  /** ...grows by 1 ms per `growthDivisor` ms of render age (1 s per 20 s)... */
  growthDivisor: 20,
  /** ...up to this (at 10 s of age: a render of up to 40 s is seen within 2.5 s)... */
  earlyCapMs: 2_500,
  /** ...until this age... */
  growthKneeMs: 40_000,
  /** ...then grows by 1 ms per `lateGrowthDivisor` ms (1 s per 13 s: 10 s at 2 min 17 s). */
  lateGrowthDivisor: 13,
  /** The longest interval of a lone watcher: the worst detection delay of a long render. */
  maxIntervalMs: 10_000,
  /** Fraction of the minute limit we allow ourselves (room for rounding and clock drift). */
  budgetShare: 0.9,
  /** Each of W watchers polls at most once per W x 60 s / (limit x this): the static share (10 % headroom). */
  minuteFloorShare: 0.9,
  /** The share applies from this fraction of the sliding minute's cap used (not at all below)... */
  shareFromUsed: 0.5,
  /** ...growing linearly to the full share at this fraction. */
  shareFullUsed: 0.75,
  /** Fraction of the hourly limit we plan to spend (10 % headroom). */
  hourShare: 0.9,
  /** Renders younger than this always get the 10 s cap... */
  earlyPhaseMs: 600_000,
  /** ...which costs about this many polls (1 + 20 s x ln 1.25 + 30 s / 2.5 s + 13 s x ln 4 + 462.5 s / 10 s). */
  earlyPhaseRequests: 82,
  /** Transient-failure backoff: full jitter between 0 and min(cap, base * 2^(n-1)). */
  backoffBaseMs: 1_000,
  backoffCapMs: 30_000,
  /** Never retry sooner than this after a failure. */
  minRetryGapMs: 250,
  /** Random spread added to a server-asked wait, per watcher. */
  spreadPerWatcherMs: 250,
} as const;

/**
 * The longest interval for a render of age `ageMs` with `watchers` watchers on the key:
 * 10 s for the first ten minutes; after that 10 s too while the hourly limit allows it,
 * else the interval that keeps each watcher within its share of the hourly budget
 * (three watchers of hour-long renders cannot all poll every 10 s: 3 x 360 > 1000).
 */
export function maxIntervalMs(
  ageMs: number,
  watchers: number,
  limits: RateLimitLimits = STATUS_LIMITS,
): number {
  const w = Math.max(1, Math.floor(watchers));
  if (ageMs < SCHEDULE.earlyPhaseMs) return SCHEDULE.maxIntervalMs;
  const share = (limits.perHour * SCHEDULE.hourShare) / w;
  const sustainable = 3_600_000 / share;
  // What the first ten minutes cost (the age curve, or the minute floor when that is slower).
  const early = Math.min(SCHEDULE.earlyPhaseRequests, SCHEDULE.earlyPhaseMs / minuteFloorMs(w, limits));
  const left = share - early;
  const late = left >= 1 ? (3_600_000 - SCHEDULE.earlyPhaseMs) / left : sustainable * 2;
  return Math.ceil(Math.max(SCHEDULE.maxIntervalMs, sustainable, late));
}

/** The interval for a render of age `ageMs`, before budget constraints. */
export function ageIntervalMs(ageMs: number, watchers = 1, limits: RateLimitLimits = STATUS_LIMITS): number {
  const age = Math.max(0, ageMs);
  const grown =
    age < SCHEDULE.growthKneeMs
      ? Math.min(SCHEDULE.startIntervalMs + age / SCHEDULE.growthDivisor, SCHEDULE.earlyCapMs)
      : SCHEDULE.earlyCapMs + (age - SCHEDULE.growthKneeMs) / SCHEDULE.lateGrowthDivisor;
  return Math.round(Math.min(maxIntervalMs(ageMs, watchers, limits), grown));
}

/** The watcher's share of 90 % of the minute limit: W watchers may each send one request per this many ms. */
export function minuteFloorMs(
  watchers: number,
  limits: RateLimitLimits = STATUS_LIMITS,
  minuteMs = 60_000,
): number {
  const w = Math.max(1, Math.floor(watchers));
  return Math.ceil((minuteMs * w) / Math.max(1, Math.floor(limits.perMinute * SCHEDULE.minuteFloorShare)));
}

/** Our share of the minute limit: what the key's processes may send in any sliding minute. */
function minuteCap(limits: RateLimitLimits): number {
  return Math.max(1, Math.floor(limits.perMinute * SCHEDULE.budgetShare));
}

/** The request times of `recent` inside the sliding minute that ends at `now`. */
function inSlidingMinute(recent: readonly number[], now: number, minuteMs: number): number[] {
  return recent.filter((t) => t > now - minuteMs && t <= now);
}

/**
 * The part of the static minute share (minuteFloorMs) that applies when `recent` holds the
 * key's requests of the sliding minute: none while at most half of the cap is used, all of it
 * from three quarters on, linear in between. Without the record (undefined): all of it.
 */
export function shareFactor(
  recent: readonly number[] | undefined,
  now: number,
  limits: RateLimitLimits = STATUS_LIMITS,
  minuteMs = 60_000,
): number {
  if (!recent) return 1;
  const used = inSlidingMinute(recent, now, minuteMs).length / minuteCap(limits);
  const f = (used - SCHEDULE.shareFromUsed) / (SCHEDULE.shareFullUsed - SCHEDULE.shareFromUsed);
  return Math.min(1, Math.max(0, f));
}

/**
 * Spreads what is left of the current window (X-RateLimit-Remaining until -Reset) evenly
 * between the watchers once half of it is used. Returns null when the headers say nothing
 * usable or more than half is left; "exhausted" (with the wait until the reset) when only
 * the reserve (one request per watcher, for counts that are a little stale) is left.
 *
 * With `seen` (the key's requests of the sliding minute from the shared budget file) and
 * headers of the minute window, the window's count is compared with what this machine sent
 * in it: when the server counted no more than that, all the traffic is ours, which the
 * sliding minute already keeps at 90 % of the limit, and there is nothing to pace.
 */
export function headerPacing(
  rl: RateLimitSnapshot | undefined,
  now: number,
  watchers: number,
  seen?: { recent: readonly number[]; limits?: RateLimitLimits; minuteMs?: number },
): { kind: "pace"; floorMs: number } | { kind: "exhausted"; waitMs: number } | null {
  if (!rl || rl.remaining === null || rl.resetAt === null) return null;
  const untilReset = rl.resetAt - now;
  if (untilReset <= 0) return null; // the window has reset since: the headers are stale
  const w = Math.max(1, Math.floor(watchers));
  const reserve = w; // one request per watcher kept back for the rounding of shared counts
  if (rl.remaining <= reserve) return { kind: "exhausted", waitMs: untilReset };
  // With half the window or more left, the static share is enough.
  if (rl.limit !== null && rl.remaining * 2 >= rl.limit) return null;
  if (seen && rl.limit !== null && rl.observedAt !== undefined) {
    const limits = seen.limits ?? STATUS_LIMITS;
    const minuteMs = seen.minuteMs ?? 60_000;
    if (rl.limit === limits.perMinute) {
      const start = rl.resetAt - minuteMs;
      const ours = seen.recent.filter((t) => t >= start && t <= (rl.observedAt as number)).length;
      if (rl.limit - rl.remaining <= ours) return null;
    }
  }
  return { kind: "pace", floorMs: Math.ceil((untilReset * w) / rl.remaining) };
}

/**
 * The wait until the sliding minute of `recent` request times has room for one more request
 * under the minute limit (times our share). 0 when there is room now.
 */
export function slidingMinuteWaitMs(
  recent: readonly number[] | undefined,
  now: number,
  limits: RateLimitLimits = STATUS_LIMITS,
  minuteMs = 60_000,
): number {
  if (!recent || recent.length === 0) return 0;
  const cap = minuteCap(limits);
  const inWindow = inSlidingMinute(recent, now, minuteMs).sort((a, b) => a - b);
  if (inWindow.length < cap) return 0;
  // After the (len - cap)-th oldest leaves the window, cap - 1 remain: room for one.
  return Math.max(0, inWindow[inWindow.length - cap]! + minuteMs - now + 1);
}

/** Full-jitter backoff for the `failures`-th transient failure in a row. */
export function backoffMs(failures: number, random: () => number): number {
  const bound = Math.min(SCHEDULE.backoffCapMs, SCHEDULE.backoffBaseMs * 2 ** Math.max(0, failures - 1));
  const r = Math.min(Math.max(random(), 0), 0.999_999);
  return Math.max(SCHEDULE.minRetryGapMs, Math.floor(r * bound));
}

/** When to poll next, measured from `now`. */
export function nextPoll(input: PollInput): PollDecision {
  const watchers = Math.max(1, Math.floor(input.watchers ?? 1));
  const limits = input.limits ?? STATUS_LIMITS;
  const minuteMs = input.minuteMs ?? 60_000;
  const share = minuteFloorMs(watchers, limits, minuteMs);
  const floor = Math.ceil(share * shareFactor(input.recentRequests, input.now, limits, minuteMs));
  const pacing = headerPacing(
    input.rateLimit,
    input.now,
    watchers,
    input.recentRequests ? { recent: input.recentRequests, limits, minuteMs } : undefined,
  );
  const sliding = slidingMinuteWaitMs(input.recentRequests, input.now, limits, minuteMs);
  const windowPace = Math.max(0, input.windowPaceMs ?? 0);
  const others = Math.max(sliding, windowPace, pacing?.kind === "pace" ? pacing.floorMs : 0);
  const budgetFloor = Math.max(floor, others);
  // After a refusal or a failure the whole share applies, however little of the minute is used.
  const fullFloor = Math.max(share, others);
  // A random point within one budget share (at least spreadPerWatcherMs per watcher): the
  // watchers refused together come back spread over the time in which each may send one.
  const spread = () =>
    Math.floor(
      Math.min(Math.max(input.random(), 0), 0.999_999) *
        Math.max(fullFloor, SCHEDULE.spreadPerWatcherMs * watchers),
    );

  // 1. The server said how long to wait: a lower bound, never shorter than the budget share.
  if (input.retryAfterMs !== undefined && input.retryAfterMs >= 0) {
    return {
      delayMs:
        Math.max(
          input.retryAfterMs,
          SCHEDULE.minRetryGapMs,
          fullFloor,
          pacing?.kind === "exhausted" ? pacing.waitMs : 0,
        ) + spread(),
      reason: "retry-after",
    };
  }
  // 2. The window is (nearly) used up: wait for its reset.
  if (pacing?.kind === "exhausted") {
    return { delayMs: Math.max(pacing.waitMs, fullFloor) + spread(), reason: "rate-limit" };
  }
  // 3. Transient failure: full-jitter backoff, but never faster than the whole budget share.
  if (input.consecutiveFailures > 0) {
    const b = backoffMs(input.consecutiveFailures, input.random);
    return b >= fullFloor ? { delayMs: b, reason: "backoff" } : { delayMs: fullFloor, reason: "budget" };
  }
  // 4. Normal cadence.
  if (!input.polled) {
    const first = Math.max(0, SCHEDULE.firstPollMs - input.elapsedMs);
    // Only the live header pacing can delay the first poll (another watcher drained the window).
    const hp = Math.max(sliding, windowPace, pacing?.kind === "pace" ? pacing.floorMs : 0);
    return hp > first ? { delayMs: hp, reason: "budget" } : { delayMs: first, reason: "first" };
  }
  const interval = ageIntervalMs(input.elapsedMs, watchers, limits);
  return interval >= budgetFloor
    ? { delayMs: interval, reason: "age" }
    : { delayMs: budgetFloor, reason: "budget" };
}
