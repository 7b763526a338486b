/**
 * Runs the built `gigareels` in a pseudo-terminal (util-linux `script`), typing answers to
 * what it shows: for prompts, spinners and anything that only happens in a terminal.
 */
import { spawn, spawnSync } from "node:child_process";
import { BIN, cleanEnv, ROOT } from "./cli.js";

export const hasScript = spawnSync("script", ["--version"]).status === 0;

export interface TerminalOptions {
  env?: Record<string, string | undefined>;
  /** Terminal width (`stty cols`); the pty `script` makes reports 0 columns otherwise. */
  columns?: number;
  timeoutMs?: number;
}

const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;

/**
 * Runs `gigareels <args>` in a pty; `steps` are [text to wait for, keys to type] pairs.
 * Returns the exit code and everything the terminal showed.
 */
export function inTerminal(
  args: string[],
  steps: Array<[string, string]>,
  options: TerminalOptions = {},
): Promise<{ code: number | null; screen: string }> {
  const run = [process.execPath, BIN, ...args].map(quote).join(" ");
  const command = options.columns ? `stty cols ${options.columns} rows 40; ${run}` : run;
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", command, "/dev/null"], {
      cwd: ROOT,
      env: cleanEnv({ CI: undefined, TERM: "xterm", ...options.env }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    let step = 0;
    let typedAt = 0;
    const onData = (d: Buffer) => {
      screen += d.toString();
      while (step < steps.length && screen.indexOf(steps[step]![0], typedAt) !== -1) {
        typedAt = screen.length;
        child.stdin.write(steps[step]![1]);
        step++;
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}
