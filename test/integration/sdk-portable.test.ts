/**
 * The portable core (issue 14, point 4): src/index.ts bundles with esbuild for platform
 * neutral and browser; with code splitting, the entry's static module graph loads no node:*
 * module (and not ky: it is loaded on the first request), the Node-only parts sit behind
 * dynamic imports; and the bundle runs with web APIs only (`process` deleted, as on Workers)
 * against the emulator over real HTTP: create with an Idempotency-Key, follow to done, me,
 * a 404 and a 401 as their classes, and one clear error for each Node-only part.
 */
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator({ renderDurationMs: 300 });
const out = mkdtempSync(join(tmpdir(), "gigareels-portable-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function bundle(platform: "neutral" | "browser", dir: string) {
  return build({
    entryPoints: [join(ROOT, "src/index.ts")],
    bundle: true,
    splitting: true,
    format: "esm",
    platform,
    outdir: dir,
    // Node-only parts stay behind dynamic imports; a runtime without them never loads these.
    external: ["node:*", "undici", "keytar"],
    mainFields: ["module", "main"],
    logLevel: "silent",
    metafile: true,
  });
}

/** Every module the entry loads statically (chunks it imports, transitively), and what else it imports. */
function staticGraph(dir: string): { files: string[]; external: string[] } {
  const files = new Set<string>();
  const external = new Set<string>();
  const queue = ["index.js"];
  while (queue.length) {
    const f = queue.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    const text = readFileSync(join(dir, f), "utf8");
    for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|^import\s*"([^"]+)"/gms)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith("./")) queue.push(spec.slice(2));
      else external.add(spec);
    }
  }
  return { files: [...files], external: [...external] };
}

describe("the portable core", () => {
  it.each(["neutral", "browser"] as const)(
    "bundles for platform %s; the entry loads no node:* module",
    async (platform) => {
      const dir = join(out, platform);
      const result = await bundle(platform, dir);
      expect(result.errors).toEqual([]);
      const graph = staticGraph(dir);
      expect(graph.files.length).toBeGreaterThan(1);
      expect(graph.external).toEqual([]);
      // ...and the Node-only parts are there, behind dynamic imports
      const inputs = Object.keys(result.metafile.inputs);
      for (const part of [
        "src/lib/credentials/index.ts",
        "src/lib/sdk/download/stream.ts",
        "src/lib/sdk/poll/budget.ts",
      ])
        expect(inputs).toContain(part);
    },
  );

  it("runs with web APIs only (no process): create, wait, me, 404, 401; Node-only parts fail clearly", async () => {
    const dir = join(out, "smoke");
    await bundle("neutral", dir);
    const emu = emulator();
    const r = await runCli([], {
      command: [
        process.execPath,
        join(ROOT, "test/fixtures/portable/smoke.mjs"),
        pathToFileURL(join(dir, "index.js")).href,
        JSON.stringify({ url: emu.url, key: emu.keys[0], unknownKey: `giga_${"0".repeat(28)}zzzz` }),
      ],
      env: { GIGAREELS_API_KEY: undefined },
      timeoutMs: 30_000,
    });
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^created \S+ portable-smoke-1$/);
    expect(lines.slice(1)).toEqual([
      "text uuid",
      "done done",
      "me string",
      "404 true true",
      "401 true true false",
      "malformed true true true",
      "missing true missing_api_key true",
      "download true true download() (it writes a file) needs Node.js, Bun or Deno (this runtime has no file system); read outputFile from getTaskStatus() and fetch it yourself",
      "shareBudget true",
      "isLoggedIn false",
      "keySource null",
    ]);
    expect(r.code).toBe(0);
    // the render went out with the caller's Idempotency-Key
    const id = lines[0]!.split(" ")[1];
    expect(emu.renders().find((x) => x.id === id)).toBeTruthy();
  });
});
