/**
 * The transport's retry policy: a PURE function of its inputs (no clock, no timers, no I/O;
 * the time and the random source are parameters), like the poll scheduler (poll/scheduler.ts),
 * so its tests run in simulated time. The transport's loop is: attempt -> `retryDecision`
 * -> sleep `delayMs` -> attempt.
 *
 * The policy, in order:
 * 1. An answer whose status is not 408, 429 or 5xx is final (2xx, 3xx, 4xx).
 * 2. A connection failure that does not go away by itself (a certificate problem, a proxy's
 *    refusal, a port fetch blocks) is final.
 * 3. Only requests that are safe to repeat are retried: GET and HEAD, a request with an
 *    Idempotency-Key (the contract: "a client that retries a POST must send one"), or one
 *    whose caller said so (`retry: true`); `retry: false` never is.
 * 4. At most `maxRetries` retries.
 * 5. The wait a server asked for (Retry-After in seconds or as an HTTP date, then for a 429
 *    X-RateLimit-Reset or RateLimit-Reset, then the 429 body's "Try again in N seconds") is a
 *    LOWER BOUND: the delay is that wait plus a small margin plus a random spread (up to one
 *    base delay), so the requests a server refused together come back one by one. A wait
 *    longer than `maxServerWaitMs` is not slept: the answer is returned (the error names it).
 * 6. Otherwise full-jitter capped exponential backoff: random in [0, min(cap, base x 2^(n-1))).
 * 7. Never less than `minGapMs` between two attempts; never a retry whose wait would reach
 *    the overall deadline (a timed-out attempt with no time left is the deadline's error).
 */
import {
  backoffDelayMs,
  DEFAULT_BACKOFF_BASE_MS,
  DEFAULT_MIN_GAP_MS,
  formatMs,
  type ServerWait,
  serverRequestedWait,
} from "./backoff.js";
import type { RetryTuning } from "./http-types.js";

export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_MAX_SERVER_WAIT_MS = 60_000;
/** Added to a server-asked wait so the retry lands after the server's moment, not on it. */
export const SERVER_WAIT_MARGIN_MS = 20;

/** What one attempt came to. */
export type AttemptOutcome =
  | {
      kind: "answer";
      status: number;
      /** Response headers (case-insensitive lookup). */
      headers: { get(name: string): string | null };
      /** The parsed JSON body, or its text (read for "Try again in N seconds"). */
      body?: unknown;
    }
  /** No answer: `reason` is ConnectionError's reason word ("refused", "dns", "tls", ...). */
  | { kind: "connection"; reason: string }
  /** The attempt's own timeout fired. */
  | { kind: "timeout" };

/** Connection failures retrying cannot cure, with the words the debug line uses. */
export const FINAL_REASONS: Readonly<Record<string, string>> = {
  tls: "a certificate problem",
  proxy: "a proxy's refusal",
  "blocked-port": "a blocked port",
};

/** The transport's retry tuning (http-types.ts) with its maxRetries; the random source is RetryInput's. */
export type RetryPolicyTuning = Omit<RetryTuning, "random"> & {
  /** Retries after the first attempt. Default 2. */
  maxRetries?: number;
};

export interface RetryInput {
  /** The request's method (any case). */
  method: string;
  /** Whether the request carries an Idempotency-Key. */
  idempotencyKey: boolean;
  /** The caller's override: false never retries, true retries any method. */
  retry?: boolean;
  /** The attempt that just ended, 1 for the first. */
  attempt: number;
  outcome: AttemptOutcome;
  /** Local epoch ms now (HTTP dates and X-RateLimit-Reset are measured against it). */
  now: number;
  /** Time left before the overall deadline, ms. */
  timeLeftMs: number;
  tuning?: RetryPolicyTuning;
  /** A number in [0, 1). */
  random: () => number;
}

export type StopReason =
  /** A status that retrying does not change (2xx, 3xx, 4xx other than 408 and 429). */
  | "final-status"
  /** A connection failure retrying does not cure (FINAL_REASONS). */
  | "final-failure"
  /** The method is not safe to repeat (a POST without an Idempotency-Key, or `retry: false`). */
  | "not-safe"
  /** maxRetries retries were made. */
  | "attempts"
  /** The server asked for a wait longer than maxServerWaitMs. */
  | "server-wait"
  /** Waiting would reach the overall deadline. */
  | "deadline"
  /** The attempt timed out with no time left before the overall deadline. */
  | "deadline-reached";

export type RetryDecision =
  | {
      retry: true;
      delayMs: number;
      /** For the debug line: "status 503; server asked 1 s via retry-after", "timeout; backoff". */
      why: string;
      /** The server's ask, when there was one. */
      serverWait?: ServerWait;
    }
  | {
      retry: false;
      reason: StopReason;
      /** The server's ask (reason "server-wait"). */
      serverWait?: ServerWait;
      /** The delay that would have passed the deadline (reason "deadline"). */
      delayMs?: number;
    };

/** 408, 429 and 5xx: answers that may change if asked again. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** GET/HEAD, or any method with an Idempotency-Key; the caller's `retry` overrides. */
export function isSafeToRepeat(method: string, idempotencyKey: boolean, override?: boolean): boolean {
  if (override !== undefined) return override;
  const m = method.toUpperCase();
  return m === "GET" || m === "HEAD" || idempotencyKey;
}

/** Decides whether (and when) to make another attempt after `input.attempt`. */
export function retryDecision(input: RetryInput): RetryDecision {
  const t = input.tuning ?? {};
  const maxRetries = Math.max(0, t.maxRetries ?? DEFAULT_MAX_RETRIES);
  const minGap = t.minGapMs ?? DEFAULT_MIN_GAP_MS;
  const baseMs = t.baseDelayMs ?? DEFAULT_BACKOFF_BASE_MS;
  const maxServerWait = t.maxServerWaitMs ?? DEFAULT_MAX_SERVER_WAIT_MS;
  const { outcome } = input;

  if (outcome.kind === "answer" && !isRetryableStatus(outcome.status)) {
    return { retry: false, reason: "final-status" };
  }
  if (outcome.kind === "timeout" && input.timeLeftMs <= 0)
    return { retry: false, reason: "deadline-reached" };
  if (outcome.kind === "connection" && FINAL_REASONS[outcome.reason]) {
    return { retry: false, reason: "final-failure" };
  }
  if (!isSafeToRepeat(input.method, input.idempotencyKey, input.retry))
    return { retry: false, reason: "not-safe" };
  if (input.attempt > maxRetries) return { retry: false, reason: "attempts" };

  const backoff = () =>
    Math.max(backoffDelayMs(input.attempt, { baseMs, capMs: t.maxDelayMs, random: input.random }), minGap);

  let delayMs: number;
  let why: string;
  let serverWait: ServerWait | undefined;
  if (outcome.kind === "answer") {
    serverWait = serverRequestedWait(outcome.status, outcome.headers, outcome.body, input.now) ?? undefined;
    if (serverWait) {
      if (serverWait.ms > maxServerWait) return { retry: false, reason: "server-wait", serverWait };
      const lower = Math.max(serverWait.ms + SERVER_WAIT_MARGIN_MS, minGap);
      if (lower >= input.timeLeftMs) return { retry: false, reason: "deadline", delayMs: lower, serverWait };
      // The spread never pushes a retry that fits past the deadline.
      const room = input.timeLeftMs - 1 - lower;
      const spread = Math.floor(Math.min(Math.max(input.random(), 0), 0.999_999) * baseMs);
      delayMs = lower + Math.min(spread, room);
      why = `status ${outcome.status}; server asked ${formatMs(serverWait.ms)} via ${serverWait.source}`;
    } else {
      delayMs = backoff();
      why = `status ${outcome.status}; backoff`;
    }
  } else {
    delayMs = backoff();
    why = `${outcome.kind === "timeout" ? "timeout" : `connection_error (${outcome.reason})`}; backoff`;
  }
  if (delayMs >= input.timeLeftMs) return { retry: false, reason: "deadline", delayMs, serverWait };
  return serverWait ? { retry: true, delayMs, why, serverWait } : { retry: true, delayMs, why };
}

/**
 * The debug line for a decision not to retry (null when there is nothing to say: a final
 * status, or the deadline error that follows).
 */
export function stopLine(
  d: Extract<RetryDecision, { retry: false }>,
  input: { method: string; url: string; attempt: number; outcome: AttemptOutcome },
  maxServerWaitMs = DEFAULT_MAX_SERVER_WAIT_MS,
): string | null {
  const { method, url, attempt, outcome } = input;
  switch (d.reason) {
    case "final-status":
    case "deadline-reached":
      return null;
    case "final-failure":
      return outcome.kind === "connection"
        ? `not retrying: ${FINAL_REASONS[outcome.reason]} does not go away by itself`
        : null;
    case "not-safe":
      return attempt > 1 ? null : `not retrying ${method} ${url}: not safe to repeat`;
    case "attempts":
      return attempt > 1 ? `giving up on ${method} ${url} after ${attempt} attempts` : null;
    case "server-wait":
      return d.serverWait
        ? `not retrying: the server asked for ${formatMs(d.serverWait.ms)} (${d.serverWait.source}), more than ${formatMs(maxServerWaitMs)}`
        : null;
    case "deadline":
      return `not retrying: waiting ${formatMs(d.delayMs ?? 0)} would pass the overall deadline`;
  }
}
