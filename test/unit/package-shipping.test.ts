/**
 * What the npm tarball ships (issue 18): the MIT LICENSE that package.json names, no
 * `sourceMappingURL` comment pointing at a map it does not ship, no V8 code cache made for one
 * exact Node version (the bin makes a per-user cache keyed by the running Node instead), and a
 * `prepack` that builds, so `npm pack`/`npm publish` on a fresh clone ship code.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

const pjson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  license: string;
  scripts: Record<string, string>;
  repository?: { url?: string };
};

describe("npm package (shipping)", () => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const files = (JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path);

  it("ships the LICENSE, MIT as package.json says", () => {
    expect(files).toContain("LICENSE");
    expect(pjson.license).toBe("MIT");
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License\n/);
  });

  it("has no sourceMappingURL comment for a map it does not ship", () => {
    const shipped = new Set(files);
    const dangling = files
      .filter((f) => /\.(c|m)?js$/.test(f))
      .flatMap((f) => {
        const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(ROOT, f), "utf8"));
        if (!m || m[1]!.startsWith("data:")) return [];
        const map = join(f, "..", m[1]!);
        return shipped.has(map) ? [] : [`${f} -> ${map}`];
      });
    expect(dangling).toEqual([]);
  });

  it("ships no V8 code cache (it would fit one exact Node version only)", () => {
    expect(files.filter((f) => f.endsWith(".v8cache"))).toEqual([]);
  });

  it("prepack builds; publishing carries provenance and names the repository it is built from", () => {
    expect(pjson.scripts.prepack).toBe("npm run build");
    expect(pjson.repository?.url).toMatch(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/);
  });

  it("npm run test:unit runs the unit tests only (it ran the whole suite); npm test runs everything", () => {
    expect(pjson.scripts["test:unit"]).toBe("vitest run test/unit");
    expect(pjson.scripts.test).toBe("node scripts/test.mjs");
  });
});
