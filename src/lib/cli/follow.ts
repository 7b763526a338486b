/**
 * Following a render to its end for `render --wait` and `watch`: the SDK's wait loop
 * (src/lib/sdk/wait.ts, the shared poll scheduler), then the download when asked, all told
 * as FollowEvents: the NDJSON of `--json` and what the spinner and the log lines show
 * (src/lib/cli/progress.ts). Errors carry the command that resumes the follow.
 */
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { notTheApi } from "../account/advice.js";
import type { GigaReels } from "../sdk/client.js";
import type { DownloadOutcome } from "../sdk/download/client.js";
import { AbortedError, DeadlineExceededError, MalformedResponseError } from "../sdk/errors.js";
import { deadlineSignal } from "../sdk/abort.js";
import type { RenderStatus } from "../sdk/types.js";
import type { WaitEvent } from "../sdk/wait.js";
import { formatMs } from "../sdk/backoff.js";
import { formatDuration } from "./duration.js";
import { shellQuote } from "./output.js";
import { UsageError } from "./usage-error.js";

/** Fields every event has. */
interface EventBase {
  /** ISO 8601 time the event was made. */
  time: string;
  renderId: string;
}

/**
 * One line of `--json` output while a render is followed (NDJSON). The stream ends with
 * `done` (then `download` events with --output), or, on failure, with the error document
 * `{"error": {...}}` every command prints under --json.
 */
export type FollowEvent =
  | (EventBase & {
      type: "submitted";
      idempotencyKey: string;
      endpoint: string;
      /** The command that follows this render from another terminal. */
      followCommand: string;
    })
  | (EventBase & {
      type: "status";
      /** The server's word: queued, rendering, or one we do not know (not an end). */
      status: string;
      /** 0-100 when the server says. */
      progress?: number;
      /** The status word or progress changed since the previous answer. */
      changed: boolean;
      /** Since the render was submitted (render --wait) or the watch started, ms. */
      elapsedMs: number;
      /** When the next status request goes out, ms from now. */
      nextPollMs?: number;
    })
  | (EventBase & {
      type: "throttled";
      status?: string;
      progress?: number;
      elapsedMs: number;
      /** The wait before the next request, ms. */
      waitMs: number;
      /** "retry-after" (the server asked), "rate-limit" (the window is nearly spent), or "budget-minute", "budget-hour", "budget-day" (the key's shared budget: the message says when it looks next). */
      reason: string;
      message: string;
    })
  | (EventBase & {
      type: "retry";
      status?: string;
      progress?: number;
      elapsedMs: number;
      waitMs?: number;
      /** The error's code: connection_error, timeout, server_error, malformed_response... */
      reason: string;
      message: string;
      /** Failures in a row. */
      attempt: number;
      /** How long the trouble has lasted, ms (the watch ends past --max-outage). */
      outageMs: number;
    })
  | (EventBase & { type: "done"; status: "done"; outputFile?: string; elapsedMs: number })
  | (EventBase & { type: "error"; status: "error"; message: string; elapsedMs: number })
  | (EventBase & {
      type: "download";
      /** start, progress (every 10 % when the size is known), restart (with `message`: why it starts over), done. */
      phase: "start" | "progress" | "restart" | "done";
      path: string;
      /** Bytes in the file so far. */
      bytes: number;
      /** The full size, when known. */
      total?: number;
      /** Bytes reused from an earlier `.part`. */
      resumedFrom: number;
      /** restart: why the download starts over (the file on the server changed...). */
      message?: string;
    });

export type FollowEventType = FollowEvent["type"];

export interface FollowOptions {
  signal: AbortSignal;
  /** When the render was submitted (epoch ms), when this process submitted it. */
  submittedAt?: number;
  /** Overall limit, waiting and downloading (DeadlineExceededError, exit 7). */
  timeoutMs?: number;
  /** The whole command's --timeout when `timeoutMs` is what is left of it (render --wait): messages name it. */
  limitMs?: number;
  maxOutageMs?: number;
  /** Download the video when done; `idleTimeoutMs`: retry a transfer that received nothing this long. */
  output?: { path: string; force: boolean; idleTimeoutMs?: number };
  /** The command that resumes (printed on Ctrl-C, --timeout, outages). */
  resumeCommand: string;
  onEvent: (event: FollowEvent) => void;
  now?: () => number;
}

export interface FollowResult {
  renderId: string;
  status: "done";
  outputFile?: string;
  elapsedMs: number;
  download?: { path: string; bytes: number; resumedFrom: number };
}

const now = () => Date.now();
const iso = (t: number) => new Date(t).toISOString();

/** `gigareels watch <id>` with the flags that matter to find it again and to finish the job. */
export function resumeCommand(
  renderId: string,
  flags: {
    output?: string;
    profile?: string;
    "base-url"?: string;
    local?: boolean;
    "download-idle-timeout"?: number;
  },
): string {
  const parts = ["gigareels", "watch", shellQuote(renderId)];
  if (flags.output) parts.push("--output", shellQuote(flags.output));
  const idle = flags["download-idle-timeout"];
  if (flags.output && idle !== undefined)
    parts.push("--download-idle-timeout", idle % 1000 === 0 ? `${idle / 1000}s` : `${idle}ms`);
  if (flags.profile) parts.push("--profile", shellQuote(flags.profile));
  if (flags["base-url"]) parts.push("--base-url", shellQuote(flags["base-url"]));
  else if (flags.local) parts.push("--local");
  return parts.join(" ");
}

/**
 * A render id as `watch` takes it, refused before anything is sent when it cannot be one: empty,
 * `.` or `..` (they would change the status URL's path), or with a slash, a space, `?`, `#`, `%`
 * or a control character (a URL or a half-pasted line rather than an id).
 */
export function checkRenderId(input: string): string {
  const id = input.trim();
  const fix = ["Pass the id `gigareels render` printed, e.g. gigareels watch rnd_8f2c"];
  if (id === "") throw new UsageError("The render id is empty", fix);
  if (id === "." || id === ".." || /[\s/\\?#%\u0000-\u001f\u007f]/.test(id))
    throw new UsageError(`${JSON.stringify(id)} is not a render id`, fix);
  return id;
}

/**
 * The server's 404 for a render's status, told plainly: no such render (exit 1), or, when the
 * 404 is not JSON, a base URL that is not the API (exit 5, as `status` and `whoami` say).
 */
function renderNotFound(
  err: Error & { url?: string; body?: unknown; suggestions?: string[] },
  renderId: string,
) {
  let origin = "the server";
  let request = `the status request for render ${renderId}`;
  try {
    const url = new URL(err.url ?? "");
    origin = url.origin;
    request = `GET ${url.pathname}`;
  } catch {
    // no URL on the error: keep the words
  }
  if (err.body === undefined) {
    const wrong = notTheApi(origin, err.message, request);
    return new MalformedResponseError(wrong.message, { cause: err, suggestions: wrong.fix });
  }
  err.message = `Render ${renderId} was not found (${err.message} from ${origin})`;
  err.suggestions = [
    "Check the id: `gigareels render` prints it",
    "A render is found only with a key of the account that submitted it, on the same server (--profile, --base-url)",
  ];
  return err;
}

/**
 * Refuses early (before a render is submitted) a download that could not be saved: an existing
 * file without --force, a folder that does not exist.
 */
export async function checkOutputPath(path: string, force: boolean): Promise<void> {
  const exists = await stat(path).then(
    (s) => s,
    () => null,
  );
  if (exists?.isDirectory()) throw new UsageError(`--output ${path} is a folder; give a file name`);
  if (exists && !force)
    throw new UsageError(`--output ${path} already exists`, [
      "Pass --force to overwrite it, or choose another file name",
    ]);
  const dir = await stat(dirname(path)).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!dir) throw new UsageError(`--output ${path}: the folder ${dirname(path)} does not exist`);
}

/** WaitEvent (SDK) -> FollowEvent (CLI), elapsed time counted from `origin`. */
export function fromWaitEvent(e: WaitEvent, origin: number, t: number): FollowEvent {
  const base = { time: iso(t), renderId: e.renderId, elapsedMs: Math.max(0, t - origin) };
  const head = { type: e.type, ...base };
  const progress = e.progress !== undefined ? { progress: e.progress } : {};
  switch (e.type) {
    case "status":
      return {
        ...head,
        type: "status",
        status: e.status ?? "unknown",
        ...progress,
        changed: e.changed ?? true,
        ...(e.waitMs !== undefined ? { nextPollMs: e.waitMs } : {}),
      };
    case "throttled":
      return {
        ...head,
        type: "throttled",
        ...(e.status ? { status: e.status } : {}),
        ...progress,
        waitMs: e.waitMs ?? 0,
        reason: e.reason ?? "rate-limit",
        message: e.message ?? "Rate limited",
      };
    case "retry":
      return {
        ...head,
        type: "retry",
        ...(e.status ? { status: e.status } : {}),
        ...progress,
        ...(e.waitMs !== undefined ? { waitMs: e.waitMs } : {}),
        reason: e.reason ?? "error",
        message: e.message ?? "",
        attempt: e.attempt ?? 1,
        outageMs: e.outageMs ?? 0,
      };
    case "done":
      return {
        ...head,
        type: "done",
        status: "done",
        ...(e.outputFile ? { outputFile: e.outputFile } : {}),
      };
    case "error":
      return { ...head, type: "error", status: "error", message: e.message ?? "no reason given" };
  }
}

/** Replaces an error's "follow it again" advice with the full resume command. */
function withResume<T extends Error & { suggestions?: string[] }>(err: T, resume: string): T {
  const kept = (err.suggestions ?? []).filter(
    (s) => !/gigareels watch|same command|Follow it again/i.test(s),
  );
  err.suggestions = [`Resume with: ${resume}`, ...kept];
  return err;
}

/** Waits for the render, then downloads it when asked; every step told through `onEvent`. */
export async function followRender(
  client: GigaReels,
  renderId: string,
  options: FollowOptions,
): Promise<FollowResult> {
  const clock = options.now ?? now;
  const started = clock();
  const origin = options.submittedAt ?? started;
  const deadline = options.timeoutMs !== undefined ? started + options.timeoutMs : undefined;
  const emit = (e: FollowEvent) => {
    try {
      options.onEvent(e);
    } catch {
      // presenting must not end the follow
    }
  };
  const resume = options.resumeCommand;

  let final: RenderStatus;
  try {
    final = await client.waitForRender(renderId, {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      maxOutageMs: options.maxOutageMs,
      submittedAt: options.submittedAt,
      onUpdate: (e) => emit(fromWaitEvent(e, origin, clock())),
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "deadline_exceeded" && options.limitMs !== undefined)
      (err as Error).message =
        `Render ${renderId} did not finish within ${formatMs(options.limitMs)}; it may still be running`;
    if (code === "aborted" || code === "deadline_exceeded" || code === "outage")
      throw withResume(err as Error, resume);
    if (code === "not_found") throw renderNotFound(err as Error, renderId);
    throw err;
  }
  const result: FollowResult = {
    renderId,
    status: "done",
    ...(typeof final.outputFile === "string" ? { outputFile: final.outputFile } : {}),
    elapsedMs: clock() - origin,
  };
  if (!options.output) return result;

  const path = options.output.path;
  const downloadEvent = (
    phase: "start" | "progress" | "restart" | "done",
    bytes: number,
    total?: number,
    from = 0,
    message?: string,
  ) =>
    emit({
      type: "download",
      time: iso(clock()),
      renderId,
      phase,
      path,
      bytes,
      ...(total !== undefined ? { total } : {}),
      resumedFrom: from,
      ...(message !== undefined ? { message } : {}),
    });

  // One signal for Ctrl-C and what is left of --timeout.
  const limit = deadlineSignal(options.signal, deadline, clock);
  let outcome: DownloadOutcome;
  try {
    downloadEvent("start", 0);
    outcome = await client.download(final.outputFile ?? renderId, {
      path,
      force: options.output.force,
      signal: limit.signal,
      onProgress: (p) => downloadEvent("progress", p.bytes, p.total, p.resumedFrom),
      onNotice: (message) => downloadEvent("restart", 0, undefined, 0, message),
      idleTimeoutMs: options.output.idleTimeoutMs,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (limit.timedOut())
      throw new DeadlineExceededError(
        `Render ${renderId} is done but its download did not finish within ${formatDuration(options.limitMs ?? options.timeoutMs ?? 0)}; the partial file ${path}.part is kept`,
        { suggestions: [`Resume with: ${resume}`] },
      );
    if (code === "aborted" || options.signal.aborted)
      throw new AbortedError(
        `Stopped downloading render ${renderId}; the partial file ${path}.part is kept`,
        { suggestions: [`Resume with: ${resume}`] },
      );
    if (
      typeof code === "string" &&
      /^(download_|length_mismatch)/.test(code) &&
      code !== "download_unsupported_url"
    )
      throw withResume(err as Error, resume);
    throw err;
  } finally {
    limit.dispose();
  }
  downloadEvent("done", outcome.bytes, outcome.bytes, outcome.resumedFrom);
  result.download = { path: outcome.path, bytes: outcome.bytes, resumedFrom: outcome.resumedFrom };
  return result;
}
