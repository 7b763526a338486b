/**
 * The environment the SDK reads (GIGAREELS_*, DEBUG, the proxy variables) when none is given:
 * process.env where there is a `process` (Node, Bun, Deno), else nothing (Workers, edge
 * runtimes and browsers have no process; their code passes options instead).
 */
export type Env = Record<string, string | undefined>;

export function processEnv(): Env {
  const p = (globalThis as { process?: { env?: Env } }).process;
  return p?.env ?? {};
}
