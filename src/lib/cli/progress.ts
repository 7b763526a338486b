/**
 * How a followed render is shown (cli-conventions.md "Output"):
 * - `--json`: the FollowEvents as NDJSON on stdout, one per line (download progress every 10 %);
 * - a terminal: an ora spinner on stderr (loaded only then) with the status, progress, elapsed
 *   time, a countdown while rate-limited or retrying, then a download progress bar with the
 *   speed and the time left;
 * - otherwise (logs, CI): one line on stderr per change (a new status word, progress passing
 *   a tenth, a rate-limit wait, a retry) and at most one heartbeat a minute.
 * The text of each is made by pure functions, so tests read it without a terminal.
 */
import { basename } from "node:path";
import { formatDuration } from "./duration.js";
import type { FollowEvent } from "./follow.js";
import { failureReason, formatBytes } from "../text.js";
import { forPeople, jsonText, stderrLine, writeOut } from "./output.js";

export { formatBytes };

export type PresenterKind = "json" | "spinner" | "lines";

export interface FollowPresenter {
  event(e: FollowEvent): void;
  /** Stops the spinner and its timer (call before printing the result or an error). */
  stop(): void;
}

export const HEARTBEAT_MS = 60_000;

/** "rendering 45%", "queued". */
export function statusPhrase(status: string | undefined, progress: number | undefined): string {
  const word = status ?? "waiting for the first answer";
  const showProgress = progress !== undefined && status !== "done" && status !== "queued";
  return showProgress ? `${word} ${Math.floor(progress)}%` : word;
}

/** "[#####-----]" for 0-1. */
export function bar(fraction: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

/** "12.0 KiB of 64.0 KiB (18%)" or "12.0 KiB". */
export function downloadAmount(bytes: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return formatBytes(bytes);
  return `${formatBytes(bytes)} of ${formatBytes(total)} (${Math.floor((bytes / total) * 100)}%)`;
}

/** A download progress event worth a line or an NDJSON event: the tenth (or 10 MiB step) changed. */
function downloadStep(e: FollowEvent & { type: "download" }, stepsPerWhole: number): number {
  if (e.total && e.total > 0) return Math.floor((e.bytes / e.total) * stepsPerWhole);
  return Math.floor(e.bytes / (10 * 1024 * 1024));
}

/** NDJSON on stdout. */
export function jsonPresenter(write: (line: string) => void = (l) => writeOut(`${l}\n`, "raw")) {
  let lastStep = -1;
  return {
    event(e: FollowEvent) {
      if (e.type === "download") {
        if (e.phase === "start") lastStep = -1;
        if (e.phase === "progress") {
          const step = downloadStep(e, 10);
          if (step === lastStep) return;
          lastStep = step;
        }
      }
      write(jsonText(e));
    },
    stop() {},
  } satisfies FollowPresenter;
}

/** One line per change on stderr, at most one heartbeat a minute. */
export function linePresenter(
  write: (line: string) => void = stderrLine,
  now: () => number = Date.now,
): FollowPresenter {
  let lastStatus: string | undefined;
  let lastTenth = -2;
  let lastLineAt = now();
  let throttled = false;
  let lastStep = -1;
  const line = (text: string) => {
    write(text);
    lastLineAt = now();
  };
  return {
    event(e) {
      const id = `Render ${e.renderId}`;
      switch (e.type) {
        case "submitted":
          return; // the command prints the submission itself
        case "status": {
          throttled = false;
          const tenth = e.progress === undefined ? -1 : Math.floor(e.progress / 10);
          const phrase = statusPhrase(e.status, e.progress);
          if (e.status !== lastStatus || tenth !== lastTenth) {
            line(`${id}: ${phrase} (${formatDuration(e.elapsedMs)})`);
          } else if (now() - lastLineAt >= HEARTBEAT_MS) {
            line(`${id}: still ${phrase} (${formatDuration(e.elapsedMs)})`);
          }
          lastStatus = e.status;
          lastTenth = tenth;
          return;
        }
        case "throttled":
          // the key's own budget says when it looks next (the time of day); the server's 429 how long
          if (!throttled)
            line(
              e.reason.startsWith("budget-")
                ? `${id}: ${e.message}`
                : `${id}: rate limited; next check in ${formatDuration(e.waitMs)}`,
            );
          throttled = true;
          return;
        case "retry": {
          const wait = e.waitMs !== undefined ? `; retrying in ${formatDuration(e.waitMs)}` : "";
          line(`${id}: no usable answer (${e.message})${wait} (attempt ${e.attempt})`);
          return;
        }
        case "done":
          line(`${id}: done (${formatDuration(e.elapsedMs)})`);
          return;
        case "error":
          return; // the error line that ends the command says it
        case "download": {
          if (e.phase === "start") {
            lastStep = 0;
            line(`Downloading to ${e.path}`);
          } else if (e.phase === "progress") {
            const step = downloadStep(e, 4);
            // a line at each quarter, none just before "Saved"
            const nearlyDone = e.total !== undefined && e.bytes >= e.total * 0.9;
            if (step > lastStep && !nearlyDone) {
              line(
                `Downloading to ${e.path}: ${downloadAmount(e.bytes, e.total)}${e.resumedFrom ? `, resumed at ${formatBytes(e.resumedFrom)}` : ""}`,
              );
            }
            lastStep = Math.max(lastStep, step);
          } else if (e.phase === "restart" && e.message) {
            lastStep = 0;
            line(e.message);
          }
          return;
        }
      }
    },
    stop() {},
  };
}

/**
 * A download's speed over the last few seconds (bytes per second), from the progress events:
 * a moving window, so a stall shows as a falling speed and a resume does not count the bytes
 * that were already on disk.
 */
export class SpeedMeter {
  #samples: Array<{ at: number; bytes: number }> = [];
  constructor(
    private readonly windowMs = 3_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forget the samples (a download that starts or starts over). */
  reset(): void {
    this.#samples = [];
  }

  add(bytes: number): void {
    const at = this.now();
    const last = this.#samples.at(-1);
    if (last && bytes < last.bytes) this.#samples = []; // started over
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && at - this.#samples[1]!.at >= this.windowMs) this.#samples.shift();
  }

  /** Bytes per second, or undefined until half a second of samples is in. */
  bytesPerSecond(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last) return undefined;
    const ms = this.now() - first.at;
    if (ms < 500) return undefined;
    return ((last.bytes - first.bytes) * 1000) / ms;
  }
}

/** " · 5.2 MiB/s · 12s left" (the time left only when the size is known and bytes are moving). */
export function speedAndEta(
  bytes: number,
  total: number | undefined,
  bytesPerSecond: number | undefined,
): string {
  if (bytesPerSecond === undefined) return "";
  const speed = ` · ${formatBytes(Math.round(bytesPerSecond))}/s`;
  if (total === undefined || total <= 0 || bytes >= total || bytesPerSecond < 1) return speed;
  return `${speed} · ${formatDuration(((total - bytes) / bytesPerSecond) * 1000)} left`;
}

/**
 * What the spinner says, `sinceMs` after the event `e` arrived; during a download,
 * `bytesPerSecond` (from a SpeedMeter) adds the speed and the time left.
 */
export function spinnerText(
  e: FollowEvent | undefined,
  sinceMs: number,
  renderId: string,
  bytesPerSecond?: number,
): string {
  if (!e) return `Render ${renderId}: waiting for the first answer`;
  const id = `Render ${e.renderId}`;
  const left = (ms: number | undefined) => formatDuration(Math.max(0, (ms ?? 0) - sinceMs));
  switch (e.type) {
    case "submitted":
      return `${id}: submitted`;
    case "status":
      return `${id}: ${statusPhrase(e.status, e.progress)} · ${formatDuration(e.elapsedMs + sinceMs)}`;
    case "throttled":
      return `${id}: ${statusPhrase(e.status, e.progress)} · ${formatDuration(e.elapsedMs + sinceMs)} · ${e.reason.startsWith("budget-") ? "key's budget" : "rate limited"}, next check in ${left(e.waitMs)}`;
    case "retry": {
      const wait = e.waitMs !== undefined ? `, retrying in ${left(e.waitMs)}` : ", retrying";
      return `${id}: ${statusPhrase(e.status, e.progress)} · ${formatDuration(e.elapsedMs + sinceMs)} · no usable answer (attempt ${e.attempt})${wait}`;
    }
    case "done":
      return `${id}: done in ${formatDuration(e.elapsedMs)}`;
    case "error":
      return `${id} failed: ${failureReason(e.message)}`;
    case "download": {
      const fraction = e.total ? e.bytes / e.total : 0;
      const shape = e.total ? `${bar(fraction)} ` : "";
      const rate = e.phase === "progress" ? speedAndEta(e.bytes, e.total, bytesPerSecond) : "";
      return `Downloading ${basename(e.path)} ${shape}${downloadAmount(e.bytes, e.total)}${rate}`;
    }
  }
}

/** The ora spinner on stderr; ora is imported only here. */
export async function spinnerPresenter(
  renderId: string,
  now: () => number = Date.now,
): Promise<FollowPresenter> {
  const { default: ora } = await import("ora");
  // The spinner writes to stderr itself: its text takes the output pass here (a status word or
  // an error message from the server must not move the cursor or clear the screen).
  const speed = new SpeedMeter(3_000, now);
  const text = (e: FollowEvent | undefined, sinceMs: number) =>
    forPeople(spinnerText(e, sinceMs, renderId, speed.bytesPerSecond()));
  const spinner = ora({ stream: process.stderr, text: text(undefined, 0) }).start();
  let last: FollowEvent | undefined;
  let lastAt = now();
  const refresh = () => {
    if (spinner.isSpinning) spinner.text = text(last, now() - lastAt);
  };
  // Elapsed time and countdowns move between events.
  const timer = setInterval(refresh, 1000);
  timer.unref();
  return {
    event(e) {
      if (e.type === "submitted") return;
      if (e.type === "download" && e.phase === "start" && !spinner.isSpinning) spinner.start();
      if (e.type === "download") {
        if (e.phase === "start" || e.phase === "restart") speed.reset();
        else if (e.phase === "progress") speed.add(e.bytes);
      }
      if (e.type === "done") {
        spinner.succeed(text(e, 0));
        last = e;
        return;
      }
      if (e.type === "error") {
        spinner.fail(text(e, 0));
        last = e;
        return;
      }
      if (e.type === "download" && e.phase === "done") {
        spinner.stop();
        return;
      }
      if (e.type === "download" && e.phase === "restart" && e.message) {
        // a line that stays above the spinner
        spinner.stopAndPersist({ symbol: "!", text: e.message });
        spinner.start();
      }
      last = e;
      lastAt = now();
      refresh();
    },
    stop() {
      clearInterval(timer);
      if (spinner.isSpinning) spinner.stop();
    },
  };
}

/** The presenter for this output mode. */
export function presenterKind(
  json: boolean,
  decorated: boolean,
  columns: number | undefined = process.stderr.columns,
): PresenterKind {
  if (json) return "json";
  // A terminal that reports 0 columns (some pseudo-terminals) cannot host a spinner: ora
  // would count an infinite number of lines to clear.
  return decorated && columns !== 0 ? "spinner" : "lines";
}

export async function createPresenter(kind: PresenterKind, renderId: string): Promise<FollowPresenter> {
  if (kind === "json") return jsonPresenter();
  if (kind === "spinner") return spinnerPresenter(renderId);
  return linePresenter();
}
