/**
 * Batch input files: JSONL (one JSON object a line) and CSV with a header row (RFC 4180:
 * quoted fields with commas, doubled quotes and line breaks, CRLF or LF, a UTF-8 BOM).
 * Pure functions of the text; every record keeps the number of the line it starts on, so
 * messages, state entries and output names can point at it.
 *
 *   parseBatchText('prompt,characterPack\n"Cats, explained",rick-and-morty\n', "csv")
 *   // -> { format: "csv", columns: ["prompt", "characterPack"],
 *   //      records: [{ line: 2, fields: { prompt: "Cats, explained", characterPack: "rick-and-morty" } }] }
 */
import { GigaReelsError } from "../errors.js";

export type BatchFormat = "jsonl" | "csv";

export interface BatchRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  /** JSONL: the parsed object. CSV: column -> cell text. */
  fields: Record<string, unknown>;
}

export interface ParsedBatch {
  format: BatchFormat;
  /** CSV: the header, in order. JSONL: empty. */
  columns: string[];
  records: BatchRecord[];
}

/** The input file is not valid JSONL / CSV. Carries the line number. */
export class BatchInputError extends GigaReelsError {
  override code = "batch_input";
  readonly line: number | undefined;
  constructor(message: string, line?: number, suggestions: string[] = []) {
    super(message, { suggestions });
    this.line = line;
  }
}

/** "csv" for .csv/.tsv names, "jsonl" for .jsonl/.ndjson/.json; else by the first character. */
export function detectFormat(name: string | undefined, text: string): BatchFormat {
  const lower = (name ?? "").toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (/\.(jsonl|ndjson|json)$/.test(lower)) return "jsonl";
  const first = text.replace(/^\uFEFF/, "").trimStart()[0];
  return first === "{" ? "jsonl" : "csv";
}

export function parseBatchText(text: string, format: BatchFormat): ParsedBatch {
  return format === "csv" ? parseCsvBatch(text) : parseJsonl(text);
}

/** One JSON object per line; blank lines are skipped. */
export function parseJsonl(text: string): ParsedBatch {
  const records: BatchRecord[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new BatchInputError(`line ${i + 1} is not valid JSON (${(err as Error).message})`, i + 1, [
        'Each line must be one JSON object, such as {"prompt": "Explain black holes"}',
      ]);
    }
    if (!value || typeof value !== "object" || Array.isArray(value))
      throw new BatchInputError(`line ${i + 1} must be a JSON object ({...})`, i + 1, [
        'For example: {"prompt": "Explain black holes"}',
      ]);
    records.push({ line: i + 1, fields: value as Record<string, unknown> });
  }
  return { format: "jsonl", columns: [], records };
}

/** RFC 4180 rows with the line each starts on. Throws on an unterminated quote. */
export function parseCsvRows(text: string): { line: number; cells: string[] }[] {
  const s = text.replace(/^\uFEFF/, "");
  const rows: { line: number; cells: string[] }[] = [];
  let line = 1;
  let i = 0;
  while (i < s.length) {
    const start = line;
    const cells: string[] = [];
    let cell = "";
    let atRowEnd = false;
    while (!atRowEnd) {
      if (s[i] === '"') {
        // Quoted field: "" is a quote; anything else, line breaks included, is literal.
        i++;
        for (;;) {
          if (i >= s.length)
            throw new BatchInputError(`line ${start}: a quoted field is never closed`, start, [
              'Close the field with ", and write a quote inside it as ""',
            ]);
          const c = s[i]!;
          if (c === '"') {
            if (s[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          cell += c;
          i++;
        }
        // Text after the closing quote and before the separator is kept (lenient, as spreadsheets do).
        while (i < s.length && s[i] !== "," && s[i] !== "\n" && s[i] !== "\r") cell += s[i++];
      } else {
        while (i < s.length && s[i] !== "," && s[i] !== "\n" && s[i] !== "\r") cell += s[i++];
      }
      cells.push(cell);
      cell = "";
      if (i >= s.length) atRowEnd = true;
      else if (s[i] === ",") i++;
      else {
        if (s[i] === "\r") i++;
        if (s[i] === "\n") i++;
        line++;
        atRowEnd = true;
      }
    }
    if (!(cells.length === 1 && cells[0] === "")) rows.push({ line: start, cells });
  }
  return rows;
}

/** A CSV with a header row: one record per following row; blank rows are skipped. */
export function parseCsvBatch(text: string): ParsedBatch {
  const rows = parseCsvRows(text);
  const header = rows.shift();
  if (!header) return { format: "csv", columns: [], records: [] };
  const columns = header.cells.map((c) => c.trim());
  const seen = new Set<string>();
  for (const [n, c] of columns.entries()) {
    if (c === "")
      throw new BatchInputError(
        `line ${header.line}: column ${n + 1} of the header has no name`,
        header.line,
        ["The first row names the columns, such as prompt,characterPack"],
      );
    if (seen.has(c))
      throw new BatchInputError(`line ${header.line}: the header names the column "${c}" twice`, header.line);
    seen.add(c);
  }
  const records: BatchRecord[] = [];
  for (const row of rows) {
    if (row.cells.length !== columns.length)
      throw new BatchInputError(
        `line ${row.line} has ${row.cells.length} fields, the header ${columns.length}`,
        row.line,
        ['Quote a field that contains a comma: "Cats, explained"'],
      );
    const fields: Record<string, unknown> = {};
    for (const [n, c] of columns.entries()) fields[c] = row.cells[n];
    records.push({ line: row.line, fields });
  }
  return { format: "csv", columns, records };
}

/** One CSV field, quoted when it has to be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) || /^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Records back to a file of the same format (the failed lines, to feed back in). */
export function formatBatch(format: BatchFormat, columns: string[], records: BatchRecord[]): string {
  if (format === "jsonl") return records.map((r) => `${JSON.stringify(r.fields)}\n`).join("");
  const out = [`${columns.map(csvField).join(",")}\n`];
  for (const r of records) out.push(`${columns.map((c) => csvField(String(r.fields[c] ?? ""))).join(",")}\n`);
  return out.join("");
}
