/**
 * Helpers for tests of the credential store against a real OS keychain (Secret Service)
 * and in subprocesses running the compiled store (dist/, built by `npm run build`).
 *
 * GIGAREELS_TEST_KEYRING=1 (set by .ci/run inside `dbus-run-session` with gnome-keyring)
 * makes the keychain tests run, and fail when the keyring is not usable; without it they
 * are skipped with a message. Keys are handed to subprocesses through the environment or
 * stdin, never argv.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe } from "vitest";
import { ROOT } from "./cli.js";

export const KEYRING_WANTED = process.env.GIGAREELS_TEST_KEYRING === "1";
export const DIST_CREDENTIALS = join(ROOT, "dist/lib/credentials/index.js");

/** CI is set (as cli-conventions reads it): tests that need keytar never skip there. */
export const IN_CI = ((ci) => ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false")(
  process.env.CI,
);

let keytarProblem: string | null | undefined;
/**
 * Why keytar cannot load here (`node -e "require('keytar')"` from the repo fails: not built
 * because libsecret-1-dev or a toolchain was missing, or npm did not run its install script),
 * or null when it loads. Asked once per test file.
 */
export function keytarLoadProblem(): string | null {
  if (keytarProblem === undefined) {
    const r = spawnSync(process.execPath, ["-e", "require('keytar')"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 10_000,
    });
    const firstError = (r.stderr ?? "")
      .split("\n")
      .find((l) => /Error/.test(l))
      ?.trim();
    keytarProblem = r.status === 0 ? null : (firstError ?? `exit ${r.status}`);
  }
  return keytarProblem;
}

/**
 * True when a test that needs keytar is to be skipped: keytar cannot load and this is not CI
 * (says so once, with the fix). In CI it is false, so the test runs and fails, as it must.
 */
export function skipWithoutKeytar(what: string): boolean {
  const problem = keytarLoadProblem();
  if (problem === null || IN_CI) return false;
  console.warn(
    `[skipped] ${what}: keytar cannot be loaded here (${problem}). Install what it needs (Linux: libsecret-1-dev and a build toolchain; see the README, "Install"), then npm rebuild keytar. In CI (CI=true) these tests run and fail instead.`,
  );
  return true;
}

/**
 * `describe` when GIGAREELS_TEST_KEYRING=1 (.ci/run sets it), else `describe.skip` with a
 * message saying how to run it. With it set but keytar unable to load: skipped outside CI
 * (saying why), run (and failing) in CI.
 */
export function describeKeyring(name: string, fn: () => void): void {
  if (KEYRING_WANTED) {
    if (skipWithoutKeytar(name)) describe.skip(name, fn);
    else describe(name, fn);
    return;
  }
  console.warn(
    `[skipped] ${name}: set GIGAREELS_TEST_KEYRING=1 inside a D-Bus session with an unlocked gnome-keyring (see .ci/run) to run the keychain tests.`,
  );
  describe.skip(name, fn);
}

/** A profile name no other test (or parallel run) uses. */
export function uniqueProfile(prefix = "t"): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A random well-formed key (never printed by the tests). */
export function randomKey(): string {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let s = "giga_";
  for (let i = 0; i < 32; i++) s += abc[Math.floor(Math.random() * abc.length)];
  return s;
}

/** Looks the item up from outside our code: `secret-tool lookup service gigareels account <profile>`. */
export function secretToolLookup(profile: string): string | null {
  const r = spawnSync("secret-tool", ["lookup", "service", "gigareels", "account", profile], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (r.error) throw new Error(`secret-tool could not run: ${r.error.message}`);
  return r.status === 0 && r.stdout !== "" ? r.stdout : null;
}

/** Removes the item from outside our code (cleanup). */
export function secretToolClear(profile: string): void {
  spawnSync("secret-tool", ["clear", "service", "gigareels", "account", profile], { timeout: 10_000 });
}

/** Throws a clear error unless the Secret Service answers (store, read back, clear a probe item). */
export function assertKeyringUsable(): void {
  const probe = uniqueProfile("probe");
  const w = spawnSync(
    "secret-tool",
    ["store", "--label=gigareels probe", "service", "gigareels", "account", probe],
    {
      input: "probe-value",
      encoding: "utf8",
      timeout: 10_000,
    },
  );
  const ok = w.status === 0 && secretToolLookup(probe) === "probe-value";
  secretToolClear(probe);
  if (!ok) {
    throw new Error(
      `GIGAREELS_TEST_KEYRING=1 but the Secret Service is not usable (secret-tool store exited ${w.status}: ${String(w.stderr ?? w.error?.message).trim()}). Run inside dbus-run-session with gnome-keyring started and unlocked (see .ci/run).`,
    );
  }
  const k = spawnSync(process.execPath, ["-e", "require('keytar')"], { cwd: ROOT, timeout: 10_000 });
  if (k.status !== 0) {
    throw new Error(
      "GIGAREELS_TEST_KEYRING=1 but keytar cannot be loaded (node -e \"require('keytar')\" fails).",
    );
  }
}

export function assertBuilt(): void {
  if (!existsSync(DIST_CREDENTIALS)) {
    throw new Error(`${DIST_CREDENTIALS} is missing: run \`npm run build\` first (npm test does).`);
  }
}

/** The environment without any way to reach a D-Bus session (so no Secret Service). */
export function envWithoutDbus(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("GIGAREELS_") || k.startsWith("VITEST") || k === "NODE_OPTIONS") continue;
    if (["DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR"].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface StoreOpResult {
  code: number | null;
  /** The JSON the operation printed on stdout (its return value), or null. */
  result: unknown;
  stdout: string;
  stderr: string;
}

/**
 * Runs one credential-store call in a fresh node process against the compiled dist/ module.
 * `call` is a JS expression using `c` (the module) and `key` (from env GR_TEST_KEY), e.g.
 * `c.saveCredentials({ profile: "p", key, baseUrl: "https://x" })`. Warnings go to stderr
 * (one line each, as the CLI prints them); the result is printed as JSON on stdout.
 * With `waitFor`, the process waits until that file exists before calling (a start barrier).
 */
export function runStoreOp(
  call: string,
  env: NodeJS.ProcessEnv,
  options: { waitFor?: string; onReady?: () => void; timeoutMs?: number } = {},
): Promise<StoreOpResult> {
  const script = `
    import { existsSync } from "node:fs";
    const c = await import(process.env.GR_TEST_MODULE);
    const key = process.env.GR_TEST_KEY;
    const waitFor = process.env.GR_TEST_WAIT_FOR;
    if (waitFor) {
      process.stdout.write("ready\\n");
      while (!existsSync(waitFor)) await new Promise((r) => setTimeout(r, 2));
    }
    const o = { onWarning: (m) => process.stderr.write("warning: " + m + "\\n") };
    try {
      const r = await (${call});
      process.stdout.write("RESULT " + JSON.stringify(r ?? null) + "\\n");
    } catch (e) {
      process.stderr.write("error " + (e.code ?? "") + ": " + e.message + "\\n");
      process.exitCode = 3;
    }
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      env: {
        ...env,
        GR_TEST_MODULE: DIST_CREDENTIALS,
        ...(options.waitFor ? { GR_TEST_WAIT_FOR: options.waitFor } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let readySent = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (!readySent && stdout.includes("ready\n")) {
        readySent = true;
        options.onReady?.();
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      resolve({ code, result: line ? JSON.parse(line.slice(7)) : null, stdout, stderr });
    });
  });
}
