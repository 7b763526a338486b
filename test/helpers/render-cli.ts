/**
 * For tests of the built render/watch commands: an emulator, a private config folder, a fresh
 * key per test (the render route allows 10 submissions a minute per key) and `cli()`, which runs
 * the CLI with that key in GIGAREELS_API_KEY and `--base-url` pointing at the emulator, and
 * checks that no output shows the key.
 */
import { afterEach, beforeEach } from "vitest";
import { type CliResult, expectNoFullKey, type RunOptions, runCli, useTempConfig } from "./cli.js";
import { type EmulatorOptions, useEmulator } from "./emulator.js";

export function useRenderCli(options: EmulatorOptions = {}) {
  const emulator = useEmulator(options);
  const config = useTempConfig();
  let key = "";
  beforeEach(() => {
    key = emulator().createKey();
  });
  afterEach(() => emulator().clearFaults());
  // The CLI counts the key's budget in the emulator's (shortened) minute.
  const minute = options.rateLimitMinuteMs
    ? { GIGAREELS_RATE_LIMIT_MINUTE_MS: String(options.rateLimitMinuteMs) }
    : {};

  async function cli(args: string[], run: RunOptions = {}): Promise<CliResult> {
    const r = await runCli([...args, "--base-url", emulator().url], {
      timeoutMs: 60_000,
      ...run,
      // NODE_ENV stays vitest's "test": oclif's [UnparsedCommand] warning must not follow a usage error
      env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_API_KEY: key, ...minute, ...run.env },
    });
    expectNoFullKey(r.stdout + r.stderr, key);
    return r;
  }
  return { emulator, config, key: () => key, cli, minuteEnv: minute };
}

/** The NDJSON lines of `--json` output, each parsed. */
export function ndjson(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
