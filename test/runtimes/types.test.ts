/**
 * TypeScript consumers of the installed package (issue 14, points 4 and 5): tsc --strict for
 * module nodenext (an ES module, a CommonJS module, `import = require`), bundler and commonjs,
 * with no @types/node (`types: []`, outside the repo, so none is found) and skipLibCheck off, so
 * every declaration the package ships is checked. Web APIs come from lib.dom.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";
import { installedConsumer } from "./install.js";

let app: string;

beforeAll(async () => {
  app = mkdtempSync(join(await installedConsumer(), "types-"));
}, 240_000);
afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

/** A typed consumer: every portable call, the error classes, a few type assertions. */
const consumerTs = (importLine: string) => `${importLine}

async function main(): Promise<void> {
  const client = new GigaReels({ apiKey: "giga_0000000000000000000000000000test", baseUrl: "http://127.0.0.1:1" });
  const created = await client.renderText(
    { videoUrl: "https://example.com/a.mp4", textOverlays: [{ text: "Hi", position: { x: 1, y: 2 } }] },
    { idempotencyKey: "k-1" },
  );
  const id: string = created.renderId;
  const edu = await client.templates.brainrot.educational({
    prompt: "Explain black holes",
    characterPack: "rick-and-morty",
    backgroundVideoPack: "minecraft-parkour",
  });
  const split = await client.renderSplit({ videoUrl: "https://example.com/a.mp4", position: "left" });
  const done = await client.waitForRender(id, { timeoutMs: 60_000, signal: AbortSignal.timeout(1000) });
  const status: string = done.status;
  const task = await client.getTaskStatus(edu.renderId);
  const me = await client.me();
  const email: string = me.email;
  try {
    await client.getRenderStatus(split.renderId);
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof AuthenticationError) {
      const s: number = err.status;
      console.log(s);
    } else if (err instanceof GigaReelsError) {
      console.log(err.message);
    }
  }
  console.log(status, task.status, email);
}
void main();
`;

const TS_CASES = [
  {
    name: "nodenext, an ES module (.mts)",
    file: "index.mts",
    options: { module: "nodenext", moduleResolution: "nodenext" },
    importLine:
      'import { AuthenticationError, GigaReels, GigaReelsError, NotFoundError } from "@gigareels/sdk";',
  },
  {
    name: "nodenext, a CommonJS module (.cts, compiled to require)",
    file: "index.cts",
    options: { module: "nodenext", moduleResolution: "nodenext" },
    importLine:
      'import { AuthenticationError, GigaReels, GigaReelsError, NotFoundError } from "@gigareels/sdk";',
  },
  {
    name: "nodenext, CommonJS with import = require",
    file: "require.cts",
    options: { module: "nodenext", moduleResolution: "nodenext" },
    importLine:
      'import sdk = require("@gigareels/sdk");\nconst { AuthenticationError, GigaReels, GigaReelsError, NotFoundError } = sdk;',
  },
  {
    name: "bundler",
    file: "index.ts",
    options: { module: "esnext", moduleResolution: "bundler" },
    importLine:
      'import { AuthenticationError, GigaReels, GigaReelsError, NotFoundError } from "@gigareels/sdk";',
  },
  {
    name: "commonjs",
    file: "index.ts",
    options: { module: "commonjs", moduleResolution: "node10" },
    importLine:
      'import { AuthenticationError, GigaReels, GigaReelsError, NotFoundError } from "@gigareels/sdk";',
  },
];

describe("TypeScript consumers (tsc --strict, no @types/node, skipLibCheck off)", () => {
  for (const c of TS_CASES) {
    it(c.name, async () => {
      const dir = mkdtempSync(join(app, "ts-"));
      writeFileSync(join(dir, c.file), consumerTs(c.importLine));
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            ...c.options,
            target: "es2022",
            // Web APIs (fetch, AbortSignal) come from lib.dom, as for a Worker or browser app.
            lib: ["es2022", "dom"],
            types: [],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            ...(c.options.module === "commonjs" ? { ignoreDeprecations: "5.0" } : {}),
          },
          files: [c.file],
        }),
      );
      const r = await runCli([], {
        command: [process.execPath, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"],
        cwd: dir,
        timeoutMs: 60_000,
      });
      expect(r.stdout + r.stderr).toBe("");
      expect(r.code).toBe(0);
    }, 70_000);
  }

  it("a type error in the consumer is reported (the check is real)", async () => {
    const dir = mkdtempSync(join(app, "ts-"));
    writeFileSync(
      join(dir, "bad.ts"),
      'import { GigaReels } from "@gigareels/sdk";\nconst n: number = new GigaReels({ apiKey: "x" }).templates;\nconsole.log(n);\n',
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
          types: [],
          lib: ["es2022", "dom"],
        },
        files: ["bad.ts"],
      }),
    );
    const r = await runCli([], {
      command: [process.execPath, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"],
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(r.stdout).toContain("bad.ts(2,7): error TS2322");
    expect(r.code).not.toBe(0);
  }, 70_000);
});
