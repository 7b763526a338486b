import { describe, expect, it } from "vitest";
import {
  backoffDelayMs,
  clockSkewMs,
  endpointGroup,
  parseRateLimit,
  parseRetryAfter,
  parseTryAgainIn,
  rateLimitResetAt,
  serverRequestedWait,
  waitUntilResetMs,
} from "../../src/lib/sdk/backoff.js";

const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n.toLowerCase()] ?? null });

describe("backoffDelayMs (full jitter, capped)", () => {
  it("grows exponentially with the retry number at the top of the jitter range", () => {
    const top = () => 0.999999;
    expect(backoffDelayMs(1, { baseMs: 500, capMs: 10_000, random: top })).toBe(499);
    expect(backoffDelayMs(2, { baseMs: 500, capMs: 10_000, random: top })).toBe(999);
    expect(backoffDelayMs(3, { baseMs: 500, capMs: 10_000, random: top })).toBe(1999);
  });
  it("never exceeds the cap", () => {
    expect(backoffDelayMs(30, { baseMs: 500, capMs: 4000, random: () => 0.999999 })).toBe(3999);
  });
  it("spreads uniformly between 0 and the bound", () => {
    expect(backoffDelayMs(3, { baseMs: 500, random: () => 0 })).toBe(0);
    expect(backoffDelayMs(3, { baseMs: 500, random: () => 0.5 })).toBe(1000);
  });
  it("clamps a bad random source", () => {
    expect(backoffDelayMs(1, { baseMs: 500, random: () => 7 })).toBe(500);
    expect(backoffDelayMs(1, { baseMs: 500, random: () => -1 })).toBe(0);
  });
});

describe("parseRetryAfter", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it("reads delta-seconds", () => {
    expect(parseRetryAfter("60", null, now)).toBe(60_000);
    expect(parseRetryAfter(" 2 ", null, now)).toBe(2000);
    expect(parseRetryAfter("0", null, now)).toBe(0);
    expect(parseRetryAfter("1.5", null, now)).toBe(1500);
  });
  it("reads an HTTP date against the server's Date header, not the local clock", () => {
    const serverDate = "Thu, 01 Jan 2026 11:00:00 GMT"; // local clock is an hour ahead
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:00:30 GMT", serverDate, now)).toBe(30_000);
  });
  it("reads an HTTP date against the local clock when there is no Date header", () => {
    expect(parseRetryAfter("Thu, 01 Jan 2026 12:00:10 GMT", null, now)).toBe(10_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 11:00:10 GMT", null, now)).toBe(0);
  });
  it("ignores absent or unreadable values", () => {
    expect(parseRetryAfter(null, null, now)).toBeNull();
    expect(parseRetryAfter("", null, now)).toBeNull();
    expect(parseRetryAfter("soon", null, now)).toBeNull();
    expect(parseRetryAfter("-5", null, now)).toBeNull();
  });
});

describe("clock skew and X-RateLimit-Reset", () => {
  const serverNow = Date.UTC(2026, 0, 1, 12, 0, 0);
  const dateHeader = new Date(serverNow).toUTCString();
  it("measures how far the local clock is ahead of the server", () => {
    expect(clockSkewMs(dateHeader, serverNow + 90_000)).toBe(90_000);
    expect(clockSkewMs(dateHeader, serverNow - 5000)).toBe(-5000);
    expect(clockSkewMs(null, serverNow)).toBe(0);
    expect(clockSkewMs("garbage", serverNow)).toBe(0);
  });
  it("converts the reset time into local time", () => {
    const reset = String(serverNow / 1000 + 30);
    // Local clock 90 s ahead: the reset happens at local serverNow + 120 s.
    expect(rateLimitResetAt(reset, dateHeader, serverNow + 90_000)).toBe(serverNow + 120_000);
    // Without a Date header the server's seconds are taken as local.
    expect(rateLimitResetAt(reset, null, serverNow + 90_000)).toBe(serverNow + 30_000);
  });
  it("waits the server's 30 s even when the local clock is skewed either way", () => {
    const reset = String(serverNow / 1000 + 30);
    expect(waitUntilResetMs(reset, dateHeader, serverNow + 90_000)).toBe(30_000);
    expect(waitUntilResetMs(reset, dateHeader, serverNow - 3_600_000)).toBe(30_000);
    // Without Date, a clock 90 s ahead would think the reset has passed.
    expect(waitUntilResetMs(reset, null, serverNow + 90_000)).toBe(0);
  });
  it("rejects unreadable reset values", () => {
    expect(rateLimitResetAt("tomorrow", dateHeader, serverNow)).toBeNull();
    expect(rateLimitResetAt(undefined, dateHeader, serverNow)).toBeNull();
  });
});

describe("parseTryAgainIn", () => {
  it("reads the guide's 429 body", () => {
    expect(parseTryAgainIn({ error: "Rate limit exceeded. Try again in 60 seconds." })).toBe(60_000);
    expect(parseTryAgainIn("Rate limit exceeded. Try again in 1 second.")).toBe(1000);
    expect(parseTryAgainIn({ message: "try again in 2 minutes" })).toBe(120_000);
    expect(parseTryAgainIn({ error: "Try again in 250 ms" })).toBe(250);
  });
  it("returns null when the body says nothing usable", () => {
    expect(parseTryAgainIn({ error: "Rate limit exceeded" })).toBeNull();
    expect(parseTryAgainIn(null)).toBeNull();
    expect(parseTryAgainIn(42)).toBeNull();
  });
});

describe("serverRequestedWait precedence", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const date = new Date(now).toUTCString();
  const reset = String(now / 1000 + 20);
  const body = { error: "Rate limit exceeded. Try again in 60 seconds." };
  it("prefers Retry-After", () => {
    const w = serverRequestedWait(
      429,
      headers({ "retry-after": "5", "x-ratelimit-reset": reset, date }),
      body,
      now,
    );
    expect(w).toEqual({ ms: 5000, source: "retry-after" });
  });
  it("then X-RateLimit-Reset (skew corrected)", () => {
    const w = serverRequestedWait(429, headers({ "x-ratelimit-reset": reset, date }), body, now + 50_000);
    expect(w).toEqual({ ms: 20_000, source: "x-ratelimit-reset" });
  });
  it("then the body text", () => {
    expect(serverRequestedWait(429, headers({}), body, now)).toEqual({ ms: 60_000, source: "body" });
  });
  it("uses only Retry-After for other statuses", () => {
    expect(serverRequestedWait(503, headers({ "retry-after": "3" }), null, now)).toEqual({
      ms: 3000,
      source: "retry-after",
    });
    expect(serverRequestedWait(503, headers({ "x-ratelimit-reset": reset }), body, now)).toBeNull();
  });
});

describe("parseRateLimit and endpoint groups", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);
  it("reads the three headers, reset in skew-corrected local ms", () => {
    const rl = parseRateLimit(
      headers({
        "x-ratelimit-limit": "10",
        "x-ratelimit-remaining": "7",
        "x-ratelimit-reset": String(now / 1000 + 60),
        date: new Date(now).toUTCString(),
      }),
      now + 1000,
    );
    expect(rl).toEqual({ limit: 10, remaining: 7, resetAt: now + 61_000, observedAt: now + 1000 });
  });
  it("is null without rate-limit headers", () => {
    expect(parseRateLimit(headers({ "content-type": "application/json" }), now)).toBeNull();
  });
  it("groups paths as the published limits do", () => {
    expect(endpointGroup("/api/render")).toBe("render");
    expect(endpointGroup("/api/render/text")).toBe("render");
    expect(endpointGroup("/api/render/split")).toBe("render");
    expect(endpointGroup("/api/render/status/abc")).toBe("status");
    expect(endpointGroup("/api/social-media/post")).toBe("social-media");
    expect(endpointGroup("/api/me")).toBe("other");
    expect(endpointGroup("/api/renderer")).toBe("other");
  });
});
