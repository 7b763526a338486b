/**
 * `gigareels statsu`: an unknown command is a usage error (exit 2), as in the exit-code table.
 *
 * In a terminal where we may ask, @oclif/plugin-not-found's hook runs as it is ("Did you mean
 * status? (Y/n)", then runs it). Elsewhere (CI, pipes, --json) it would print two lines and
 * exit 127, outside our table; this says it in one line with the closest command, exit 2.
 */
import type { Hook } from "@oclif/core";
import { renderError } from "../base-command.js";
import { canPrompt, jsonText, writeOut } from "../output.js";
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
  if (canPrompt({ json })) {
    const { default: pluginHook } = await import("@oclif/plugin-not-found");
    return pluginHook.call(this, opts);
  }
  const config = opts.config;
  const sep = config.topicSeparator;
  const visible = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  const typed = opts.id.replaceAll(":", sep);
  const suggestion = closestCommand(
    typed,
    visible.map((id) => id.replaceAll(":", sep)),
  );
  const hint = suggestion ? ` Did you mean "${config.bin} ${suggestion}"?` : "";
  const error = new UsageError(`"${typed}" is not a ${config.bin} command.${hint}`, [
    `Run ${config.bin} --help for the list of commands.`,
  ]);
  this.exit(renderError(error, json ? (doc) => writeOut(`${jsonText(doc, 2)}\n`, "raw") : undefined));
};

export default hook;
