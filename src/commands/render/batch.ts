import { readFile, rm, writeFile } from "node:fs/promises";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Args, Flags } from "@oclif/core";
import type { BatchEvent } from "../../lib/sdk/batch/engine.js";
import { BaseCommand } from "../../lib/cli/base-command.js";
import {
  type BatchPresenter,
  barBatchPresenter,
  batchItems,
  DEFAULT_NAME_TEMPLATE,
  jsonBatchPresenter,
  lineBatchPresenter,
  summaryTable,
} from "../../lib/cli/batch.js";
import { durationFlag } from "../../lib/cli/flags.js";
import { jsonText, shellQuote, writeOut } from "../../lib/cli/output.js";
import { apiFlags } from "../../lib/cli/render-command.js";
import {
  DEFAULT_BACKGROUND_VIDEO_PACK,
  DEFAULT_CHARACTER_PACK,
  DEFAULT_RENDER_TYPE,
} from "../../lib/cli/render-request.js";
import { UsageError } from "../../lib/cli/usage-error.js";
import { detectFormat, formatBatch, parseBatchText } from "../../lib/sdk/batch/input.js";
import { defaultStatePath } from "../../lib/sdk/batch/state.js";
import {
  AbortedError,
  DeadlineExceededError,
  GigaReelsError,
  RenderFailedError,
} from "../../lib/sdk/errors.js";

/** `render batch --json`: the summary event (NDJSON, the last line), with where the failed lines went. */
export type BatchSummary = Extract<BatchEvent, { type: "summary" }> & { failedFile?: string; state: string };

export default class RenderBatch extends BaseCommand {
  static override summary =
    "Render every line of a JSONL or CSV file, paced to the key's limits, safe to stop and rerun.";
  static override description =
    `One render per line: a JSONL line is a render body or {"prompt": ...} (the type and pack flags are the defaults); a CSV file has a header row (prompt, type, characterPack, backgroundVideoPack; text renders: videoUrl, text as TEXT@X,Y, fontFamily, fontSize, color; split renders: videoUrl, position, brollVideo, objectFit). Other types are sent as they are. Every line is checked before anything is sent.

Renders are created no faster than the key's limits allow (10 a minute, 100 an hour, 1000 a day), sharing them with every other gigareels process using the key, so the batch never gets a 429; when an hour's or a day's renders are spent it says so, and when it goes on.

The state file (FILE.state.json beside the input, or --state) records each line's Idempotency-Key before its request is sent, then its render id, status and output. Run the same command again after Ctrl-C, kill, reboot or network loss: it submits only what was never submitted, follows what is in flight and downloads what is done, and never creates a second render for a line. A line changed since is refused unless --allow-changed.

Exit codes: 0 all done, 2 bad input (nothing sent), 4 not logged in, 5 API unreachable longer than --max-outage, 6 some renders ended in error (the others finished; the failed lines are written to FILE.failed.csv/.jsonl, to feed back in, or rerun with --retry-failed), 7 --timeout reached, 130 Ctrl-C (rerun the command to go on).`;

  static override examples = [
    {
      description: "A CSV of prompts to a folder of videos",
      command: "<%= config.bin %> render batch lessons.csv --output-dir videos",
    },
    {
      description: "JSONL, file names from a column, NDJSON events for CI",
      command: '<%= config.bin %> render batch shorts.jsonl --output-dir out --name "{line}-{title}" --json',
    },
    {
      description: "Rerun after a failure, resubmitting the lines whose render ended in error",
      command: "<%= config.bin %> render batch lessons.csv --output-dir videos --retry-failed",
    },
    {
      description: "From stdin (the state file must be named)",
      command: "generate-prompts | <%= config.bin %> render batch - --state week12.state.json",
    },
  ];

  static override args = {
    file: Args.string({
      description: "JSONL or CSV file, one render per line (- reads stdin).",
      required: true,
      ignoreStdin: true,
    }),
  };

  static override flags = {
    format: Flags.string({
      summary: "Input format (default: from the file name, else from its first character).",
      options: ["jsonl", "csv"],
    }),
    type: Flags.string({
      summary: `Render type of lines that name none (default ${DEFAULT_RENDER_TYPE}; also text, split).`,
      helpValue: "TYPE",
    }),
    "character-pack": Flags.string({
      summary: `Character pack of lines that name none (default ${DEFAULT_CHARACTER_PACK}).`,
      helpValue: "NAME",
    }),
    "background-video-pack": Flags.string({
      summary: `Background video pack of lines that name none (default ${DEFAULT_BACKGROUND_VIDEO_PACK}).`,
      helpValue: "NAME",
    }),
    "output-dir": Flags.string({
      char: "o",
      summary: "Download every video into DIR (resumable, verified).",
      helpValue: "DIR",
    }),
    name: Flags.string({
      summary: `File name template in --output-dir: {line}, {id}, {slug} (of the prompt) or {COLUMN} (default ${DEFAULT_NAME_TEMPLATE}).`,
      helpValue: "TEMPLATE",
      dependsOn: ["output-dir"],
    }),
    state: Flags.string({
      summary: "State file (default FILE.state.json beside the input; required with -).",
      helpValue: "FILE",
    }),
    "allow-changed": Flags.boolean({
      summary: "Submit lines changed since the state recorded them (a new render each).",
    }),
    "retry-failed": Flags.boolean({
      summary: "Submit again the lines whose render ended in error in an earlier run.",
    }),
    force: Flags.boolean({ summary: "Overwrite files in --output-dir that this batch did not write." }),
    "failed-file": Flags.string({
      summary: "Where to write the failed lines (default FILE.failed.csv or .jsonl beside the input).",
      helpValue: "FILE",
    }),
    timeout: durationFlag("Stop after this long (exit 7); submitted renders go on, a rerun picks them up."),
    "max-outage": durationFlag("Stop when the API is unreachable this long (exit 5). Default 5m."),
    ...apiFlags,
  };

  override logJson(json: unknown): void {
    // NDJSON: every document on one line (the error document included)
    if (json !== undefined) writeOut(`${jsonText(json)}\n`, "raw");
  }

  override toSuccessJson(): unknown {
    return undefined; // the events and the summary are on stdout already
  }

  async run(): Promise<BatchSummary> {
    const { args, flags } = await this.parse(RenderBatch);
    const stdin = args.file === "-";
    if (stdin && !flags.state)
      throw new UsageError("Reading stdin needs --state FILE (where the batch records what it sent)", [
        "For example: gigareels render batch - --state week12.state.json",
      ]);
    let text: string;
    try {
      text = stdin ? await readStdin() : await readFile(args.file, "utf8");
    } catch (err) {
      throw new UsageError(`Cannot read ${args.file} (${(err as NodeJS.ErrnoException).code ?? err})`, [
        "Pass a JSONL or CSV file, or - to read stdin",
      ]);
    }
    const format =
      (flags.format as "jsonl" | "csv" | undefined) ?? detectFormat(stdin ? undefined : args.file, text);
    const parsed = parseBatchText(text, format);
    if (parsed.records.length === 0)
      throw new UsageError(`${stdin ? "stdin" : args.file} has no lines to render`, [
        format === "csv"
          ? "A CSV needs a header row, then one row per render"
          : 'One JSON object a line, such as {"prompt": "Explain black holes"}',
      ]);
    const outputDir = flags["output-dir"] ? resolve(flags["output-dir"]) : undefined;
    const items = batchItems(
      parsed,
      {
        type: flags.type,
        characterPack: flags["character-pack"],
        backgroundVideoPack: flags["background-video-pack"],
      },
      outputDir ? { dir: outputDir, template: flags.name ?? DEFAULT_NAME_TEMPLATE } : undefined,
    );
    const state = resolve(flags.state ?? defaultStatePath(args.file));
    const failedFile = resolve(
      flags["failed-file"] ??
        (stdin ? state.replace(/(\.state)?\.json$/, "") : args.file).replace(
          /\.(csv|jsonl|ndjson|json)$/i,
          "",
        ) + `.failed.${format}`,
    );
    if (outputDir) await mkdir(outputDir, { recursive: true });

    const rerun = `gigareels ${process.argv
      .slice(2)
      .filter((a) => a !== "--retry-failed")
      .map(shellQuote)
      .join(" ")}`;
    const { apiClient } = await import("../../lib/cli/client.js");
    const client = apiClient(flags, this.config.version);
    const json = this.jsonEnabled();
    const presenter: BatchPresenter = json
      ? jsonBatchPresenter()
      : this.decorated
        ? barBatchPresenter()
        : lineBatchPresenter();

    let summary: Extract<BatchEvent, { type: "summary" }> | undefined;
    let stopped: unknown;
    try {
      for await (const e of client.renders.batch(items, {
        state,
        input: stdin ? "(stdin)" : resolve(args.file),
        allowChanged: flags["allow-changed"],
        retryFailed: flags["retry-failed"],
        force: flags.force,
        signal: this.signal,
        timeoutMs: flags.timeout,
        maxOutageMs: flags["max-outage"],
      })) {
        if (e.type === "summary") summary = e;
        else presenter.event(e);
      }
    } catch (err) {
      stopped = err;
    } finally {
      presenter.stop();
    }
    if (!summary) throw stopped; // refused before it started (bad state, changed lines, busy)

    const failed = new Set(summary.failedLines);
    let written: string | undefined;
    if (failed.size > 0) {
      await mkdir(dirname(failedFile), { recursive: true });
      await writeFile(
        failedFile,
        formatBatch(
          format,
          parsed.columns,
          parsed.records.filter((r) => failed.has(r.line)),
        ),
      );
      written = failedFile;
    } else if (!stopped) {
      await rm(failedFile, { force: true }); // an earlier run's list, all retried since
    }
    const result: BatchSummary = { ...summary, state, ...(written ? { failedFile: written } : {}) };
    if (json) this.logJson(result);
    else {
      this.log(summaryTable(summary.lines, summary.elapsedMs));
      if (written) this.log(`Failed lines written to ${written}`);
    }

    if (stopped) {
      const again = `Rerun to go on: ${rerun}`;
      if (stopped instanceof AbortedError)
        throw new AbortedError(
          `Interrupted: ${summary.counts.done} of ${summary.counts.total} done, ${summary.counts.rendering} in flight (their renders go on)`,
          {
            suggestions: [again],
          },
        );
      if (stopped instanceof DeadlineExceededError)
        throw new DeadlineExceededError(stopped.message, { suggestions: [again] });
      if (stopped instanceof GigaReelsError) stopped.suggestions = [...stopped.suggestions, again];
      throw stopped;
    }
    if (failed.size > 0) {
      const lines = [...failed].slice(0, 10).join(", ") + (failed.size > 10 ? ", ..." : "");
      throw new RenderFailedError(
        "",
        `${failed.size} of ${summary.counts.total} lines failed (line${failed.size === 1 ? "" : "s"} ${lines}); the others are done`,
        {
          suggestions: [
            `Retry them with: ${rerun} --retry-failed`,
            `or render the file ${written} as a new batch`,
          ],
        },
      );
    }
    return result;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}
