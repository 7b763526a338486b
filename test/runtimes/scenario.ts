/**
 * The scenario every runtime runs (fixtures/scenario.mjs) and what it must report; shared by
 * matrix.test.ts (Node, Bun, Deno) and web.test.ts (workerd, edge runtime).
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, expect } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";
import { installedConsumer } from "./install.js";

const FIXTURES = join(ROOT, "test/runtimes/fixtures");
/** Well-formed, never issued: the emulator answers 401. */
const BAD_KEY = `giga_${"x".repeat(28)}dead`;
export const INSTALL_TIMEOUT = 240_000;
export const RUN_TIMEOUT = 60_000;

/**
 * Starts an emulator and, before the file's tests, puts the fixtures into a fresh folder of the
 * installed consumer project, so "@gigareels/sdk" is the package from the tarball.
 */
export function useScenario() {
  // Many renders from one key within a minute: counted, never refused (no 429 waits).
  const emulator = useEmulator({ renderDurationMs: 200, rateLimits: false });
  let app: string | undefined;
  let configDir: string | undefined;
  beforeAll(async () => {
    app = mkdtempSync(join(await installedConsumer(), "app-"));
    cpSync(FIXTURES, app, { recursive: true });
    configDir = mkdtempSync(join(tmpdir(), "gigareels-runtimes-config-"));
  }, INSTALL_TIMEOUT);
  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });
  const appDir = () => {
    if (!app) throw new Error("useScenario: only inside a test");
    return app;
  };
  /** The emulator's URL, a valid key and a never-issued one: the scripts' arguments. */
  const args = () => [emulator().url, emulator().keys[0] as string, BAD_KEY];

  /** Runs a command in the app folder; returns the JSON line it printed last. */
  async function run(command: string[]): Promise<Record<string, unknown>> {
    const r = await runCli([], {
      command,
      cwd: appDir(),
      // A Node-based runtime's poll budget file goes to a throwaway folder, not the home.
      env: { GIGAREELS_CONFIG_DIR: configDir, DENO_DIR: join(ROOT, ".cache/runtimes/deno-dir") },
      timeoutMs: RUN_TIMEOUT,
    });
    const line = r.stdout.trim().split("\n").at(-1) ?? "";
    if (r.code !== 0 || !line.startsWith("{")) {
      throw new Error(`${command.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    }
    return JSON.parse(line) as Record<string, unknown>;
  }

  /** Bundles a fixture for a runtime without Node's built-ins (what wrangler / Vercel do). */
  async function bundle(entry: string, format: "esm" | "iife", conditions: string[]): Promise<string> {
    const outfile = join(appDir(), `${entry}.bundle.js`);
    await build({
      entryPoints: [join(appDir(), entry)],
      bundle: true,
      platform: "neutral",
      format,
      conditions,
      mainFields: ["module", "main"],
      target: "es2022",
      outfile,
      logLevel: "silent",
    });
    return outfile;
  }

  /** What every runtime must report. */
  function expectScenario(result: Record<string, unknown>, loader: "import" | "require"): void {
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({
      loader,
      sameRenderForSameKey: true,
      idempotencyKeySent: true,
      finalStatus: "done",
      meEmail: expect.stringContaining("@"),
      unauthorized: {
        thrown: true,
        name: "AuthenticationError",
        status: 401,
        gigaReelsError: true,
        authenticationError: true,
        notFoundError: false,
      },
      notFound: {
        thrown: true,
        name: "NotFoundError",
        status: 404,
        gigaReelsError: true,
        authenticationError: false,
        notFoundError: true,
      },
    });
    expect(result.renderId).toMatch(/\S/);
    expect((result.unauthorized as { message: string }).message).toMatch(/\b401\b/);
    expect((result.notFound as { message: string }).message).toMatch(/\b404\b/);
    // The emulator saw the renders from this runtime (real HTTP, not a stub).
    expect(emulator().requests.some((r) => r.path === `/api/render/status/${result.renderId}`)).toBe(true);
  }

  return { args, run, bundle, expectScenario };
}
