/**
 * `gigareels statsu`: an unknown command, said in our own one line.
 *
 * - In a terminal where we may ask, with a command close enough to be meant: the line, then
 *   "Did you mean "gigareels status"? (Y/n)"; yes runs it with the same arguments, no is a
 *   choice, not a failure: a one-line note, exit 0 (as declining any of our prompts).
 * - Elsewhere (CI, pipes, --json), or with nothing close: a usage error (exit 2) naming the
 *   closest command, not oclif's " ›   Warning:" and exit 127, which is outside our table.
 */
import type { Hook } from "@oclif/core";
import { renderError } from "../base-command.js";
import { AbortedError } from "../../sdk/errors.js";
import { canPrompt, jsonText, stderrLine, writeOut } from "../output.js";
import { UsageError } from "../usage-error.js";

/** Edit distance between two short strings (command ids). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The command closest to what was typed, when it is close enough to be a typo. */
export function closestCommand(typed: string, commands: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of commands) {
    const d = editDistance(typed, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(typed.length / 3))) return best;
  // Else a command followed by words it does not take ("whoami extra" -> "whoami").
  return commands.filter((c) => typed.startsWith(`${c} `)).sort((x, y) => y.length - x.length)[0];
}

const hook: Hook<"command_not_found"> = async function (opts) {
  const json = opts.argv?.includes("--json") ?? false;
  const config = opts.config;
  const sep = config.topicSeparator;
  const visible = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  const typed = opts.id.replaceAll(":", sep);
  const suggestion = closestCommand(
    typed,
    visible.map((id) => id.replaceAll(":", sep)),
  );
  const notOurs = `"${typed}" is not a ${config.bin} command.`;
  const help = `Run ${config.bin} --help for the list of commands.`;
  if (suggestion && canPrompt({ json })) {
    stderrLine(notOurs);
    let run: boolean;
    try {
      const { confirm } = await import("@inquirer/prompts");
      run = await confirm(
        { message: `Did you mean "${config.bin} ${suggestion}"?`, default: true },
        { output: process.stderr, clearPromptOnDone: false },
      );
    } catch (err) {
      const name = (err as Error)?.name;
      if (name !== "ExitPromptError" && name !== "AbortPromptError") throw err;
      this.exit(renderError(new AbortedError("Interrupted: no command was run")));
      return;
    }
    if (!run) {
      stderrLine(`Not run. ${help}`);
      this.exit(0);
      return;
    }
    // The words after the suggested command are its arguments ("whoami extra" -> whoami ["extra"]).
    const id = suggestion.replaceAll(sep, ":");
    const argv = opts.argv?.length ? opts.argv : opts.id.split(":").slice(id.split(":").length);
    return config.runCommand(id, argv);
  }
  const hint = suggestion ? ` Did you mean "${config.bin} ${suggestion}"?` : "";
  const error = new UsageError(`${notOurs}${hint}`, [help]);
  this.exit(renderError(error, json ? (doc) => writeOut(`${jsonText(doc, 2)}\n`, "raw") : undefined));
};

export default hook;
