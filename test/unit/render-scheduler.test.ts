import { describe, expect, it } from "vitest";
import {
  ageIntervalMs,
  backoffMs,
  headerPacing,
  maxIntervalMs,
  minuteFloorMs,
  nextPoll,
  type PollInput,
  SCHEDULE,
  shareFactor,
  slidingMinuteWaitMs,
} from "../../src/lib/sdk/poll/scheduler.js";
import {
  fixedPolicy,
  SimulatedLimiter,
  schedulerPolicy,
  seededRandom,
  simulateWatch,
} from "../../bench/watch/simulate.js";

const NOW = 1_700_000_000_000;
const base = (over: Partial<PollInput> = {}): PollInput => ({
  now: NOW,
  elapsedMs: 0,
  polled: false,
  consecutiveFailures: 0,
  random: () => 0.5,
  ...over,
});

/** Runs several phases of a render length so the worst case is seen, not one lucky phase. */
function trials(renderMs: number, watchers: number, n = 12) {
  const runs = Array.from({ length: n }, (_, k) =>
    simulateWatch({
      renderMs: renderMs + Math.round((k * renderMs) / 120),
      watchers,
      policy: schedulerPolicy,
      random: seededRandom(k + 1),
    }),
  );
  return {
    maxRequestsPerWatcher: Math.max(...runs.flatMap((r) => r.watchers.map((w) => w.requests))),
    worstDelayMs: Math.max(...runs.map((r) => r.worstDelayMs)),
    total429: runs.reduce((s, r) => s + r.total429, 0),
    peakMinute: Math.max(...runs.map((r) => r.peakMinute)),
    peakHour: Math.max(...runs.map((r) => r.peakHour)),
  };
}

describe("nextPoll: cadence", () => {
  it("polls about one second after submission", () => {
    expect(nextPoll(base())).toEqual({ delayMs: 1000, reason: "first" });
    // a watch started on an older render polls at once
    expect(nextPoll(base({ elapsedMs: 40_000 }))).toEqual({ delayMs: 0, reason: "first" });
  });

  it("grows the interval with the render's age, within bounds", () => {
    let prev = 0;
    for (let age = 0; age <= 7_200_000; age += 5_000) {
      const i = ageIntervalMs(age, 1);
      expect(i).toBeGreaterThanOrEqual(prev);
      expect(i).toBeGreaterThanOrEqual(1000);
      expect(i).toBeLessThanOrEqual(10_000);
      prev = i;
    }
    expect(ageIntervalMs(0, 1)).toBe(2000);
    expect(ageIntervalMs(30_000, 1)).toBe(2500); // a render of up to 40 s is seen within 2.5 s
    expect(ageIntervalMs(40_000, 1)).toBe(2500);
    expect(ageIntervalMs(137_500, 1)).toBe(10_000);
    expect(ageIntervalMs(3_600_000, 1)).toBe(10_000);
    const d = nextPoll(base({ polled: true, elapsedMs: 20 * 60_000 }));
    expect(d).toEqual({ delayMs: 10_000, reason: "age" });
  });

  it("lengthens the cap of old renders when three watchers share the hourly budget", () => {
    expect(maxIntervalMs(5 * 60_000, 3)).toBe(10_000);
    const late = maxIntervalMs(30 * 60_000, 3);
    expect(late).toBeGreaterThan(10_000);
    // 3 watchers polling at the late cap for an hour stay under 1000 requests
    expect((3 * 3_600_000) / late).toBeLessThan(1000);
  });

  it("never polls faster than the watcher's share of 90 % of the minute limit", () => {
    expect(minuteFloorMs(1)).toBe(1112); // 54 a minute
    expect(minuteFloorMs(3)).toBe(3334);
    expect(minuteFloorMs(20)).toBe(22_223); // twenty watchers: 20 x 60 s / 54
    expect(minuteFloorMs(20, undefined, 6_000)).toBe(2_223); // a minute shortened to 6 s
    const d = nextPoll(base({ polled: true, elapsedMs: 2_000, watchers: 3 }));
    expect(d.reason).toBe("budget");
    expect(d.delayMs).toBe(minuteFloorMs(3));
  });

  it("applies the share by how much of the key's sliding minute is used: none up to half, all from three quarters", () => {
    const recent = (n: number) => Array.from({ length: n }, (_, i) => NOW - 50_000 + i * 100);
    expect(shareFactor(undefined, NOW)).toBe(1); // no shared record: the whole share
    expect(shareFactor([], NOW)).toBe(0);
    expect(shareFactor(recent(27), NOW)).toBe(0); // half of 54
    expect(shareFactor(recent(34), NOW)).toBeCloseTo(0.52, 2);
    expect(shareFactor(recent(41), NOW)).toBe(1);
    expect(
      shareFactor(
        recent(41).map((t) => t - 60_000),
        NOW,
      ),
    ).toBe(0); // outside the minute
    // three watchers of young renders with a quiet key poll at their age interval...
    const young = base({ polled: true, elapsedMs: 12_000, watchers: 3, recentRequests: recent(10) });
    expect(nextPoll(young)).toEqual({ delayMs: ageIntervalMs(12_000), reason: "age" });
    // ...and at their share once the minute fills
    expect(nextPoll({ ...young, recentRequests: recent(45) })).toEqual({
      delayMs: minuteFloorMs(3),
      reason: "budget",
    });
  });
});

describe("nextPoll: server-asked waits and rate-limit headers", () => {
  it("honours Retry-After in full, plus a spread over one budget share", () => {
    for (const r of [0, 0.5, 0.99]) {
      const d = nextPoll(base({ polled: true, retryAfterMs: 30_000, random: () => r, watchers: 2 }));
      expect(d.reason).toBe("retry-after");
      expect(d.delayMs).toBeGreaterThanOrEqual(30_000);
      expect(d.delayMs).toBeLessThan(30_000 + minuteFloorMs(2));
    }
  });

  it("takes Retry-After as a lower bound: a short one never shortens the watcher's budget share", () => {
    // twenty watchers refused together with Retry-After: 1 s each keep their 22 s share
    const delays = Array.from({ length: 20 }, (_, i) =>
      nextPoll(
        base({ polled: true, elapsedMs: 30_000, retryAfterMs: 1_000, watchers: 20, random: () => i / 20 }),
      ),
    );
    for (const d of delays) {
      expect(d.reason).toBe("retry-after");
      expect(d.delayMs).toBeGreaterThanOrEqual(minuteFloorMs(20));
    }
    // ...and come back spread over one more share, not together: at least a second apart
    const sorted = delays.map((d) => d.delayMs).sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(1_000);
  });

  it("slows down to the hour's (or day's) pace the shared budget reports", () => {
    const d = nextPoll(base({ polled: true, elapsedMs: 60_000, windowPaceMs: 40_000 }));
    expect(d).toEqual({ delayMs: 40_000, reason: "budget" });
  });

  it("Retry-After wins over a pending backoff", () => {
    const d = nextPoll(base({ polled: true, consecutiveFailures: 1, retryAfterMs: 45_000, random: () => 0 }));
    expect(d).toEqual({ delayMs: 45_000, reason: "retry-after" });
  });

  it("waits for the reset when the window is (nearly) exhausted", () => {
    const rateLimit = { limit: 60, remaining: 1, resetAt: NOW + 17_000 };
    const d = nextPoll(base({ polled: true, elapsedMs: 60_000, rateLimit, random: () => 0 }));
    expect(d).toEqual({ delayMs: 17_000, reason: "rate-limit" });
  });

  it("spreads the remaining requests of the window over the time left once half of it is used", () => {
    const rateLimit = { limit: 60, remaining: 10, resetAt: NOW + 50_000 };
    expect(headerPacing(rateLimit, NOW, 1)).toEqual({ kind: "pace", floorMs: 5000 });
    const d = nextPoll(base({ polled: true, elapsedMs: 10_000, rateLimit }));
    expect(d).toEqual({ delayMs: 5000, reason: "budget" });
    // split between watchers
    expect(headerPacing({ ...rateLimit, remaining: 15 }, NOW, 3)).toEqual({ kind: "pace", floorMs: 10_000 });
    // with half the window or more left, the static share is enough
    expect(headerPacing({ ...rateLimit, remaining: 30 }, NOW, 1)).toBeNull();
    // a window whose limit is unknown is always paced
    expect(headerPacing({ limit: null, remaining: 40, resetAt: NOW + 40_000 }, NOW, 2)).toEqual({
      kind: "pace",
      floorMs: 2000,
    });
  });

  it("does not pace by the headers when the server counted only this machine's requests in the minute", () => {
    // 40 of 60 used, 30 s left: 20 left, paced to 1.5 s per poll for one watcher...
    const rateLimit = { limit: 60, remaining: 20, resetAt: NOW + 30_000, observedAt: NOW - 100 };
    expect(headerPacing(rateLimit, NOW, 1)).toEqual({ kind: "pace", floorMs: 1500 });
    // ...unless the shared record holds those 40 (the sliding minute already caps them at 54)
    const ours = Array.from({ length: 40 }, (_, i) => NOW - 29_000 + i * 500);
    expect(headerPacing(rateLimit, NOW, 1, { recent: ours })).toBeNull();
    // another client of the key sent some of them: paced as before
    expect(headerPacing(rateLimit, NOW, 1, { recent: ours.slice(5) })).toEqual({
      kind: "pace",
      floorMs: 1500,
    });
    // requests before the window started (resetAt - 60 s) are not in the server's count
    const before = ours.map((t) => t - 31_000);
    expect(headerPacing(rateLimit, NOW, 1, { recent: before })).toEqual({ kind: "pace", floorMs: 1500 });
    // an exhausted window is waited for whoever used it
    expect(headerPacing({ ...rateLimit, remaining: 1 }, NOW, 1, { recent: ours })).toEqual({
      kind: "exhausted",
      waitMs: 30_000,
    });
  });

  it("ignores headers whose window has already reset, and headers without numbers", () => {
    expect(headerPacing({ limit: 60, remaining: 0, resetAt: NOW - 1 }, NOW, 1)).toBeNull();
    expect(headerPacing({ limit: null, remaining: null, resetAt: null }, NOW, 1)).toBeNull();
    const d = nextPoll(
      base({ polled: true, elapsedMs: 60_000, rateLimit: { limit: 60, remaining: 0, resetAt: NOW - 5 } }),
    );
    expect(d.reason).toBe("age");
  });
});

describe("nextPoll: the shared record of recent requests", () => {
  it("keeps the sliding minute of all watchers' requests under the limit", () => {
    // 54 requests (90 % of 60) in the last minute, the oldest 50 s ago
    const recent = Array.from({ length: 54 }, (_, i) => NOW - 50_000 + i * 900);
    expect(slidingMinuteWaitMs(recent, NOW)).toBe(10_001);
    expect(slidingMinuteWaitMs(recent.slice(1), NOW)).toBe(0);
    expect(slidingMinuteWaitMs([], NOW)).toBe(0);
    // old requests do not count
    expect(slidingMinuteWaitMs([...recent.map((t) => t - 60_000)], NOW)).toBe(0);
    const d = nextPoll(base({ polled: true, elapsedMs: 5_000, recentRequests: recent }));
    expect(d).toEqual({ delayMs: 10_001, reason: "budget" });
    // even the first poll waits when other watchers used the minute
    expect(nextPoll(base({ recentRequests: recent }))).toEqual({ delayMs: 10_001, reason: "budget" });
  });
});

describe("nextPoll: transient failures", () => {
  it("backs off with full jitter, bounded by the cap", () => {
    expect(backoffMs(1, () => 0)).toBe(SCHEDULE.minRetryGapMs);
    expect(backoffMs(1, () => 0.999)).toBeLessThan(1000);
    expect(backoffMs(3, () => 0.999)).toBeGreaterThan(3900);
    expect(backoffMs(3, () => 0.999)).toBeLessThan(4000);
    expect(backoffMs(20, () => 0.999)).toBeLessThanOrEqual(SCHEDULE.backoffCapMs);
    const values = new Set(Array.from({ length: 50 }, (_, i) => backoffMs(4, seededRandom(i))));
    expect(values.size).toBeGreaterThan(40);
  });

  it("a retry is never faster than the budget allows", () => {
    const d = nextPoll(base({ polled: true, consecutiveFailures: 1, random: () => 0, watchers: 3 }));
    expect(d).toEqual({ delayMs: minuteFloorMs(3), reason: "budget" });
    const e = nextPoll(base({ polled: true, consecutiveFailures: 5, random: () => 0.9 }));
    expect(e.reason).toBe("backoff");
    expect(e.delayMs).toBe(Math.floor(0.9 * 16_000));
  });
});

describe("simulated time: renders against the published limits", () => {
  it("the simulated server does refuse a fixed 1 s poller (so 'no 429' below means something)", () => {
    const r = simulateWatch({ renderMs: 3_600_000, watchers: 1, policy: fixedPolicy(1000), acquire: false });
    expect(r.total429).toBeGreaterThan(0);
    const lim = new SimulatedLimiter();
    for (let i = 0; i < 60; i++) expect(lim.take(i).allowed).toBe(true);
    expect(lim.take(61)).toMatchObject({ allowed: false, retryAfterMs: 60_000 });
  });

  it("a 30 s render: few requests, completion seen within 3 s with margin (2.5 s)", () => {
    const r = trials(30_000, 1);
    expect(r.total429).toBe(0);
    expect(r.maxRequestsPerWatcher).toBeLessThanOrEqual(20);
    expect(r.worstDelayMs).toBeLessThanOrEqual(2500);
  });

  it("a 5 min render: at most 60 requests, seen within 10 s", () => {
    const r = trials(300_000, 1);
    expect(r.total429).toBe(0);
    expect(r.maxRequestsPerWatcher).toBeLessThanOrEqual(60);
    expect(r.worstDelayMs).toBeLessThanOrEqual(10_000);
  });

  it("an hour-long render: under 400 requests, seen within 10 s, never a 429", () => {
    const r = trials(3_600_000, 1, 6);
    expect(r.total429).toBe(0);
    expect(r.maxRequestsPerWatcher).toBeLessThan(400);
    expect(r.worstDelayMs).toBeLessThanOrEqual(10_000);
  });

  it.each([30_000, 300_000, 3_600_000])(
    "three watchers of %d ms renders stay under 60/min and 1000/h",
    (renderMs) => {
      const r = trials(renderMs, 3, 4);
      expect(r.total429).toBe(0);
      expect(r.peakMinute).toBeLessThanOrEqual(60);
      expect(r.peakHour).toBeLessThanOrEqual(1000);
      if (renderMs <= 300_000)
        expect(r.worstDelayMs).toBeLessThanOrEqual(renderMs === 30_000 ? 2500 : 10_000);
    },
  );

  it.each([
    [10, 30_000],
    [20, 30_000],
    [20, 300_000],
  ])("%d watchers of %d ms renders: never a 429, the sliding minute at 54", (watchers, renderMs) => {
    const r = trials(renderMs, watchers, 3);
    expect(r.total429).toBe(0);
    expect(r.peakMinute).toBeLessThanOrEqual(54);
  });

  it("a watcher that meets an exhausted key (another client used it) waits, then finishes without hammering", () => {
    // A policy wrapper that starts with the key already drained by someone else.
    const limiter = new SimulatedLimiter();
    for (let i = 0; i < 60; i++) limiter.take(0);
    let t = 500;
    let requests = 0;
    let refused = 0;
    let retryAfterMs: number | undefined;
    let rateLimit: PollInput["rateLimit"];
    let polled = false;
    for (;;) {
      const d = nextPoll({
        now: t,
        elapsedMs: t,
        polled,
        consecutiveFailures: 0,
        retryAfterMs,
        rateLimit,
        random: () => 0.5,
      });
      t += d.delayMs;
      const a = limiter.take(t);
      requests++;
      polled = true;
      rateLimit = a.rateLimit;
      retryAfterMs = a.retryAfterMs;
      if (!a.allowed) refused++;
      if (t > 120_000) break;
    }
    expect(refused).toBe(1); // the first poll learns the key is drained; it then waits for the reset
    expect(requests).toBeLessThan(60);
  });
});
