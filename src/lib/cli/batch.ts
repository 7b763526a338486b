/**
 * `gigareels render batch`: from an input file (JSONL or CSV) to the engine's items, the
 * output names, and how the engine's events are shown.
 *
 * - Records -> submissions: a record's `type` (else --type, else educational-brainrot) picks
 *   the endpoint. educational-brainrot: prompt, characterPack, backgroundVideoPack (the flags
 *   are the defaults); text: videoUrl, text ("TEXT@X,Y", one per line), fontFamily, fontSize,
 *   color, or a ready textOverlays list; split: videoUrl, position, brollVideo, objectFit.
 *   Every field is checked as the flags of `render`, `render text` and `render split` are,
 *   before anything is sent; a message names the line. Any other type is sent as it is to
 *   /api/render (a JSONL line is a body; a CSV row sends its non-empty cells).
 * - Output names: `--name` with {line}, {id}, {slug} (of the prompt) or {COLUMN} (any field);
 *   values are made safe for file names; ".mp4" is added when no extension is given.
 * - Presenters: a terminal gets one overall bar on stderr; a pipe one line per change on
 *   stderr; --json NDJSON events on stdout. The text comes from pure functions.
 */
import { extname, isAbsolute, join, relative } from "node:path";
import type { BatchEndpoint, BatchEvent, BatchItem, BatchLineResult } from "../sdk/batch/engine.js";
import type { BatchRecord, ParsedBatch } from "../sdk/batch/input.js";
import { formatDuration } from "./duration.js";
import { jsonText, stderrLine, writeOut } from "./output.js";
import { formatBytes } from "./progress.js";
import {
  parseTextOverlay,
  type RenderSubmission,
  splitSubmission,
  templateSubmission,
  textSubmission,
} from "./render-request.js";
import { UsageError } from "./usage-error.js";

export interface BatchDefaults {
  type?: string;
  characterPack?: string;
  backgroundVideoPack?: string;
}

/** "--character-pack" -> "characterPack" in messages about a line's fields. */
function fieldNames(message: string): string {
  return message.replace(/--([a-z]+(?:-[a-z]+)*)/g, (_, f: string) =>
    f.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()),
  );
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v === "" ? undefined : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

/** The first of several spellings of a field (camelCase, kebab-case, snake_case). */
function pick(fields: Record<string, unknown>, name: string): string | undefined {
  const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return str(fields[name]) ?? str(fields[kebab]) ?? str(fields[snake]);
}

const TEMPLATE_FIELDS = ["type", "prompt", "characterPack", "backgroundVideoPack"];

/** One record to what it sends. Throws UsageError naming the line. */
export function recordSubmission(
  record: BatchRecord,
  format: ParsedBatch["format"],
  defaults: BatchDefaults,
): RenderSubmission {
  const f = record.fields;
  const type = (pick(f, "type") ?? defaults.type ?? "educational-brainrot").trim();
  try {
    if (type === "text") {
      if (Array.isArray(f.textOverlays)) {
        // A ready body: sent as it is, without the type.
        const { type: _t, ...body } = f;
        if (!str(body.videoUrl)) throw new UsageError("--video-url is required");
        return { endpoint: "/api/render/text", body };
      }
      const text = f.text;
      const texts = Array.isArray(text)
        ? text.map(String)
        : (str(text)
            ?.split(/\r?\n/)
            .filter((t) => t.trim() !== "") ?? []);
      texts.forEach(parseTextOverlay);
      return textSubmission({
        videoUrl: pick(f, "videoUrl"),
        texts,
        fontFamily: pick(f, "fontFamily"),
        fontSize: pick(f, "fontSize"),
        color: pick(f, "color"),
      });
    }
    if (type === "split")
      return splitSubmission({
        videoUrl: pick(f, "videoUrl"),
        position: pick(f, "position"),
        brollVideo: pick(f, "brollVideo"),
        objectFit: pick(f, "objectFit"),
      });
    if (type === "educational-brainrot") {
      const built = templateSubmission({
        prompt: pick(f, "prompt"),
        type,
        characterPack: pick(f, "characterPack") ?? defaults.characterPack,
        backgroundVideoPack: pick(f, "backgroundVideoPack") ?? defaults.backgroundVideoPack,
      });
      if (format === "jsonl") {
        // A JSONL line is a body: its other fields go along.
        const extra = Object.fromEntries(
          Object.entries(f).filter(
            ([k]) => !TEMPLATE_FIELDS.includes(k) && !["character-pack", "background-video-pack"].includes(k),
          ),
        );
        return { endpoint: "/api/render", body: { ...extra, ...built.body } };
      }
      return built;
    }
    // A type this tool does not know: sent as it is (a CSV row: its non-empty cells).
    const body: Record<string, unknown> =
      format === "jsonl"
        ? { ...f }
        : Object.fromEntries(Object.entries(f).filter(([, v]) => str(v) !== undefined));
    body.type = type;
    if (type === "" || /\s/.test(type)) throw new UsageError(`--type must be a render type, not "${type}"`);
    if (defaults.characterPack !== undefined && body.characterPack === undefined)
      body.characterPack = defaults.characterPack;
    if (defaults.backgroundVideoPack !== undefined && body.backgroundVideoPack === undefined)
      body.backgroundVideoPack = defaults.backgroundVideoPack;
    return { endpoint: "/api/render", body };
  } catch (err) {
    if (err instanceof UsageError) {
      const flagHint = /For example: --/;
      throw new UsageError(
        `line ${record.line}: ${fieldNames(err.message)}`,
        err.suggestions.filter((s) => !flagHint.test(s)).map(fieldNames),
      );
    }
    throw err;
  }
}

/** "Explain black holes!" -> "explain-black-holes" (at most 60 characters). */
export function slugify(text: string, max = 60): string {
  const s = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return s.slice(0, max).replace(/-+$/, "") || "render";
}

/** A field value made safe as part of a file name (no separators, no leading dots). */
function safePart(text: string): string {
  return (
    text
      .replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[-.]+|-+$/g, "")
      .slice(0, 80) || "_"
  );
}

export const DEFAULT_NAME_TEMPLATE = "{line}-{slug}";
const PLACEHOLDER = /\{([^{}]+)\}/g;

/**
 * Checks `--name` against the records: unknown placeholders and two lines that would get the
 * same file (when {id} is not part of it) are usage errors.
 */
export function checkNameTemplate(template: string, records: BatchRecord[], columns: string[]): void {
  if (template.trim() === "" || /[/\\]/.test(template.replace(PLACEHOLDER, "")))
    throw new UsageError(`--name must be a file name template without folders, not "${template}"`, [
      `For example: --name "${DEFAULT_NAME_TEMPLATE}"`,
    ]);
  const known = new Set(["line", "id", "slug", ...columns]);
  for (const r of records) for (const k of Object.keys(r.fields)) known.add(k);
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!known.has(m[1]!))
      throw new UsageError(`--name: {${m[1]}} is neither {line}, {id}, {slug} nor a column of the input`, [
        `Columns: ${[...known].filter((k) => !["line", "id", "slug"].includes(k)).join(", ") || "(none)"}`,
      ]);
  }
}

/** The file name of a record's video (`id` filled in once the render exists). */
export function outputName(template: string, record: BatchRecord, lineWidth: number, id?: string): string {
  const f = record.fields;
  const name = template.replace(PLACEHOLDER, (_, key: string) => {
    if (key === "line") return String(record.line).padStart(lineWidth, "0");
    if (key === "id") return safePart(id ?? "id");
    if (key === "slug")
      return slugify(pick(f, "prompt") ?? pick(f, "text") ?? pick(f, "videoUrl") ?? "render");
    const v = f[key];
    return safePart(typeof v === "string" ? v : v === undefined ? "" : JSON.stringify(v));
  });
  return extname(name) ? name : `${name}.mp4`;
}

/** The engine's items for the records: submissions checked, outputs named. */
export function batchItems(
  parsed: ParsedBatch,
  defaults: BatchDefaults,
  output?: { dir: string; template: string },
): BatchItem[] {
  const width = String(parsed.records.at(-1)?.line ?? 1).length;
  if (output) checkNameTemplate(output.template, parsed.records, parsed.columns);
  const items: BatchItem[] = parsed.records.map((record) => {
    const s = recordSubmission(record, parsed.format, defaults);
    const item: BatchItem = { line: record.line, endpoint: s.endpoint as BatchEndpoint, body: s.body };
    if (output) {
      item.output = output.template.includes("{id}")
        ? (id: string) => join(output.dir, outputName(output.template, record, width, id))
        : join(output.dir, outputName(output.template, record, width));
    }
    return item;
  });
  if (output && !output.template.includes("{id}")) {
    const seen = new Map<string, number>();
    for (const it of items) {
      const other = seen.get(it.output as string);
      if (other !== undefined)
        throw new UsageError(
          `--name "${output.template}" gives lines ${other} and ${it.line} the same file ${it.output}`,
          ["Add {line} or {id} to --name"],
        );
      seen.set(it.output as string, it.line);
    }
  }
  return items;
}

// ---------------------------------------------------------------- presentation

const WINDOW_WORDS: Record<string, string> = {
  minute: "this minute's",
  hour: "this hour's",
  day: "today's",
  window: "the window's",
};

function clock(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}

/** One line for a pipe or a log, or undefined when the event is not worth one. */
export function batchEventLine(e: BatchEvent): string | undefined {
  switch (e.type) {
    case "start":
      return e.resumed
        ? `Resuming the batch: ${e.counts.total} lines, ${e.counts.done} done, ${e.counts.failed} failed, ${e.counts.rendering} in flight, ${e.counts.queued} to submit`
        : `Starting the batch: ${e.counts.total} lines`;
    case "submitted":
      return `line ${e.line}: submitted render ${e.renderId}${e.resent ? " (key resent after an interruption)" : ""}`;
    case "status":
      return `line ${e.line}: ${e.status}`;
    case "waiting":
      return `Waiting: ${WINDOW_WORDS[e.window] ?? "the"} renders are spent (${e.limit ?? "?"} per ${e.window}); going on at ${clock(e.until)}`;
    case "going-on":
      return `Going on: the ${e.window}'s renders are available again`;
    case "retry":
      return `line ${e.line}: ${e.message}; retrying in ${formatDuration(e.waitMs)}`;
    case "done":
      return `line ${e.line}: done`;
    case "saved":
      return `line ${e.line}: saved ${e.path} (${formatBytes(e.bytes)})`;
    case "failed":
      return `line ${e.line}: failed: ${e.error.message}`;
    case "summary":
      return undefined;
  }
}

/** "12/30 done · 3 rendering · 15 queued · 0 failed" */
export function countsText(c: BatchEvent["counts"]): string {
  return `${c.done}/${c.total} done · ${c.rendering} rendering · ${c.queued} queued · ${c.failed} failed`;
}

/**
 * The ETA from the pace so far: the time each submission has taken on average (which is what
 * the limits allow), for what is left to submit, plus a render's typical length; at least
 * until a spent window resets.
 */
export class EtaClock {
  private firstSubmit?: number;
  private submits = 0;
  private readonly submittedAt = new Map<number, number>();
  private renderMs: number[] = [];
  private waitUntil = 0;

  event(e: BatchEvent, now = Date.now()): void {
    if (e.type === "submitted") {
      this.firstSubmit ??= now;
      this.submits++;
      this.submittedAt.set(e.line, now);
    } else if (e.type === "done") {
      const t = this.submittedAt.get(e.line);
      if (t !== undefined) this.renderMs.push(now - t);
    } else if (e.type === "waiting") {
      this.waitUntil = Date.parse(e.until);
    }
  }

  /** Milliseconds left, or undefined before there is anything to go by. */
  etaMs(c: BatchEvent["counts"], now = Date.now()): number | undefined {
    if (c.queued + c.rendering === 0) return 0;
    const render = this.renderMs.length
      ? this.renderMs.reduce((a, b) => a + b, 0) / this.renderMs.length
      : undefined;
    if (c.queued === 0) return render;
    if (this.firstSubmit === undefined || this.submits < 2) return undefined;
    const perSubmit = (now - this.firstSubmit) / this.submits;
    const wait = Math.max(0, this.waitUntil - now);
    return Math.max(wait, c.queued * perSubmit) + (render ?? 0);
  }
}

/** The bar line of a terminal: "[#####-----] 12/30 done · ... · ETA 1m 20s". */
export function barLine(c: BatchEvent["counts"], etaMs: number | undefined, width = 24): string {
  const total = Math.max(1, c.total);
  const done = Math.round(((c.done + c.failed) / total) * width);
  const going = Math.min(width - done, Math.round((c.rendering / total) * width));
  const bar = `[${"#".repeat(done)}${">".repeat(going)}${"-".repeat(width - done - going)}]`;
  const eta = etaMs === undefined ? "" : ` · ETA ${formatDuration(Math.max(1000, etaMs))}`;
  return `${bar} ${countsText(c)}${eta}`;
}

export interface BatchPresenter {
  event(e: BatchEvent): void;
  stop(): void;
}

/** NDJSON on stdout. */
export function jsonBatchPresenter(write = (l: string) => writeOut(`${l}\n`, "raw")): BatchPresenter {
  return { event: (e) => write(jsonText(e)), stop: () => {} };
}

/** One line per change on stderr (the status word, not every progress step). */
export function lineBatchPresenter(write = stderrLine): BatchPresenter {
  const lastStatus = new Map<number, string>();
  return {
    event(e) {
      if (e.type === "status") {
        if (lastStatus.get(e.line) === e.status) return;
        lastStatus.set(e.line, e.status);
      }
      const line = batchEventLine(e);
      if (line) write(line);
    },
    stop: () => {},
  };
}

/** One overall bar on stderr, redrawn in place; waits, failures and retries print above it. */
export function barBatchPresenter(stream: NodeJS.WriteStream = process.stderr): BatchPresenter {
  const eta = new EtaClock();
  let counts: BatchEvent["counts"] | undefined;
  let drawn = false;
  const draw = () => {
    if (!counts) return;
    stream.write(`\r\x1b[2K${barLine(counts, eta.etaMs(counts))}`);
    drawn = true;
  };
  const above = (text: string) => {
    stream.write(`\r\x1b[2K${text}\n`);
    draw();
  };
  const timer = setInterval(draw, 1000);
  timer.unref();
  return {
    event(e) {
      eta.event(e);
      counts = e.counts;
      if (e.type === "summary") return;
      if (
        e.type === "waiting" ||
        e.type === "going-on" ||
        e.type === "failed" ||
        e.type === "retry" ||
        e.type === "start"
      )
        above(batchEventLine(e)!);
      else draw();
    },
    stop() {
      clearInterval(timer);
      if (drawn) stream.write("\r\x1b[2K");
    },
  };
}

/** A path as people type it: relative to the current folder when inside it. */
function shownPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** The summary table for people (stdout): one row per line, then the totals. */
export function summaryTable(lines: BatchLineResult[], elapsedMs: number): string {
  const rows = lines.map((l) => [
    String(l.line),
    l.status,
    l.renderId ?? "-",
    l.status === "error" ? (l.error ?? "failed") : l.output ? shownPath(l.output) : "-",
  ]);
  const head = ["LINE", "STATUS", "RENDER", "OUTPUT / ERROR"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const n = (s: string[]) => lines.filter((l) => s.includes(l.status)).length;
  const totals = `${lines.length} lines: ${n(["saved", "done"])} done, ${n(["error"])} failed, ${lines.length - n(["saved", "done", "error"])} unfinished (${formatDuration(Math.max(1000, elapsedMs))})`;
  return [fmt(head), ...rows.map(fmt), totals].join("\n");
}
