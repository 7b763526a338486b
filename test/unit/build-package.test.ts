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
      "bin/run.js",
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

  it("the bundle has no import() left: a single executable and vm.Script have no loader for it", () => {
    const code = readFileSync(join(ROOT, "dist/bundle/cli.cjs"), "utf8");
    expect(code.match(/(?<![\w$."'`])import\(/g) ?? []).toEqual([]);
  });
});
