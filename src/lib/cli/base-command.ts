/**
 * The base of every command: `--json`, the exit-code table, one-line errors (stack traces
 * only with DEBUG), and an AbortSignal that fires on Ctrl-C or SIGTERM (the same clean stop:
 * the resume line, partial files kept; exit 130, or 143 for SIGTERM as a shell reports a
 * process killed by it). The only oclif-aware code outside `src/commands`.
 */
import { format } from "node:util";
import { Command, type Interfaces } from "@oclif/core";
import { setCredentialsWarningSink } from "../credentials/warning-sink.js";
import { AbortedError, BugError, GigaReelsError } from "../sdk/errors.js";
import { errorCodeFor, ExitCode, exitCodeFor, isExpectedError } from "./exit-codes.js";
import { decorationsAllowed, jsonText, type OutputMode, oneLine, stderrLine, writeOut } from "./output.js";

export interface JsonErrorDocument {
  error: { code: string; message: string; exitCode: number; suggestions: string[] };
}

// biome-ignore lint/suspicious/noExplicitAny: oclif's FlagOutput
type Flags = { [name: string]: any };

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  private readonly abortController = new AbortController();
  private sigintCount = 0;
  /** The exit code of the stop signal received first: 130 (SIGINT) or 143 (SIGTERM). */
  private stopExit: number | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.sigintCount++;
    this.stopExit ??= signal === "SIGTERM" ? ExitCode.TERMINATED : ExitCode.INTERRUPTED;
    if (this.sigintCount > 1) process.exit(this.stopExit);
    this.abortController.abort(new AbortedError("Interrupted"));
    // A command that does not listen to the signal still ends promptly.
    const exit = this.stopExit;
    setTimeout(() => process.exit(exit), 3000).unref();
  };

  /** Fires on Ctrl-C or SIGTERM: pass it to every request, sleep and prompt. */
  protected get signal(): AbortSignal {
    return this.abortController.signal;
  }

  protected get mode(): OutputMode {
    return { json: this.jsonEnabled() };
  }

  /** Colour and spinners allowed on stderr. */
  protected get decorated(): boolean {
    return decorationsAllowed(this.mode);
  }

  /** login names a profile to create: an unknown --profile is not an error there. */
  static createsProfile = false;

  /** Parses, then refuses an unknown --profile (exit 2, naming the profiles that exist). */
  // biome-ignore lint/suspicious/noExplicitAny: the same constraints as oclif's own parse()
  protected override async parse<F extends Flags, B extends Flags, A extends { [name: string]: any }>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await super.parse(options, argv);
    const profile = (parsed.flags as { profile?: unknown }).profile;
    if (typeof profile === "string" && !(this.constructor as typeof BaseCommand).createsProfile) {
      const { checkProfileExists } = await import("../auth/profiles.js");
      await checkProfileExists(profile);
    }
    return parsed;
  }

  override async init(): Promise<void> {
    await super.init();
    // The credential store's reports with no onWarning of their own (a tightened mode): our warning line.
    setCredentialsWarningSink((message) => this.warning(message));
    process.on("SIGINT", this.onSignal);
    process.on("SIGTERM", this.onSignal);
  }

  override async finally(err: Error | undefined): Promise<void> {
    // Once interrupted, the handler stays until the process exits: a second Ctrl-C during the
    // clean-up still exits 130 (143) instead of killing the process by signal.
    if (this.sigintCount === 0) {
      process.off("SIGINT", this.onSignal);
      process.off("SIGTERM", this.onSignal);
    }
    await super.finally(err);
  }

  /** Progress and notes for people: stderr, silent under --json. */
  protected info(text: string): void {
    if (!this.jsonEnabled()) stderrLine(text);
  }

  /** A warning: one line on stderr, also under --json (it never goes to stdout). */
  protected warning(text: string): void {
    stderrLine(`Warning: ${text}`);
  }

  /** One NDJSON event on stdout (commands that follow a render). */
  protected emitEvent(event: Record<string, unknown>): void {
    writeOut(`${jsonText(event)}\n`, "raw");
  }

  override logJson(json: unknown): void {
    writeOut(`${jsonText(json, 2)}\n`, "raw");
  }

  /** A result line for people on stdout (silent under --json), through the output pass. */
  override log(message = "", ...args: unknown[]): void {
    if (!this.jsonEnabled()) writeOut(`${format(message, ...args)}\n`);
  }

  /** A line for people on stderr (silent under --json), through the output pass. */
  override logToStderr(message = "", ...args: unknown[]): void {
    if (!this.jsonEnabled()) stderrLine(format(message, ...args));
  }

  /** oclif's warning, as one redacted line on stderr. */
  override warn(input: Error | string): Error | string {
    if (!this.jsonEnabled()) stderrLine(`Warning: ${typeof input === "string" ? input : input.message}`);
    return input;
  }

  override async catch(err: Error & { suggestions?: string[] }): Promise<void> {
    // A flag or argument that failed to parse counts as parsed: otherwise oclif (outside
    // production, e.g. NODE_ENV=test or development) adds an "[UnparsedCommand] did you
    // forget to call this.parse" warning after the one-line error.
    this.parsed = true;
    // oclif's RequiredArgsError (not exported by @oclif/core 4): its args and its message
    err.message = withoutParsingPrefix(err.message);
    const args = (err as { args?: unknown }).args;
    if (Array.isArray(args) && /^Missing \d+ required args?\b/.test(err.message)) {
      err.message = missingArgsMessage(args, err.message);
    }
    process.exitCode = renderError(
      err,
      this.jsonEnabled() ? (doc) => this.logJson(doc) : undefined,
      this.stopExit,
    );
  }
}

/**
 * oclif puts "Parsing --flag \n\t" before the error a flag's own parse throws ("Parsing
 * --timeout expects a duration..."); the message says it as "--timeout expects a duration...".
 */
export function withoutParsingPrefix(message: string): string {
  const m = /^Parsing (--[\w-]+)\s*\n\t/.exec(message);
  if (!m) return message;
  const rest = message.slice(m[0].length);
  return rest.startsWith(m[1]!) ? rest : `${m[1]} ${rest}`;
}

/**
 * oclif's "Missing 1 required arg:\nrenderId  The render id ..." is a two-column list, which
 * reads as "renderId  The render id" on one line; this says it as a sentence.
 */
export function missingArgsMessage(
  args: { name: string; description?: string }[],
  oclifMessage = "",
): string {
  const named = args.map((a) =>
    a.description
      ? `${a.name}: ${a.description.replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase()).replace(/[.\s]+$/, "")}`
      : a.name,
  );
  const plural = args.length === 1 ? "" : "s";
  // oclif's note on flags that take several values (an argument after them is read as theirs)
  const multiple = /Note: (.+?) allows? multiple values/.exec(oclifMessage)?.[1];
  const order = multiple ? `. Put arguments before ${multiple}, or after "--"` : "";
  return `Missing the required argument${plural} ${named.join("; ")}${order}. See more help with --help`;
}

/**
 * Renders an error as the conventions ask (one line on stderr, or the JSON error document on
 * stdout under --json; the stack only with DEBUG) and returns its exit code. Used by every
 * command and by the hooks that run outside one (an unknown command).
 */
export function renderError(
  thrown: Error & { suggestions?: string[] },
  /** Under --json, how the error document is written (a command's own logJson: NDJSON commands keep it on one line). */
  writeJson?: (doc: JsonErrorDocument) => void,
  /** The exit code of the signal that stopped the command (143 for SIGTERM), for an interruption. */
  stopExit?: number,
): number {
  // Anything that is neither ours nor oclif's is a bug: said so, with how to report it.
  const err: Error & { suggestions?: string[] } =
    thrown instanceof GigaReelsError || isExpectedError(thrown) ? thrown : BugError.from(thrown);
  const code = exitCodeFor(err);
  const exitCode = code === ExitCode.INTERRUPTED && stopExit !== undefined ? stopExit : code;
  const suggestions = Array.isArray(err.suggestions) ? err.suggestions : [];
  if (writeJson) {
    writeJson({
      error: { code: errorCodeFor(err), message: oneLine(err.message || String(err)), exitCode, suggestions },
    });
  } else {
    stderrLine(`Error: ${oneLine(err.message || String(err), suggestions)}`);
  }
  if (process.env.DEBUG && err.stack) stderrLine(err.stack);
  return exitCode;
}
