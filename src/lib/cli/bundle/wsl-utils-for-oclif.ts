/**
 * What the CLI bundle gives @oclif/core in place of wsl-utils (scripts/bundle.mjs aliases it for
 * oclif's imports only). oclif's util/os.js imports wsl-utils when it loads the config, for
 * `isWsl`, and for `powerShellPath` when it looks for a Windows shell; wsl-utils imports
 * node:child_process when it loads, which costs Node 20 about 6 ms of every start-up. `isWsl` is
 * is-wsl's answer, exactly what wsl-utils exports; the rest is wsl-utils itself, loaded on use.
 */
import isWslNow from "is-wsl";

export const isWsl: boolean = isWslNow;

export async function powerShellPath(): Promise<string> {
  return (await import("wsl-utils")).powerShellPath();
}
