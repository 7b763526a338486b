/**
 * Output rules (cli-conventions.md): results on stdout, everything else on stderr; no colour,
 * spinner or progress bar when the stream is not a terminal, with NO_COLOR, or with --json;
 * prompts only when stdin and stdout are terminals and CI is unset.
 */
import { redactKeys } from "../credentials/key-format.js";

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

/** Writes one line to stderr, redacted. */
export function stderrLine(text: string): void {
  process.stderr.write(`${redactKeys(text)}\n`);
}

/** Joins a message and its suggestions into the one line the conventions ask for. */
export function oneLine(message: string, suggestions: string[] = []): string {
  // A sentence that ends without punctuation gets a full stop before the next one begins
  // (oclif's "Nonexistent flag: --x" + "See more help with --help").
  const stop = (text: string) => (/[.?!]$/.test(text) ? text : `${text.replace(/[:;,]$/, "")}.`);
  const flat = (s: string) =>
    s
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .reduce((acc, l) => (acc === "" ? l : /^[A-Z]/.test(l) ? `${stop(acc)} ${l}` : `${acc} ${l}`), "");
  let line = flat(message);
  for (const s of suggestions) {
    const fix = flat(s);
    if (!fix || line.includes(fix)) continue;
    // "Run gigareels login" + "or set GIGAREELS_API_KEY ...": a lower-case start continues the sentence.
    line = /^[a-z]/.test(fix) ? `${line.replace(/[.:;,]$/, "")}, ${fix}` : `${stop(line)} ${fix}`;
  }
  return redactKeys(line);
}

/** Quotes a word for a POSIX shell when it needs it (commands printed for people to copy). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-][A-Za-z0-9_./:@%+=,~-]*$/.test(word)
    ? word
    : `'${word.replace(/'/g, "'\\''")}'`;
}
