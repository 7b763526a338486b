/**
 * Importing the SDK (the compiled dist/index.js, and the package entry `@gigareels/sdk`, the
 * bundle in dist/sdk/) loads neither oclif nor keytar. A child Node records every module it resolves (an ESM resolve hook registered
 * with module.register) and every CommonJS module in require.cache; a positive control
 * imports a CLI module to prove the detector sees oclif when it is there.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";

let dir: string;

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/index.js"))) throw new Error("run `npm run build` before these tests");
  dir = mkdtempSync(join(tmpdir(), "gigareels-imports-"));
  writeFileSync(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function initialize(data) { globalThis.__log = data.log; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(globalThis.__log, r.url + "\\n");
  return r;
}
`,
  );
  writeFileSync(
    join(dir, "register.mjs"),
    `import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)}, { data: { log: process.env.LOAD_LOG } });
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `code` (an ES module) in a child from the package root; returns every module it loaded. */
async function loaded(name: string, code: string): Promise<string[]> {
  const log = join(dir, `${name}.log`);
  writeFileSync(log, "");
  const script = join(ROOT, "test/fixtures", `.imports-${name}-${process.pid}.mjs`);
  writeFileSync(
    script,
    `${code}
import { createRequire } from "node:module";
const cjs = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify(cjs));
`,
  );
  try {
    const r = await runCli([], {
      command: [process.execPath, "--import", pathToFileURL(join(dir, "register.mjs")).href, script],
      env: { LOAD_LOG: log, GIGAREELS_CONFIG_DIR: dir },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const esm = readFileSync(log, "utf8").split("\n").filter(Boolean);
    return [...esm, ...(JSON.parse(r.stdout) as string[])];
  } finally {
    rmSync(script, { force: true });
  }
}

const isOclif = (m: string) => /[\\/]@oclif[\\/]|^@oclif\//.test(m);
const isKeytar = (m: string) => /keytar/.test(m);

describe("the SDK entry", () => {
  it("loads neither @oclif/core nor keytar, even when a client is built and used", async () => {
    // The compiled sources (dist/index.js), where each module is its own file: the credential
    // store stays unloaded until a stored key is needed.
    const mods = await loaded(
      "sdk",
      `import { GigaReels, AuthenticationError } from ${JSON.stringify(pathToFileURL(join(ROOT, "dist/index.js")).href)};
const c = new GigaReels({ apiKey: "giga_" + "a".repeat(32), baseUrl: "http://127.0.0.1:9" });
await c.credentials();
if (typeof AuthenticationError !== "function") throw new Error("no errors exported");`,
    );
    expect(mods.some((m) => m.endsWith("/dist/index.js"))).toBe(true);
    // ky is loaded by the first request, not by the import (its module builds a Request at
    // load time, which makes Node load its fetch); no request was made here.
    expect(mods.some((m) => m.includes("/node_modules/ky/"))).toBe(false);
    // Nor the Node-only parts: downloads, the shared poll budget, the proxy dispatcher.
    expect(
      mods.filter((m) =>
        /\/dist\/lib\/(sdk\/download\/(stream|client)|sdk\/poll\/budget|net\/(dispatcher|tunnel))\.js$/.test(
          m,
        ),
      ),
    ).toEqual([]);
    expect(mods.filter((m) => /^node:(http|https|http2|tls|zlib|worker_threads|vm|v8)$/.test(m))).toEqual([]);
    expect(mods.filter(isOclif)).toEqual([]);
    expect(mods.filter(isKeytar)).toEqual([]);
    // The credential store is only loaded when a stored key is needed (its error classes,
    // exported from the entry, and the key format are leaves without node:* imports).
    expect(
      mods.filter((m) => m.includes("/dist/lib/credentials/") && !/[\\/](key-format|errors)\.js$/.test(m)),
    ).toEqual([]);
  });

  it("the package's own entry (the SDK bundle) loads neither @oclif/core nor keytar", async () => {
    const mods = await loaded(
      "package",
      `import { GigaReels, AuthenticationError } from "@gigareels/sdk";
const c = new GigaReels({ apiKey: "giga_" + "a".repeat(32), baseUrl: "http://127.0.0.1:9" });
await c.credentials();
if (typeof AuthenticationError !== "function") throw new Error("no errors exported");`,
    );
    expect(mods.some((m) => m.endsWith("/dist/sdk/index.mjs"))).toBe(true);
    expect(mods.some((m) => m.endsWith("/dist/sdk/index.cjs"))).toBe(true);
    // ky is inside the bundle; nothing else of ours or of node_modules is loaded.
    expect(mods.filter((m) => m.includes("/node_modules/") || m.includes("/dist/lib/"))).toEqual([]);
    expect(mods.filter(isOclif)).toEqual([]);
    expect(mods.filter(isKeytar)).toEqual([]);
  });

  it("the detector does see oclif when a CLI module is imported (control)", async () => {
    const mods = await loaded("control", `await import("@oclif/core");`);
    expect(mods.filter(isOclif).length).toBeGreaterThan(0);
  });
});
