/**
 * The transport's retry policy (src/lib/sdk/retry.ts) in simulated time: a fake clock and a
 * fake random source are passed in, nothing sleeps, nothing is sent.
 */
import { describe, expect, it } from "vitest";
import {
  type AttemptOutcome,
  type RetryDecision,
  type RetryInput,
  retryDecision,
  stopLine,
} from "../../src/lib/sdk/retry.js";

const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
const headers = (h: Record<string, string> = {}) => {
  const lower = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (n: string) => lower[n.toLowerCase()] ?? null };
};
const answer = (status: number, h: Record<string, string> = {}, body?: unknown): AttemptOutcome => ({
  kind: "answer",
  status,
  headers: headers(h),
  body,
});
const TOP = () => 0.999_999;
const ZERO = () => 0;

/** One decision with defaults: GET, first attempt, 2 minutes left, default tuning. */
function decide(over: Partial<RetryInput>): RetryDecision {
  return retryDecision({
    method: "GET",
    idempotencyKey: false,
    attempt: 1,
    outcome: answer(503),
    now: T0,
    timeLeftMs: 120_000,
    random: ZERO,
    ...over,
  });
}
function delayOf(d: RetryDecision): number {
  if (!d.retry) throw new Error(`expected a retry, got a stop (${d.reason})`);
  return d.delayMs;
}
function stopOf(d: RetryDecision): string {
  if (d.retry) throw new Error(`expected a stop, got a retry in ${d.delayMs} ms`);
  return d.reason;
}

/** A deterministic random source (an LCG), so the bounds are checked over many draws. */
function seeded(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("backoff (no server-asked wait)", () => {
  const tuning = { maxRetries: 10, baseDelayMs: 500, maxDelayMs: 4000, minGapMs: 0 };
  it("doubles with each retry at the top of the jitter range", () => {
    const delays = [1, 2, 3].map((attempt) => delayOf(decide({ attempt, tuning, random: TOP })));
    expect(delays).toEqual([499, 999, 1999]);
  });
  it("is capped at maxDelayMs however many retries", () => {
    expect(delayOf(decide({ attempt: 4, tuning, random: TOP }))).toBe(3999);
    expect(delayOf(decide({ attempt: 9, tuning, random: TOP }))).toBe(3999);
  });
  it("is full jitter: uniform in [0, bound), so 0.5 gives half the bound", () => {
    expect(delayOf(decide({ attempt: 3, tuning, random: () => 0.5 }))).toBe(1000);
    const rnd = seeded();
    const draws = Array.from({ length: 500 }, () => delayOf(decide({ attempt: 3, tuning, random: rnd })));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(2000);
    // Spread over the whole range, not bunched at one end (full jitter, not "equal jitter").
    expect(draws.filter((d) => d < 500).length).toBeGreaterThan(75);
    expect(draws.filter((d) => d >= 1500).length).toBeGreaterThan(75);
  });
  it("never goes below the minimum gap", () => {
    expect(delayOf(decide({ tuning: { minGapMs: 250 }, random: ZERO }))).toBe(250);
  });
  it("says why in the debug words", () => {
    expect(decide({ random: ZERO })).toMatchObject({ retry: true, why: "status 503; backoff" });
    expect(decide({ outcome: { kind: "timeout" } })).toMatchObject({ why: "timeout; backoff" });
    expect(decide({ outcome: { kind: "connection", reason: "reset" } })).toMatchObject({
      why: "connection_error (reset); backoff",
    });
  });
});

describe("a wait the server asked for is a lower bound", () => {
  it("Retry-After in seconds: at least the wait (plus a 20 ms margin), at most one base delay more", () => {
    const out = answer(503, { "retry-after": "2" });
    const low = delayOf(decide({ outcome: out, random: ZERO }));
    const high = delayOf(decide({ outcome: out, random: TOP }));
    expect(low).toBe(2020);
    expect(high).toBe(2020 + 499);
    const rnd = seeded(7);
    for (let i = 0; i < 200; i++) {
      const d = delayOf(decide({ outcome: out, random: rnd }));
      expect(d).toBeGreaterThanOrEqual(2020);
      expect(d).toBeLessThan(2520);
    }
    expect(decide({ outcome: out })).toMatchObject({
      why: "status 503; server asked 2 s via retry-after",
      serverWait: { ms: 2000, source: "retry-after" },
    });
  });
  it("Retry-After as an HTTP date, measured on the server's Date header (local clock an hour ahead)", () => {
    const out = answer(429, {
      date: "Sat, 05 Dec 2026 11:00:00 GMT",
      "retry-after": "Sat, 05 Dec 2026 11:00:30 GMT",
    });
    expect(delayOf(decide({ outcome: out, random: ZERO }))).toBe(30_020);
  });
  it("Retry-After as an HTTP date without a Date header, against the clock passed in", () => {
    const out = answer(503, { "retry-after": "Sat, 05 Dec 2026 12:00:07 GMT" });
    expect(delayOf(decide({ outcome: out, now: T0 }))).toBe(7020);
    expect(delayOf(decide({ outcome: out, now: T0 + 5000 }))).toBe(2020);
  });
  it("a Retry-After of 0 still keeps the minimum gap", () => {
    expect(delayOf(decide({ outcome: answer(503, { "retry-after": "0" }), tuning: { minGapMs: 250 } }))).toBe(
      250,
    );
  });
  it("X-RateLimit-Reset on a 429, on the server's clock", () => {
    const out = answer(429, {
      date: "Sat, 05 Dec 2026 11:00:00 GMT",
      "x-ratelimit-limit": "10",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": String(Date.UTC(2026, 11, 5, 11, 0, 12) / 1000),
    });
    const d = decide({ outcome: out });
    expect(delayOf(d)).toBe(12_020);
    expect(d).toMatchObject({ serverWait: { source: "x-ratelimit-reset" } });
  });
  it("the IETF draft's RateLimit-Reset (delta-seconds) on a 429", () => {
    const d = decide({ outcome: answer(429, { "ratelimit-reset": "3" }) });
    expect(delayOf(d)).toBe(3020);
    expect(d).toMatchObject({ serverWait: { ms: 3000, source: "ratelimit-reset" } });
  });
  it("Retry-After wins over the rate-limit headers", () => {
    const out = answer(429, { "retry-after": "1", "ratelimit-reset": "30" });
    expect(delayOf(decide({ outcome: out }))).toBe(1020);
  });
  it("the 429 body's 'Try again in N seconds' when no header says", () => {
    const out = answer(429, {}, { error: "Rate limit exceeded. Try again in 4 seconds." });
    expect(delayOf(decide({ outcome: out }))).toBe(4020);
  });
  it("a wait longer than maxServerWaitMs is not slept: the answer is final, with the wait", () => {
    const d = decide({ outcome: answer(429, { "retry-after": "61" }) });
    expect(d).toEqual({
      retry: false,
      reason: "server-wait",
      serverWait: { ms: 61_000, source: "retry-after" },
    });
    expect(
      delayOf(decide({ outcome: answer(429, { "retry-after": "61" }), tuning: { maxServerWaitMs: 90_000 } })),
    ).toBe(61_020);
  });
});

describe("what is safe to repeat", () => {
  const failures: AttemptOutcome[] = [
    answer(503),
    answer(429, { "retry-after": "1" }),
    { kind: "timeout" },
    { kind: "connection", reason: "reset" },
  ];
  it("never retries a POST without an Idempotency-Key, whatever went wrong", () => {
    for (const outcome of failures) {
      expect(stopOf(decide({ method: "POST", outcome }))).toBe("not-safe");
      expect(stopOf(decide({ method: "post", outcome }))).toBe("not-safe");
      expect(stopOf(decide({ method: "PATCH", outcome }))).toBe("not-safe");
    }
  });
  it("retries a POST that carries an Idempotency-Key", () => {
    for (const outcome of failures) {
      expect(decide({ method: "POST", idempotencyKey: true, outcome }).retry).toBe(true);
    }
  });
  it("retries GET and HEAD; the caller's retry option overrides both ways", () => {
    expect(decide({ method: "HEAD" }).retry).toBe(true);
    expect(stopOf(decide({ method: "GET", retry: false }))).toBe("not-safe");
    expect(stopOf(decide({ method: "POST", idempotencyKey: true, retry: false }))).toBe("not-safe");
    expect(decide({ method: "DELETE", retry: true }).retry).toBe(true);
  });
  it("stops after maxRetries retries", () => {
    expect(decide({ attempt: 2, tuning: { maxRetries: 2 } }).retry).toBe(true);
    expect(stopOf(decide({ attempt: 3, tuning: { maxRetries: 2 } }))).toBe("attempts");
    expect(stopOf(decide({ attempt: 1, tuning: { maxRetries: 0 } }))).toBe("attempts");
  });
});

describe("which outcomes are retried", () => {
  it("2xx, 3xx and 4xx answers (other than 408 and 429) are final", () => {
    for (const status of [200, 204, 304, 400, 401, 403, 404, 409, 413, 422]) {
      expect(stopOf(decide({ outcome: answer(status, { "retry-after": "1" }) }))).toBe("final-status");
    }
  });
  it("408, 429 and every 5xx are retried", () => {
    for (const status of [408, 429, 500, 502, 503, 504, 599]) {
      expect(decide({ outcome: answer(status) }).retry).toBe(true);
    }
  });
  it("network errors and attempt timeouts are retried for a GET", () => {
    for (const reason of ["refused", "reset", "dns", "network"]) {
      expect(decide({ outcome: { kind: "connection", reason } }).retry).toBe(true);
    }
    expect(decide({ outcome: { kind: "timeout" } }).retry).toBe(true);
  });
  it("a certificate problem, a proxy's refusal and a blocked port are final, even for a GET", () => {
    for (const reason of ["tls", "proxy", "blocked-port"]) {
      expect(stopOf(decide({ outcome: { kind: "connection", reason } }))).toBe("final-failure");
    }
  });
});

describe("the overall deadline", () => {
  it("no retry whose wait would reach the deadline", () => {
    const out = answer(503, { "retry-after": "5" });
    expect(decide({ outcome: out, timeLeftMs: 5000 })).toMatchObject({
      retry: false,
      reason: "deadline",
      delayMs: 5020,
    });
    expect(decide({ outcome: out, timeLeftMs: 5021 }).retry).toBe(true);
    expect(stopOf(decide({ tuning: { minGapMs: 300 }, timeLeftMs: 300 }))).toBe("deadline");
    expect(decide({ tuning: { minGapMs: 300 }, timeLeftMs: 301 }).retry).toBe(true);
  });
  it("the random spread never pushes a retry that fits past the deadline", () => {
    const d = delayOf(
      decide({ outcome: answer(503, { "retry-after": "1" }), timeLeftMs: 1100, random: TOP }),
    );
    expect(d).toBe(1099);
  });
  it("a timed-out attempt with no time left is the deadline's, not a retry", () => {
    expect(stopOf(decide({ outcome: { kind: "timeout" }, timeLeftMs: 0 }))).toBe("deadline-reached");
    expect(stopOf(decide({ outcome: { kind: "timeout" }, timeLeftMs: -5 }))).toBe("deadline-reached");
  });
});

describe("a request followed in simulated time", () => {
  /** Runs attempt -> policy -> sleep on a fake clock; returns the attempt times and the stop. */
  function simulate(
    outcomes: (attempt: number, now: number) => AttemptOutcome,
    over: Partial<RetryInput> & { deadlineMs: number; attemptMs: number },
  ) {
    let now = T0;
    const deadline = T0 + over.deadlineMs;
    const sentAt: number[] = [];
    for (let attempt = 1; attempt < 100; attempt++) {
      sentAt.push(now - T0);
      now += over.attemptMs;
      const d = retryDecision({
        method: "GET",
        idempotencyKey: false,
        random: seeded(attempt),
        ...over,
        attempt,
        outcome: outcomes(attempt, now),
        now,
        timeLeftMs: deadline - now,
      });
      if (!d.retry) return { sentAt, stop: d.reason, endedAt: now - T0 };
      now += d.delayMs;
    }
    throw new Error("no stop");
  }

  it("a server that stays down: exponential spacing, then the retry budget ends it", () => {
    const r = simulate(() => answer(503), {
      deadlineMs: 600_000,
      attemptMs: 10,
      tuning: { maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 30_000, minGapMs: 0 },
      random: TOP,
    });
    expect(r.stop).toBe("attempts");
    const gaps = r.sentAt.slice(1).map((t, i) => t - r.sentAt[i]! - 10);
    expect(gaps).toEqual([999, 1999, 3999, 7999, 15_999]);
  });
  it("a server that keeps asking for 20 s: stops before the 60 s deadline instead of sleeping past it", () => {
    const r = simulate(() => answer(429, { "retry-after": "20" }), {
      deadlineMs: 60_000,
      attemptMs: 100,
      tuning: { maxRetries: 10 },
    });
    expect(r.stop).toBe("deadline");
    expect(r.sentAt).toHaveLength(3);
    for (let i = 1; i < r.sentAt.length; i++) expect(r.sentAt[i]! - r.sentAt[i - 1]!).toBeGreaterThan(20_100);
    expect(r.endedAt).toBeLessThan(60_000);
  });
  it("a 429 with X-RateLimit-Reset: the retry comes after the reset, then the answer is final", () => {
    const resetAt = T0 + 7_500;
    const r = simulate(
      (attempt, now) =>
        attempt === 1
          ? answer(429, {
              date: new Date(now).toUTCString(),
              "x-ratelimit-reset": String(Math.ceil(resetAt / 1000)),
            })
          : answer(200),
      { deadlineMs: 120_000, attemptMs: 50 },
    );
    expect(r.stop).toBe("final-status");
    expect(r.sentAt).toHaveLength(2);
    expect(T0 + r.sentAt[1]!).toBeGreaterThanOrEqual(resetAt);
  });
});

describe("debug lines for a stop", () => {
  const at = { method: "GET", url: "http://127.0.0.1:1/api/me", attempt: 1, outcome: answer(503) };
  const stop = (d: RetryDecision) => {
    if (d.retry) throw new Error("expected a stop");
    return d;
  };
  it("says each reason the way the transport's log always did", () => {
    expect(stopLine(stop(decide({ method: "POST" })), { ...at, method: "POST" })).toBe(
      "not retrying POST http://127.0.0.1:1/api/me: not safe to repeat",
    );
    expect(stopLine(stop(decide({ attempt: 3 })), { ...at, attempt: 3 })).toBe(
      "giving up on GET http://127.0.0.1:1/api/me after 3 attempts",
    );
    const tls: AttemptOutcome = { kind: "connection", reason: "tls" };
    expect(stopLine(stop(decide({ outcome: tls })), { ...at, outcome: tls })).toBe(
      "not retrying: a certificate problem does not go away by itself",
    );
    const slow = answer(429, { "retry-after": "90" });
    expect(stopLine(stop(decide({ outcome: slow })), { ...at, outcome: slow })).toBe(
      "not retrying: the server asked for 90 s (retry-after), more than 60 s",
    );
    expect(stopLine(stop(decide({ timeLeftMs: 100, tuning: { minGapMs: 250 } })), at)).toBe(
      "not retrying: waiting 250 ms would pass the overall deadline",
    );
    expect(stopLine(stop(decide({ outcome: answer(404) })), at)).toBeNull();
  });
});
