/**
 * The package as a user installs it (issue 14, point 4): `npm pack`, then `npm install <tarball>`
 * into a project outside the repo (install.ts). `require` and `import` both work and share one
 * copy of every class (no dual-package hazard for instanceof); a consumer bundles with esbuild for
 * platform neutral. TypeScript consumers: types.test.ts.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";
import { installedConsumer } from "./install.js";

const emulator = useEmulator({ renderDurationMs: 200 });
const BAD_KEY = `giga_${"x".repeat(28)}dead`;
let app: string;

beforeAll(async () => {
  app = mkdtempSync(join(await installedConsumer(), "pkg-"));
}, 240_000);
afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

const node = (args: string[]) =>
  runCli([], { command: [process.execPath, ...args], cwd: app, timeoutMs: 20_000 });

describe("installed from the tarball", () => {
  it.runIf(process.platform !== "win32")(
    "the installed bin (node_modules/.bin/gigareels, as npx runs it) is the CommonJS bin and runs",
    async () => {
      const bin = join(app, "..", "node_modules/.bin/gigareels");
      expect(realpathSync(bin)).toMatch(/node_modules\/@gigareels\/sdk\/bin\/run\.cjs$/);
      const r = await runCli(["--version"], { command: [bin], cwd: app, timeoutMs: 20_000 });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^gigareels \d+\.\d+\.\d+.*\nnpm, /);
      const help = await runCli(["help", "status"], { command: [bin], cwd: app, timeoutMs: 20_000 });
      expect(help.code, help.stderr).toBe(0);
      expect(help.stdout).toContain("USAGE");
    },
  );

  it("node -e 'require(\"@gigareels/sdk\")' works (a CommonJS entry exists)", async () => {
    const r = await node([
      "-e",
      'const s = require("@gigareels/sdk"); console.log(typeof s.GigaReels, require.resolve("@gigareels/sdk"))',
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^function .*node_modules\/@gigareels\/sdk\/dist\/sdk\/index\.cjs\n$/);
  });

  it("import and require give the same classes: an error from one is instanceof the other's", async () => {
    writeFileSync(
      join(app, "both.mjs"),
      `import * as esm from "@gigareels/sdk";
import { createRequire } from "node:module";
const cjs = createRequire(import.meta.url)("@gigareels/sdk");
const [baseUrl, badKey] = process.argv.slice(2);
let fromCjs;
try { await new cjs.GigaReels({ apiKey: badKey, baseUrl }).me(); } catch (e) { fromCjs = e; }
let fromEsm;
try { await new esm.GigaReels({ apiKey: badKey, baseUrl }).me(); } catch (e) { fromEsm = e; }
console.log(JSON.stringify({
  sameClient: esm.GigaReels === cjs.GigaReels,
  sameRoot: esm.GigaReelsError === cjs.GigaReelsError,
  defaultIsClient: esm.default === esm.GigaReels,
  cjsErrorIsEsmAuth: fromCjs instanceof esm.AuthenticationError && fromCjs instanceof esm.GigaReelsError,
  esmErrorIsCjsAuth: fromEsm instanceof cjs.AuthenticationError && fromEsm instanceof cjs.GigaReelsError,
  resolved: import.meta.resolve("@gigareels/sdk").replace(/^.*node_modules\\//, ""),
}));
`,
    );
    const r = await node(["both.mjs", emulator().url, BAD_KEY]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      sameClient: true,
      sameRoot: true,
      defaultIsClient: true,
      cjsErrorIsEsmAuth: true,
      esmErrorIsCjsAuth: true,
      resolved: "@gigareels/sdk/dist/sdk/index.mjs",
    });
  });
});

describe("bundling a consumer", () => {
  it("esbuild --platform=neutral builds, with no Node built-in left in the output", async () => {
    const entry = join(app, "neutral.mjs");
    writeFileSync(
      entry,
      'import { GigaReels, NotFoundError } from "@gigareels/sdk";\nexport const client = new GigaReels({ apiKey: "giga_0000000000000000000000000000test" });\nexport { NotFoundError };\n',
    );
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: "neutral",
      format: "esm",
      write: false,
      outfile: join(app, "neutral.out.mjs"),
      logLevel: "silent",
      metafile: true,
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]?.text ?? "";
    expect(/\bGigaReels = class\b/.test(code)).toBe(true);
    expect(code.match(/\b(require|import)\(\s*["']node:[\w/]+/g) ?? []).toEqual([]);
    expect(code.match(/from\s*["']node:[\w/]+/g) ?? []).toEqual([]);
    expect(Object.keys(result.metafile?.inputs ?? {}).some((p) => p.endsWith("dist/sdk/portable.mjs"))).toBe(
      true,
    );
  });
});
