/**
 * Output rules (cli-conventions.md): results on stdout, everything else on stderr; no colour,
 * spinner or progress bar when the stream is not a terminal, with NO_COLOR, or with --json;
 * prompts only when stdin and stdout are terminals and CI is unset.
 *
 * The one way out: everything the CLI writes goes through `writeOut`, `writeErr`, `stderrLine`,
 * `jsonText` or `forPeople` (a test fails when src/commands or src/lib/cli writes to
 * process.stdout/stderr elsewhere). On the way out:
 * - every `giga_` key, whatever its source (a response header or field, an error, a path) is
 *   masked to `giga_****` + its last four characters;
 * - text for people has its control characters made visible (`ESC[2J` -> `^[[2J`, CR -> `^M`,
 *   C1 -> `<U+009B>`), so a server cannot clear the screen, retitle the window or rewrite a line;
 *   colour (SGR) sequences are kept only where colour is on;
 * - JSON keeps every value exactly (control characters JSON-escaped, C1 and DEL too).
 */
import { redactKeys } from "../credentials/key-format.js";
import { oneLine } from "../text.js";

export { oneLine };

export interface OutputMode {
  json: boolean;
}

type Stream = { isTTY?: boolean };

export function isTerminal(stream: Stream = process.stdout): boolean {
  return stream.isTTY === true;
}

/** Colour, spinners and progress bars are allowed on `stream`. */
export function decorationsAllowed(mode: OutputMode, stream: Stream = process.stderr): boolean {
  return !mode.json && isTerminal(stream) && !("NO_COLOR" in process.env && process.env.NO_COLOR !== "");
}

/** Interactive prompts are allowed. */
export function canPrompt(mode: OutputMode = { json: false }): boolean {
  return !mode.json && isTerminal(process.stdin) && isTerminal(process.stdout) && !isCI();
}

export function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

/** A colour (SGR) sequence, the only escape sequence kept, and only where colour is on. */
const SGR = /^\x1b\[[0-9;]*m/;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text as it may reach a person's terminal: keys masked, and every control character but
 * newline and tab made visible in caret notation (ESC -> `^[`, CR -> `^M`, BEL -> `^G`, DEL ->
 * `^?`) or as `<U+0080>`..`<U+009F>` (C1, which some terminals read as ESC + a letter).
 * With `colour`, SGR colour sequences pass (the CLI's own colours).
 */
export function forPeople(text: string, colour = false): string {
  return redactKeys(text).replace(CONTROL, (c, offset: number, whole: string) => {
    if (colour && c === "\x1b" && SGR.test(whole.slice(offset))) return c;
    const code = c.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 64)}`;
    if (code === 0x7f) return "^?";
    return `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
  });
}

/**
 * A JSON document as written: keys masked; DEL and C1 characters (which JSON.stringify leaves
 * raw) escaped as `\u00XX`, so the value is exact and the terminal safe.
 */
export function jsonText(value: unknown, indent?: number): string {
  let text: string;
  try {
    text = JSON.stringify(value, null, indent);
  } catch (err) {
    // Nesting deeper than V8's stack (a server's `[[[[...` 200 000 levels): the levels beyond
    // MAX_JSON_DEPTH are replaced by a note instead of crashing the command.
    if (!(err instanceof RangeError)) throw err;
    text = JSON.stringify(limitDepth(value, 0), null, indent);
  }
  return redactKeys(text).replace(
    /[\x7f-\x9f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const MAX_JSON_DEPTH = 1000;

function limitDepth(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_JSON_DEPTH) return `(nested deeper than ${MAX_JSON_DEPTH} levels: not shown)`;
  const v =
    typeof (value as { toJSON?: unknown }).toJSON === "function"
      ? (value as { toJSON: () => unknown }).toJSON()
      : value;
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => limitDepth(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, limitDepth(x, depth + 1)]));
}

/** Colour may be used on this stream (a terminal, NO_COLOR unset). */
function colourOn(stream: Stream): boolean {
  return decorationsAllowed({ json: false }, stream);
}

/**
 * Writes to stdout. Text for people (`forPeople`, the default) or `raw` bytes/text that a program
 * reads (a response body piped on): keys are masked either way; binary bytes pass as they are.
 */
export function writeOut(chunk: string | Uint8Array, kind: "people" | "raw" = "people"): void {
  if (typeof chunk !== "string") {
    process.stdout.write(chunk);
    return;
  }
  process.stdout.write(kind === "raw" ? redactKeys(chunk) : forPeople(chunk, colourOn(process.stdout)));
}

/** Writes text for people to stderr (keys masked, control characters made visible). */
export function writeErr(text: string): void {
  process.stderr.write(forPeople(text, colourOn(process.stderr)));
}

/** Writes one line to stderr (keys masked, control characters made visible). */
export function stderrLine(text: string): void {
  writeErr(`${text}\n`);
}

/** Quotes a word for a POSIX shell when it needs it (commands printed for people to copy). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-][A-Za-z0-9_./:@%+=,~-]*$/.test(word)
    ? word
    : `'${word.replace(/'/g, "'\\''")}'`;
}
