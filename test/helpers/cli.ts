/**
 * Runs the built `gigareels` (bin/run.cjs, package.json's bin, after `npm run build`) in a subprocess with a clean
 * environment: no inherited GIGAREELS_* variables, a private config folder, no colour.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, expect } from "vitest";

export const ROOT = resolve(import.meta.dirname, "../..");
export const BIN = join(ROOT, "bin/run.cjs");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  /** Called with the child once spawned (e.g. to send SIGINT). */
  onSpawn?: (child: import("node:child_process").ChildProcess) => void;
  /** Command to run instead of `node bin/run.cjs` (e.g. the standalone binary). */
  command?: string[];
}

/** The environment a test process sees: the parent's minus anything that would leak in. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      k.startsWith("GIGAREELS_") ||
      k === "DEBUG" ||
      k === "BROWSER" ||
      k.startsWith("VITEST") ||
      k === "NODE_OPTIONS"
    )
      continue;
    env[k] = v;
  }
  env.NO_COLOR = "1";
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const [cmd, ...pre] = options.command ?? [process.execPath, BIN];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd!, [...pre, ...args], {
      cwd: options.cwd ?? ROOT,
      env: cleanEnv(options.env),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** A fresh private config folder; remove it with the returned cleanup. */
export function tempConfigDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "gigareels-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A fresh private config folder for each test of the file (made in beforeEach, removed in
 * afterEach), with readers for the credentials.json inside it.
 */
export function useTempConfig() {
  let current: { dir: string; cleanup: () => void } | undefined;
  beforeEach(() => {
    current = tempConfigDir();
  });
  afterEach(() => current?.cleanup());
  const credentialsFile = () => join(config.dir, "credentials.json");
  /** The parsed credentials.json, or undefined when there is none. */
  const credentials = () =>
    existsSync(credentialsFile()) ? JSON.parse(readFileSync(credentialsFile(), "utf8")) : undefined;
  const config = {
    get dir(): string {
      if (!current) throw new Error("useTempConfig: only inside a test");
      return current.dir;
    },
    credentialsFile,
    credentials,
    /** One profile's entry in credentials.json. */
    profile: (name = "default") => credentials()?.profiles?.[name],
  };
  return config;
}

/** Fails when any full key appears in the text (masks like giga_****abcd are fine). */
export function expectNoFullKey(text: string, ...keys: string[]): void {
  for (const key of keys) expect(text.includes(key), "a full API key leaked into output").toBe(false);
  expect(text).not.toMatch(/giga_[A-Za-z0-9]{32}/);
}
