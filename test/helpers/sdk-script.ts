/**
 * Runs a script against the built SDK (dist/index.js, as `sdk`) in a fresh node process, as
 * an SDK user's program runs: the environment is the parent's minus GIGAREELS_* and proxy
 * variables, plus `env` (undefined removes a variable). The script prints what it wants
 * checked on stdout.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./cli.js";

const PROXY_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

export function runSdkScript(
  script: string,
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(e))
    if (k.startsWith("GIGAREELS_") || k.startsWith("VITEST") || PROXY_VARS.includes(k)) delete e[k];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  const code = `const sdk = await import(${JSON.stringify(join(ROOT, "dist/index.js"))});\n${script}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", code], { cwd: ROOT, env: e });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c, stdout, stderr }));
  });
}
