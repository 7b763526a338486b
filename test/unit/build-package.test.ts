/**
 * What `npm pack` ships (after `npm run build`): the manifest oclif and the bin read, the bin and
 * its bundle, the SDK entry; not the binary build's folders or the sources.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

describe("npm package contents", () => {
  it("contains oclif.manifest.json, the bin, its bundle and the SDK entry", () => {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const [pack] = JSON.parse(out) as [{ files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    for (const f of [
      "oclif.manifest.json",
      "bin/run.cjs",
      "bin/run.js",
      "dist/bundle/launch.cjs",
      "dist/bundle/cli.cjs",
      "dist/bundle/loader.cjs",
      "dist/index.js",
      "package.json",
    ]) {
      expect(files).toContain(f);
    }
    expect(
      files.filter((f) => f.startsWith("build/") || f.startsWith("src/") || f.startsWith("scripts/")),
    ).toEqual([]);
  });

  it("package.json's bin is the CommonJS bin (no ES module loader at start-up)", () => {
    const pjson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    expect(pjson.bin).toEqual({ gigareels: "bin/run.cjs" });
  });

  it("the bundles have no import() left: a single executable and vm.Script have no loader for it", () => {
    for (const f of ["dist/bundle/cli.cjs", "dist/bundle/launch.cjs"]) {
      const code = readFileSync(join(ROOT, f), "utf8");
      expect(code.match(/(?<![\w$."'`])import\(/g) ?? [], f).toEqual([]);
    }
  });

  it("the CLI bundle is its hash line and the module wrapped as a function expression, compiled as it is", () => {
    const code = readFileSync(join(ROOT, "dist/bundle/cli.cjs"), "latin1");
    expect(code).toMatch(
      /^\/\/ gigareels-bundle [0-9a-f]{20}\n\(function \(exports, require, module, __filename, __dirname\) \{/,
    );
    expect(code.endsWith("\n})")).toBe(true);
  });

  it("the bundles are ASCII (one other character makes Node decode the whole file as UTF-8)", () => {
    for (const f of ["dist/bundle/cli.cjs", "dist/bundle/launch.cjs"]) {
      expect(/[^\x00-\x7f]/.test(readFileSync(join(ROOT, f), "latin1")), f).toBe(false);
    }
  });

  it("the first stage requires only Node's built-ins, and not node:child_process, which is slow to load", () => {
    const code = readFileSync(join(ROOT, "dist/bundle/launch.cjs"), "utf8");
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((r) => !r.startsWith("node:"))).toEqual([]);
    expect(required).not.toContain("node:child_process");
  });
});
