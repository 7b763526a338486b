/**
 * docs/sdk.md's examples (issue 14, point 9), each run as written against the emulator with the
 * package installed from its tarball: every `<!-- example: name; expect: /re/ -->` block is
 * written to <name>.mjs in a fresh folder of the consumer project and run with Node, with
 * GIGAREELS_API_KEY and GIGAREELS_BASE_URL set; it must exit 0, print nothing unexpected on
 * stderr and print what its expect comment says. Every public method of the client must appear
 * in some example (the list is read from the shipped declarations).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";
import { installedConsumer } from "./install.js";

const emulator = useEmulator({ renderDurationMs: 200, rateLimits: false });
const DOC = readFileSync(join(ROOT, "docs/sdk.md"), "utf8");
const EXAMPLE = /<!-- example: ([\w-]+); expect: \/(.*)\/(\w*) -->\n```js\n([\s\S]*?)```/g;
const examples = [...DOC.matchAll(EXAMPLE)].map((m) => ({
  name: m[1] as string,
  expect: new RegExp(m[2] as string, m[3]),
  code: m[4] as string,
}));

let consumer: string;
let dirs: string[] = [];
beforeAll(async () => {
  consumer = await installedConsumer();
}, 240_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe("docs/sdk.md", () => {
  it("has examples, each with an expectation", () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
    // Every ```js block outside the Workers section is a checked example.
    const before = DOC.slice(0, DOC.indexOf("## Use it on Workers"));
    expect((before.match(/```js\n/g) ?? []).length).toBe(examples.length);
  });

  it("shows every public method of the client in an example", () => {
    const dts = readFileSync(join(consumer, "node_modules/@gigareels/sdk/dist/lib/sdk/client.d.ts"), "utf8");
    const body = dts.slice(dts.indexOf("export declare class GigaReels"));
    const methods = [...body.matchAll(/^ {4}(?:static )?(?:get )?([a-zA-Z]\w*)\s*[(<:]/gm)]
      .map((m) => m[1] as string)
      .filter((n) => n !== "constructor" && n !== "transport");
    expect(methods.length).toBeGreaterThan(10);
    const code = examples.map((e) => e.code).join("\n");
    const missing = methods.filter((n) => !new RegExp(`\\.${n}\\b`).test(code));
    expect(missing).toEqual([]);
  });

  for (const ex of examples) {
    it(`example "${ex.name}" runs and prints what it says`, async () => {
      const dir = mkdtempSync(join(consumer, `docs-${ex.name}-`));
      dirs.push(dir);
      const config = mkdtempSync(join(tmpdir(), "gigareels-docs-config-"));
      dirs.push(config);
      writeFileSync(join(dir, `${ex.name}.mjs`), ex.code);
      const r = await runCli([], {
        command: [process.execPath, `${ex.name}.mjs`],
        cwd: dir,
        env: {
          GIGAREELS_API_KEY: emulator().keys[0],
          GIGAREELS_BASE_URL: emulator().url,
          GIGAREELS_CONFIG_DIR: config,
          GIGAREELS_CREDENTIAL_STORE: "file",
        },
        timeoutMs: 60_000,
      });
      expect(r.stderr.replace(/^(queued|rendering|done)\n/gm, "")).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(ex.expect);
    }, 65_000);
  }
});
