/**
 * The loop behind `client.waitForRender(id, options)`: polls the status endpoint, lets the
 * pure scheduler (src/lib/sdk/poll/scheduler.ts) decide every wait, shares what it learns of
 * the key's budget with other watchers (src/lib/sdk/poll/budget.ts), and sleeps abortably.
 *
 * - `done` resolves with the final status; `error` throws RenderFailedError with the
 *   server's message; any other status word means "not finished yet".
 * - Transient trouble (connection errors, timeouts, 5xx, HTML or malformed answers, 429) is
 *   retried as the scheduler says and only ends the wait when it has lasted longer than
 *   `maxOutageMs` (OutageError, code "outage").
 * - `timeoutMs` bounds the whole wait (DeadlineExceededError); the AbortSignal stops the
 *   in-flight request and the sleep at once (AbortedError).
 * The status requests themselves must not be retried by the transport (the caller passes a
 * `getStatus` without retries), so the scheduler is the only one deciding when to ask again.
 */

import type { BudgetWait, SharedBudget } from "./poll/budget.js";
import { nextPoll, type RateLimitSnapshot } from "./poll/scheduler.js";
import { formatMs, parseRetryAfter } from "./backoff.js";
import {
  AbortedError,
  APIError,
  ConnectionError,
  DeadlineExceededError,
  type GigaReelsError,
  MalformedResponseError,
  RateLimitError,
  RenderFailedError,
  ServerError,
  TimeoutError,
} from "./errors.js";
import { sleep as abortableSleep } from "./transport.js";
import { nodeOnly } from "./runtime.js";
import type { RenderStatus } from "./types.js";
import { failureReason } from "../text.js";

export const DEFAULT_MAX_OUTAGE_MS = 5 * 60_000;

/** The server gave no usable answer for longer than `maxOutageMs`. Exit code 5. */
export class OutageError extends ConnectionError {
  override code = "outage";
  renderId: string;
  constructor(renderId: string, message: string, options: { cause?: unknown; suggestions?: string[] } = {}) {
    super(message, { ...options, reason: "outage" });
    this.renderId = renderId;
  }
}

export type WaitEventType = "status" | "throttled" | "retry" | "done" | "error";

/** What `onUpdate` receives. */
export interface WaitEvent {
  type: WaitEventType;
  renderId: string;
  /** The last status word seen (undefined before the first answer). */
  status?: string;
  /** 0-100 when the server says. */
  progress?: number;
  /** Since the wait started, ms. */
  elapsedMs: number;
  /** status: whether the status word or progress changed since the previous answer. */
  changed?: boolean;
  /** status, throttled, retry: the wait before the next poll, ms. */
  waitMs?: number;
  /**
   * throttled, retry: why ("retry-after", "rate-limit"; "budget-minute", "budget-hour",
   * "budget-day" when the key's shared budget makes it wait; "backoff", or an error code).
   */
  reason?: string;
  /** retry, throttled, error: a one-line description. */
  message?: string;
  /** retry: failures in a row. */
  attempt?: number;
  /** retry: how long the trouble has lasted, ms. */
  outageMs?: number;
  /** done: the video URL. */
  outputFile?: string;
  /** The full status answer, when there was one. */
  answer?: RenderStatus;
}

export interface WaitForRenderOptions {
  signal?: AbortSignal;
  /** Give up after this long (DeadlineExceededError). Default: no limit. */
  timeoutMs?: number;
  /** How long transient trouble may last before the wait fails. Default 5 minutes. */
  maxOutageMs?: number;
  /** Progress events; an exception thrown here is ignored. */
  onUpdate?: (event: WaitEvent) => void;
  /** When the render was submitted (local epoch ms), if known: the cadence follows its age. */
  submittedAt?: number;
  /** Share the key's budget with other watchers through the state file. Default true. */
  shareBudget?: boolean;
}

export interface WaitDeps {
  /** One status request, without transport retries. */
  getStatus(renderId: string, options: { signal: AbortSignal }): Promise<RenderStatus>;
  /** The last status-group rate-limit headers the transport saw. */
  rateLimit?(): RateLimitSnapshot | undefined;
  /** The key, to name the shared budget file (hashed). Without it the watcher works alone. */
  apiKey?(): Promise<string>;
  /** The config folder for the budget file. Default: configDir(). */
  budgetDir?: string;
  /** The length of the server's minute (tests shorten it; the hour and the day follow). Default 60 000. */
  minuteMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

const TERMINAL = new Set(["done", "error"]);

/** Errors worth another poll: the server or the path to it had a bad moment. */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof ConnectionError ||
    err instanceof TimeoutError ||
    err instanceof ServerError ||
    err instanceof RateLimitError ||
    err instanceof MalformedResponseError ||
    (err instanceof APIError && err.status === 408)
  );
}

/** The wait a failed answer asked for (429 already parsed by the transport; 503 Retry-After). */
function serverWaitOf(err: unknown, now: number): number | undefined {
  if (err instanceof RateLimitError) return err.retryAfterMs;
  if (err instanceof APIError) {
    const ms = parseRetryAfter(err.headers["retry-after"], err.headers.date, now);
    return ms ?? undefined;
  }
  return undefined;
}

function freshest(
  a: RateLimitSnapshot | undefined,
  b: RateLimitSnapshot | undefined,
): RateLimitSnapshot | undefined {
  if (!a) return b;
  if (!b) return a;
  return (b.observedAt ?? 0) > (a.observedAt ?? 0) ? b : a;
}

export async function waitForRender(
  deps: WaitDeps,
  renderId: string,
  options: WaitForRenderOptions = {},
): Promise<RenderStatus> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? abortableSleep;
  const random = deps.random ?? Math.random;
  const maxOutageMs = options.maxOutageMs ?? DEFAULT_MAX_OUTAGE_MS;
  const start = now();
  // Unknown submission time: treat the render as just past its first second, so the first
  // poll goes out at once and the cadence starts at its shortest.
  const submittedAt = options.submittedAt ?? start - 1_000;
  const deadline = options.timeoutMs !== undefined ? start + Math.max(0, options.timeoutMs) : undefined;
  const resume = `gigareels watch ${renderId}`;

  const emit = (event: Omit<WaitEvent, "renderId" | "elapsedMs">) => {
    if (!options.onUpdate) return;
    try {
      options.onUpdate({ renderId, elapsedMs: now() - start, ...event });
    } catch {
      // a failing listener must not end the wait
    }
  };
  const aborted = () =>
    new AbortedError(`Stopped waiting for render ${renderId}`, {
      suggestions: [`The render goes on; follow it again with: ${resume}`],
    });
  const deadlineError = () =>
    new DeadlineExceededError(
      `Render ${renderId} did not finish within ${formatMs(options.timeoutMs ?? 0)}; it may still be running`,
      { suggestions: [`Follow it again with: ${resume}`] },
    );

  // A missing key fails here as the status request would.
  // The shared budget is a file (Node only): loaded on first use, not with the SDK.
  let budget: SharedBudget | undefined;
  if (options.shareBudget !== false && deps.apiKey) {
    const key = await deps.apiKey();
    const { SharedBudget } = await nodeOnly(
      "The shared poll budget (shareBudget)",
      "pass shareBudget: false to waitForRender",
      () => import("./poll/budget.js"),
    );
    budget = new SharedBudget(key, { dir: deps.budgetDir, now, random, minuteMs: deps.minuteMs });
  }

  let view = budget ? await budget.update({ nextPollAt: now() }) : undefined;
  let polled = false;
  let failures = 0;
  let troubleSince: number | undefined;
  let serverWait: number | undefined;
  let lastStatus: string | undefined;
  let lastProgress: number | undefined;
  let pendingStatus: Omit<WaitEvent, "renderId" | "elapsedMs"> | undefined;
  let slowedFor: string | null = null;
  let lastRequestAt = Number.POSITIVE_INFINITY;

  try {
    for (;;) {
      if (options.signal?.aborted) throw aborted();
      const t = now();
      const decision = nextPoll({
        now: t,
        elapsedMs: t - submittedAt,
        polled,
        consecutiveFailures: failures,
        retryAfterMs: serverWait,
        rateLimit: freshest(view?.rateLimit, deps.rateLimit?.()),
        watchers: view?.watchers ?? 1,
        recentRequests: view?.recentRequests,
        windowPaceMs: view?.pace.floorMs,
        minuteMs: deps.minuteMs,
        random,
      });
      let delay = decision.delayMs;
      if (pendingStatus) emit({ ...pendingStatus, waitMs: delay });
      pendingStatus = undefined;
      if (polled && (decision.reason === "retry-after" || decision.reason === "rate-limit")) {
        emit({
          type: "throttled",
          status: lastStatus,
          progress: lastProgress,
          waitMs: delay,
          reason: decision.reason,
          message: `Rate limited: waiting ${formatMs(delay)} as the server asked`,
        });
      }
      // Slowing down for the hour or the day: said once, with the time of the next look.
      const paceWindow = view?.pace.window ?? null;
      if (
        paceWindow &&
        decision.reason === "budget" &&
        delay === view?.pace.floorMs &&
        paceWindow !== slowedFor
      ) {
        emit({
          type: "throttled",
          status: lastStatus,
          progress: lastProgress,
          waitMs: delay,
          reason: `budget-${paceWindow}`,
          message: budgetWaitMessage({ waitMs: delay, reason: paceWindow, until: t + delay }, true),
        });
      }
      slowedFor = paceWindow;
      if (deadline !== undefined && t + delay >= deadline) {
        delay = Math.max(0, deadline - t);
        await sleepOrAbort(sleep, delay, options.signal, aborted);
        throw deadlineError();
      }
      if (delay > 0) {
        if (budget && delay > 5_000) view = await budget.update({ nextPollAt: t + delay });
        await sleepOrAbort(sleep, delay, options.signal, aborted);
      }

      // One status request, bounded by the signal and the deadline: first a slot in the key's
      // shared budget (it waits when the window is full or the server asked for a pause),
      // then the request.
      const ctl = new AbortController();
      const onAbort = () => ctl.abort(options.signal?.reason);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      let deadlineHit = false;
      const timer =
        deadline !== undefined
          ? setTimeout(
              () => {
                deadlineHit = true;
                ctl.abort(new AbortedError("deadline"));
              },
              Math.max(0, deadline - now()),
            )
          : undefined;
      let answer: RenderStatus | undefined;
      let failure: unknown;
      let requestAt = now();
      try {
        if (budget) {
          // One file transaction per poll: the slot, this watcher's entry and the headers of
          // its last answer, and back what every watcher knows.
          const rl = deps.rateLimit?.();
          const grant = await budget.acquire("status", {
            signal: ctl.signal,
            watch: {
              nextPollAt: now() + 1_000,
              rateLimit: rl && (rl.observedAt ?? 0) >= lastRequestAt ? rl : undefined,
            },
            onWait: (w) =>
              emit({
                type: "throttled",
                status: lastStatus,
                progress: lastProgress,
                waitMs: w.waitMs,
                reason: w.reason === "server" ? "rate-limit" : `budget-${w.reason}`,
                message: budgetWaitMessage(w),
              }),
          });
          requestAt = grant.at;
          if (grant.view) view = grant.view;
        }
        answer = await deps.getStatus(renderId, { signal: ctl.signal });
      } catch (err) {
        failure = err;
      } finally {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      }
      if (options.signal?.aborted) throw aborted();
      if (deadlineHit) throw deadlineError();
      polled = true;
      lastRequestAt = requestAt;
      if (budget && failure instanceof RateLimitError) {
        // a 429: every process of the key pauses (the headers go with the next acquire)
        const rl = deps.rateLimit?.();
        const asked = serverWaitOf(failure, now());
        await budget.observe("status", {
          retryAfterMs: asked,
          rateLimit: rl && (rl.observedAt ?? 0) >= requestAt ? rl : undefined,
        });
      }

      if (failure !== undefined) {
        if (failure instanceof AbortedError) throw aborted();
        if (!isTransient(failure)) throw failure;
        failures++;
        troubleSince ??= requestAt;
        serverWait = serverWaitOf(failure, now());
        const outageMs = now() - troubleSince;
        const err = failure as GigaReelsError;
        if (outageMs > maxOutageMs) {
          throw new OutageError(
            renderId,
            `No usable answer about render ${renderId} for ${formatMs(outageMs)} (last: ${err.message}); the render may still be running`,
            {
              cause: failure,
              suggestions: [
                `Follow it again with: ${resume}`,
                "Check your connection and the service status",
              ],
            },
          );
        }
        if (!(failure instanceof RateLimitError)) {
          pendingStatus = {
            type: "retry",
            status: lastStatus,
            progress: lastProgress,
            reason: err.code,
            message: err.message,
            attempt: failures,
            outageMs,
          };
        }
        continue;
      }

      const status = answer as RenderStatus;
      failures = 0;
      troubleSince = undefined;
      serverWait = undefined;
      const progress = typeof status.progress === "number" ? status.progress : undefined;
      const changed = status.status !== lastStatus || progress !== lastProgress;
      lastStatus = status.status;
      lastProgress = progress;
      if (status.status === "done") {
        emit({ type: "done", status: "done", progress, outputFile: status.outputFile, answer: status });
        return status;
      }
      if (status.status === "error") {
        const why =
          typeof status.error === "string" && status.error.trim() ? status.error.trim() : "no reason given";
        emit({ type: "error", status: "error", message: why, answer: status });
        throw new RenderFailedError(renderId, `Render ${renderId} failed: ${failureReason(why)}`, {
          suggestions: ["Check the render's parameters and submit it again"],
        });
      }
      if (!TERMINAL.has(status.status)) {
        // emitted with the wait before the next poll
        pendingStatus = { type: "status", status: status.status, progress, changed, answer: status };
      }
    }
  } finally {
    await budget?.leave();
  }
}

/** "The hourly status budget of this key is nearly used: next look at 14:05:10 (in 4.1 s)". */
export function budgetWaitMessage(w: BudgetWait, slowing = false): string {
  const at = new Date(w.until).toTimeString().slice(0, 8);
  const name = w.reason === "minute" ? "per-minute" : w.reason === "hour" ? "hourly" : "daily";
  const what =
    w.reason === "server"
      ? "The server asked for a pause"
      : slowing
        ? `The ${name} status budget of this key is half used: slowing down`
        : `The ${name} status budget of this key is used up`;
  return `${what}; next look at ${at} (in ${formatMs(w.waitMs)})`;
}

async function sleepOrAbort(
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
  aborted: () => AbortedError,
): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (err) {
    if (signal?.aborted || err instanceof AbortedError) throw aborted();
    throw err;
  }
}
