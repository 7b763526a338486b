/**
 * What `render`, `render text`, `render split` and `watch` share: their flags, submitting a
 * render (one Idempotency-Key, reused on every retry), following it (src/lib/cli/follow.ts)
 * with the presenter for the output mode (src/lib/cli/progress.ts), downloading and opening
 * the video. Under --json a followed render is NDJSON: one event per line, and an error
 * document, if any, on one line too.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { Flags } from "@oclif/core";
import type { GigaReels } from "../sdk/client.js";
import { DeadlineExceededError } from "../sdk/errors.js";
import { deadlineSignal } from "../sdk/abort.js";
import type { RenderCreated } from "../sdk/types.js";
import { formatMs } from "../sdk/backoff.js";
import { BaseCommand } from "./base-command.js";
import type { ApiFlags } from "./client.js";
import { baseUrlFlag, localFlag, profileFlag, durationFlag } from "./flags.js";
import {
  checkOutputPath,
  type FollowEvent,
  type FollowResult,
  followRender,
  resumeCommand,
} from "./follow.js";
import { isTerminal, jsonText, stderrLine, writeOut } from "./output.js";
import { createPresenter, formatBytes, presenterKind } from "./progress.js";
import {
  bodySubmission,
  checkIdempotencyKey,
  type RenderEndpoint,
  type RenderSubmission,
} from "./render-request.js";

export const apiFlags = {
  profile: profileFlag,
  "base-url": baseUrlFlag,
  local: localFlag,
};

/** Flags of every command that follows a render to its end. */
export const followFlags = {
  output: Flags.string({
    char: "o",
    summary: "Wait for the render, then download the video to FILE (resumable, via FILE.part).",
    helpValue: "FILE",
  }),
  force: Flags.boolean({ summary: "Overwrite the --output file if it exists." }),
  open: Flags.boolean({
    summary: "Open the finished video (the --output file, else its URL) with the system's viewer.",
  }),
  timeout: durationFlag("Follow for at most this long (exit 7); the render goes on."),
  "max-outage": durationFlag("Follow, giving up when the API is unreachable this long (exit 5). Default 5m."),
  "download-idle-timeout": durationFlag(
    "With --output: retry a transfer that receives nothing for this long, from where it stopped. Default 60s.",
  ),
};

/** Flags of the commands that submit a render. */
export const submitFlags = {
  wait: Flags.boolean({ char: "w", summary: "Follow the render until it ends (as `gigareels watch`)." }),
  "idempotency-key": Flags.string({
    summary: "Idempotency-Key to send (default: a new UUID). The same key never renders twice.",
    helpValue: "KEY",
  }),
};

/**
 * The flags every render command has besides its body flags: --wait, --idempotency-key,
 * --body FILE|- (exclusive with `bodyFields`, the flags that make the body), the follow flags
 * and the API flags.
 */
export const renderFlags = (bodyFields: string[]) => ({
  ...submitFlags,
  body: Flags.string({
    summary: "Send this JSON body as it is (FILE, or - for stdin) instead of building one from flags.",
    helpValue: "FILE|-",
    exclusive: bodyFields,
  }),
  ...followFlags,
  ...apiFlags,
});

export interface FollowFlags extends ApiFlags {
  output?: string;
  force?: boolean;
  open?: boolean;
  timeout?: number;
  "max-outage"?: number;
  "download-idle-timeout"?: number;
}

export interface SubmitFlags extends FollowFlags {
  wait?: boolean;
  "idempotency-key"?: string;
}

/** `render --json` without --wait, and the first part of every render's result. */
export interface SubmittedRender {
  renderId: string;
  idempotencyKey: string;
  endpoint: string;
  /** ISO 8601 */
  submittedAt: string;
  followCommand: string;
}

export interface RenderResult extends SubmittedRender {
  /** With --wait / --output / --open: how it ended. */
  result?: FollowResult;
}

export abstract class FollowCommand extends BaseCommand {
  /** NDJSON mode: events are on stdout already; print documents on one line, no final document. */
  private streaming = false;

  override logJson(json: unknown): void {
    if (!this.streaming) {
      super.logJson(json);
      return;
    }
    if (json !== undefined) writeOut(`${jsonText(json)}\n`, "raw");
  }

  override toSuccessJson(result: unknown): unknown {
    return this.streaming ? undefined : result;
  }

  /**
   * Prints a result. In a terminal (or under --json, where this.log is silent) it is the line
   * for people; when stdout is a pipe or a file, stdout gets `bare` alone (the render id, the
   * saved path, the video URL: what `ID=$(gigareels render ...)` wants) and the line goes to
   * stderr, as gh prints only the URL when its stdout is not a terminal.
   */
  protected result(line: string, bare: string): void {
    if (this.jsonEnabled() || isTerminal(process.stdout)) {
      this.log(line);
      return;
    }
    stderrLine(line);
    writeOut(`${bare}\n`);
  }

  /** A note that is not the result: stdout in a terminal, stderr when stdout is piped. */
  protected note(line: string): void {
    if (this.jsonEnabled() || isTerminal(process.stdout)) this.log(line);
    else stderrLine(line);
  }

  /** The SDK client (and its HTTP stack) is loaded only once the input has been checked. */
  protected async client(flags: ApiFlags): Promise<GigaReels> {
    const { apiClient } = await import("./client.js");
    return apiClient(flags, this.config.version);
  }

  /** An absolute --output path, checked before anything is sent. */
  protected async outputPath(flags: FollowFlags): Promise<string | undefined> {
    if (!flags.output) return undefined;
    const path = resolve(flags.output);
    await checkOutputPath(path, flags.force ?? false);
    return path;
  }

  /** Follows to the end (and downloads with --output), showing progress; prints the outcome. */
  protected async follow(
    client: GigaReels,
    renderId: string,
    flags: FollowFlags,
    options: { output?: string; submittedAt?: number; first?: FollowEvent; limitMs?: number } = {},
  ): Promise<FollowResult> {
    if (this.jsonEnabled()) this.streaming = true;
    const presenter = await createPresenter(presenterKind(this.jsonEnabled(), this.decorated), renderId);
    const output = options.output;
    try {
      if (options.first) presenter.event(options.first);
      const result = await followRender(client, renderId, {
        signal: this.signal,
        submittedAt: options.submittedAt,
        timeoutMs: flags.timeout,
        limitMs: options.limitMs,
        maxOutageMs: flags["max-outage"], // default: the SDK's 5 minutes
        output: output
          ? { path: output, force: flags.force ?? false, idleTimeoutMs: flags["download-idle-timeout"] }
          : undefined,
        resumeCommand: resumeCommand(renderId, { ...flags, output }),
        onEvent: (e) => presenter.event(e),
      });
      presenter.stop();
      if (result.download) {
        this.result(
          `Saved ${result.download.path} (${formatBytes(result.download.bytes)})`,
          result.download.path,
        );
      } else {
        this.result(
          `Render ${renderId} is done: ${result.outputFile ?? "(no output URL given)"}`,
          result.outputFile ?? "",
        );
      }
      if (flags.open) await this.openVideo(result.download?.path ?? result.outputFile);
      return result;
    } finally {
      presenter.stop();
    }
  }

  /**
   * The body from --body when given (sent as it is to `endpoint`), else from `build` (the
   * command's flags, checked); then submits and follows.
   */
  protected async submitRender(
    endpoint: RenderEndpoint,
    flags: SubmitFlags & { body?: string },
    build: () => RenderSubmission | Promise<RenderSubmission>,
  ): Promise<RenderResult> {
    const submission = flags.body !== undefined ? await bodySubmission(endpoint, flags.body) : await build();
    return this.submitAndFollow(submission, flags);
  }

  /** Submits (one idempotency key for every retry), then follows when asked. */
  protected async submitAndFollow(submission: RenderSubmission, flags: SubmitFlags): Promise<RenderResult> {
    const idempotencyKey = checkIdempotencyKey(flags["idempotency-key"]) ?? randomUUID();
    const output = await this.outputPath(flags);
    // A flag that only means something while following asks for it, as --output and --open do
    // (`render x --timeout 1m` used to submit and exit 0, the limit ignored).
    const following = Boolean(
      flags.wait || output || flags.open || flags.timeout !== undefined || flags["max-outage"] !== undefined,
    );
    const client = await this.client(flags);
    const submittedAt = Date.now();
    // --timeout bounds the whole command: the submission and its retries, then the follow.
    const deadline = following && flags.timeout !== undefined ? submittedAt + flags.timeout : undefined;
    const created = await this.submitWithin(client, submission, idempotencyKey, deadline, flags.timeout);
    const submitted: SubmittedRender = {
      renderId: created.renderId,
      idempotencyKey: created.idempotencyKey,
      endpoint: submission.endpoint,
      submittedAt: new Date(submittedAt).toISOString(),
      followCommand: resumeCommand(created.renderId, { ...flags, output }),
    };
    const said = `Submitted render ${submitted.renderId} (Idempotency-Key: ${submitted.idempotencyKey})`;
    if (!following) {
      this.result(said, submitted.renderId);
      this.note(`Follow it with: ${submitted.followCommand}`);
      return submitted;
    }
    // Followed: the result is the video (its path or URL), printed at the end.
    this.note(said);
    this.note(`Follow it with: ${submitted.followCommand}`);
    const first: FollowEvent = {
      type: "submitted",
      time: submitted.submittedAt,
      renderId: submitted.renderId,
      idempotencyKey: submitted.idempotencyKey,
      endpoint: submitted.endpoint,
      followCommand: submitted.followCommand,
    };
    const left = deadline !== undefined ? { timeout: Math.max(1, deadline - Date.now()) } : {};
    const result = await this.follow(
      client,
      created.renderId,
      { ...flags, ...left },
      { output, submittedAt, first, limitMs: flags.timeout },
    );
    return { ...submitted, result };
  }

  /**
   * Sends the submission (the transport retries it with the same Idempotency-Key), stopped
   * by Ctrl-C and, when `deadline` is set, by --timeout: a server that accepts the connection
   * and never answers ends the command with exit 7 at the deadline, not after the
   * transport's own limits.
   */
  private async submitWithin(
    client: GigaReels,
    submission: RenderSubmission,
    idempotencyKey: string,
    deadline: number | undefined,
    timeoutMs: number | undefined,
  ): Promise<RenderCreated> {
    const limit = deadlineSignal(this.signal, deadline);
    try {
      return await client.createRender(submission.endpoint, submission.body, {
        idempotencyKey,
        signal: limit.signal,
        // the key's render budget, shared with every process of the key, is spent: say until when
        onBudgetWait: (w) => {
          if (!this.jsonEnabled()) stderrLine(renderBudgetWaitLine(w));
        },
      });
    } catch (err) {
      if (limit.timedOut() && !this.signal.aborted)
        throw new DeadlineExceededError(
          `The server did not accept the render within ${formatMs(timeoutMs ?? 0)} (--timeout); it may still have been created`,
          {
            suggestions: [
              `Submit again with --idempotency-key ${idempotencyKey}: the server creates it at most once`,
            ],
          },
        );
      throw err;
    } finally {
      limit.dispose();
    }
  }

  /** --open: best effort; a failure is a warning, not a failed command. */
  private async openVideo(target: string | undefined): Promise<void> {
    if (!target) return;
    try {
      const { default: open } = await import("open");
      const child = await open(target, { wait: false });
      child.on("error", (err) => this.warning(`could not open ${target}: ${err.message}`));
    } catch (err) {
      this.warning(`could not open ${target}: ${(err as Error).message}`);
    }
  }
}

/** "Waiting: this key's per-minute render budget is used (9 of 10, 10 % kept back); sending at 14:05:10 (in 41 s)". */
export function renderBudgetWaitLine(w: { waitMs: number; reason: string; until: number }): string {
  const at = new Date(w.until).toTimeString().slice(0, 8);
  const per: Record<string, string> = {
    minute: "per-minute render budget is used (9 of 10 a minute",
    hour: "hourly render budget is used (90 of 100 an hour",
    day: "daily render budget is used (900 of 1000 a day",
  };
  const what =
    w.reason in per
      ? `this key's ${per[w.reason]}, a tenth kept back)`
      : "the server asked for a pause before more renders with this key";
  return `Waiting: ${what}; sending at ${at} (in ${formatMs(w.waitMs)})`;
}
