/**
 * The pure parts of the retry policy: backoff delays, server-asked waits and rate-limit
 * headers. No I/O, no timers; the clock and the random source are parameters so the unit
 * tests can pin them.
 */

export interface BackoffOptions {
  /** Bound of the first retry's delay. Default 500 ms. */
  baseMs?: number;
  /** Upper bound of any computed delay. Default 10 000 ms. */
  capMs?: number;
  /** A number in [0, 1). Default Math.random. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_BASE_MS = 500;
export const DEFAULT_BACKOFF_CAP_MS = 10_000;
/** The smallest gap between two attempts of one request, whatever the policy says. */
export const DEFAULT_MIN_GAP_MS = 250;

/**
 * Full-jitter capped exponential backoff (AWS style): a random delay between 0 and
 * min(cap, base * 2^(retry-1)). `retry` is 1 for the first retry.
 */
export function backoffDelayMs(retry: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const cap = options.capMs ?? DEFAULT_BACKOFF_CAP_MS;
  const random = options.random ?? Math.random;
  const exp = Math.min(cap, base * 2 ** Math.max(0, retry - 1));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * exp);
}

/** Parses an HTTP date (IMF-fixdate and the other forms Date.parse accepts); null when absent or invalid. */
export function parseHttpDate(value: string | null | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

/**
 * `Retry-After`: delta-seconds or an HTTP date. For a date, the wait is measured against the
 * server's `Date` header when there is one (so a skewed local clock does not matter), else
 * against `now`. Returns milliseconds (>= 0), or null when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  dateHeader: string | null | undefined,
  now: number,
): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (v === "") return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  // An HTTP date always names a weekday or month; anything else ("-5", "soon") is ignored.
  if (!/[a-z]{3}/i.test(v)) return null;
  const at = parseHttpDate(v);
  if (at === null) return null;
  const serverNow = parseHttpDate(dateHeader) ?? now;
  return Math.max(0, at - serverNow);
}

/**
 * Clock skew: how far the local clock is ahead of the server's (local - server), from the
 * `Date` header of an answer received at `now`. 0 when there is no usable Date header.
 * The Date header has one-second resolution, so the skew is accurate to within a second.
 */
export function clockSkewMs(dateHeader: string | null | undefined, now: number): number {
  const server = parseHttpDate(dateHeader);
  return server === null ? 0 : now - server;
}

/**
 * `X-RateLimit-Reset` (Unix seconds, server clock) converted to local epoch milliseconds,
 * corrected for skew. Returns null when absent or unreadable.
 */
export function rateLimitResetAt(
  resetHeader: string | null | undefined,
  dateHeader: string | null | undefined,
  now: number,
): number | null {
  if (!resetHeader) return null;
  const v = resetHeader.trim();
  if (!/^\d+(\.\d+)?$/.test(v)) return null;
  const resetServerMs = Number(v) * 1000;
  return Math.round(resetServerMs + clockSkewMs(dateHeader, now));
}

/**
 * The wait until `X-RateLimit-Reset`, measured on the server's clock when a Date header is
 * present (the Date header is truncated to the second, so this errs on the long side).
 */
export function waitUntilResetMs(
  resetHeader: string | null | undefined,
  dateHeader: string | null | undefined,
  now: number,
): number | null {
  const at = rateLimitResetAt(resetHeader, dateHeader, now);
  if (at === null) return null;
  return Math.max(0, at - now);
}

/** "Rate limit exceeded. Try again in 60 seconds." -> 60 000 ms. Accepts a parsed body or raw text. */
export function parseTryAgainIn(body: unknown): number | null {
  let text: string | undefined;
  if (typeof body === "string") text = body;
  else if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const parts = [b.error, b.message, b.error_description].filter((x) => typeof x === "string");
    text = parts.join(" ");
  }
  if (!text) return null;
  const m =
    /try again in\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|secs|seconds?|m|mins?|minutes?)?\b/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  if (unit.startsWith("ms") || unit.startsWith("milli")) return Math.round(n);
  if (unit.startsWith("m")) return Math.round(n * 60_000);
  return Math.round(n * 1000);
}

export interface ServerWait {
  ms: number;
  /** Where the wait came from, for debug lines and messages. */
  source: "retry-after" | "x-ratelimit-reset" | "ratelimit-reset" | "body";
}

/**
 * What the server asked us to wait before trying again, in the documented order of
 * precedence: `Retry-After`, then (for 429) `X-RateLimit-Reset` corrected for skew, then
 * (for 429) the IETF draft's `RateLimit-Reset` (delta-seconds; what servers other than
 * GigaReels' send, e.g. a gateway in front of it), then (for 429) the body's "Try again in
 * N seconds". Null when it did not say.
 */
export function serverRequestedWait(
  status: number,
  headers: { get(name: string): string | null },
  body: unknown,
  now: number,
): ServerWait | null {
  const date = headers.get("date");
  const ra = parseRetryAfter(headers.get("retry-after"), date, now);
  if (ra !== null) return { ms: ra, source: "retry-after" };
  if (status !== 429) return null;
  const reset = waitUntilResetMs(headers.get("x-ratelimit-reset"), date, now);
  if (reset !== null) return { ms: reset, source: "x-ratelimit-reset" };
  const delta = headers.get("ratelimit-reset")?.trim();
  if (delta && /^\d+(\.\d+)?$/.test(delta))
    return { ms: Math.round(Number(delta) * 1000), source: "ratelimit-reset" };
  const fromBody = parseTryAgainIn(body);
  if (fromBody !== null) return { ms: fromBody, source: "body" };
  return null;
}

export interface RateLimitState {
  limit: number | null;
  remaining: number | null;
  /** Local epoch ms at which the window resets (skew-corrected), or null. */
  resetAt: number | null;
  /** Local epoch ms when these headers were seen. */
  observedAt: number;
}

/** Reads X-RateLimit-* headers; null when the answer carried none. */
export function parseRateLimit(
  headers: { get(name: string): string | null },
  now: number,
): RateLimitState | null {
  const num = (name: string): number | null => {
    const v = headers.get(name);
    if (v === null || !/^\s*\d+\s*$/.test(v)) return null;
    return Number(v);
  };
  const limit = num("x-ratelimit-limit");
  const remaining = num("x-ratelimit-remaining");
  const resetAt = rateLimitResetAt(headers.get("x-ratelimit-reset"), headers.get("date"), now);
  if (limit === null && remaining === null && resetAt === null) return null;
  return { limit, remaining, resetAt, observedAt: now };
}

export type EndpointGroup = "render" | "status" | "social-media" | "other";

/** The published rate-limit groups: renders, status checks, social media; everything else. */
export function endpointGroup(path: string): EndpointGroup {
  const p = path.split("?")[0] ?? path;
  if (p.startsWith("/api/render/status/") || p === "/api/render/status") return "status";
  if (p === "/api/render" || p.startsWith("/api/render/")) return "render";
  if (p.startsWith("/api/social-media/") || p === "/api/social-media") return "social-media";
  return "other";
}

/** "1.5 s", "250 ms": for messages and debug lines. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
