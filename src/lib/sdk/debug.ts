/**
 * Debug logging for the SDK: one line per event on stderr when `DEBUG` matches `gigareels*`
 * (or `*`) or when the client's `debug` option is set. Every line goes through `redactKeys`,
 * so a key never reaches the log even if a caller put one in a URL.
 */
import { redactKeys } from "../credentials/key-format.js";
import { type Env, processEnv } from "./env.js";

/** Receives finished, redacted lines (without a trailing newline). */
export type DebugSink = (line: string) => void;

/** `true` writes to stderr, a function receives the lines, `false` silences even DEBUG. */
export type DebugOption = boolean | DebugSink;

/** True when a DEBUG value enables the given namespace (comma/space separated, `*` globs, `-` excludes). */
export function debugEnabled(value: string | undefined, namespace = "gigareels:http"): boolean {
  if (!value) return false;
  let enabled = false;
  for (const raw of value.split(/[\s,]+/)) {
    if (!raw) continue;
    const negate = raw.startsWith("-");
    const pattern = negate ? raw.slice(1) : raw;
    const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    if (re.test(namespace)) enabled = !negate;
  }
  return enabled;
}

export type DebugLogger = ((message: string) => void) & { enabled: boolean };

export function createDebugLogger(
  option: DebugOption | undefined,
  namespace = "gigareels:http",
  env: Env = processEnv(),
): DebugLogger {
  let sink: DebugSink | null = null;
  if (typeof option === "function") sink = option;
  else if (option === true || (option === undefined && debugEnabled(env.DEBUG, namespace))) {
    // stderr where there is one; console.error elsewhere (Workers, edge runtimes).
    const stderr = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process?.stderr;
    sink = (line) => {
      if (stderr) stderr.write(`${line}\n`);
      else console.error(line);
    };
  }
  const log = ((message: string) => {
    if (sink) sink(redactKeys(`${namespace} ${message}`));
  }) as DebugLogger;
  log.enabled = sink !== null;
  return log;
}
