/**
 * The import rules (biome.json's noRestrictedImports overrides) that keep the SDK sealed:
 * src/lib/sdk imports nothing from the CLI kit, commands, account, doctor, api, reports or the
 * emulator; account/, doctor/ and api/ do not import the CLI kit; the emulator imports nothing
 * from the client side. Proved by linting probe files, laid out as in src/, with the project's
 * own biome.json in a scratch folder: each broken rule is an error, the allowed imports pass,
 * and the real tree passes (`npm test` runs `biome check .` as well).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

const BIOME = join(ROOT, "node_modules/@biomejs/biome/bin/biome");
const scratch = mkdtempSync(join(tmpdir(), "gigareels-import-rules-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function lint(cwd: string, files: Record<string, string>): { code: number; out: string } {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(cwd, path)), { recursive: true });
    writeFileSync(join(cwd, path), text);
  }
  const r = spawnSync(
    process.execPath,
    [BIOME, "lint", "--only=style/noRestrictedImports", "--max-diagnostics=100", ...Object.keys(files)],
    {
      cwd,
      encoding: "utf8",
    },
  );
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** A scratch project with the real biome.json (git integration off: the folder is no repository). */
function project(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  const config = JSON.parse(readFileSync(join(ROOT, "biome.json"), "utf8"));
  config.vcs = { enabled: false };
  writeFileSync(join(dir, "biome.json"), JSON.stringify(config));
  return dir;
}

describe("import rules", () => {
  it("each broken rule fails the lint, naming the file (static, re-export and dynamic imports)", () => {
    const broken: Record<string, string> = {
      "src/lib/sdk/p1.ts": 'import { oneLine } from "../cli/output.js";\n\nexport const a = oneLine;\n',
      "src/lib/sdk/poll/p2.ts": 'export { ExitCode } from "../../cli/exit-codes.js";\n',
      "src/lib/sdk/p3.ts": 'export const b = async () => (await import("../account/status.js")).status;\n',
      "src/lib/sdk/p4.ts": 'import { runDoctor } from "../doctor/index.js";\n\nexport const c = runDoctor;\n',
      "src/lib/sdk/p5.ts": 'import { Command } from "@oclif/core";\n\nexport const d = Command;\n',
      "src/index.ts": 'export { renderError } from "./lib/cli/base-command.js";\n',
      "src/lib/doctor/p6.ts":
        'import { exitCodeFor } from "../cli/exit-codes.js";\n\nexport const e = exitCodeFor;\n',
      "src/lib/account/p7.ts": 'import { oneLine } from "../cli/output.js";\n\nexport const f = oneLine;\n',
      "src/lib/api/p8.ts":
        'import { UsageError } from "../cli/usage-error.js";\n\nexport const g = UsageError;\n',
      "src/lib/emulator/p9.ts":
        'import { GigaReels } from "../sdk/client.js";\n\nexport const h = GigaReels;\n',
    };
    const r = lint(project("broken"), broken);
    expect(r.code).not.toBe(0);
    for (const file of Object.keys(broken)) expect(r.out).toContain(file);
    expect(r.out).toMatch(/Found 10 errors/);
    expect(r.out).toContain("The SDK is sealed");
    expect(r.out).toContain("only src/lib/cli maps codes to exit numbers");
    expect(r.out).toContain("The emulator is the server side");
  });

  it("the allowed directions pass: the CLI kit imports the SDK and the reports, the SDK its own parts", () => {
    const r = lint(project("allowed"), {
      "src/lib/cli/q1.ts":
        'import { GigaReels } from "../sdk/client.js";\nimport { status } from "../account/status.js";\n\nexport const a = [GigaReels, status];\n',
      "src/lib/sdk/q2.ts":
        'import { errorCode } from "./errors.js";\nimport { oneLine } from "../text.js";\n\nexport const b = [errorCode, oneLine];\n',
      "src/lib/doctor/q3.ts":
        'import { GigaReels } from "../sdk/client.js";\n\nexport const c = GigaReels;\n',
      "src/lib/emulator/q4.ts":
        'import { createServer } from "node:http";\n\nexport const d = createServer;\n',
    });
    expect(r.out).not.toContain("noRestrictedImports");
    expect(r.code).toBe(0);
  });

  it("the real tree keeps the rules", () => {
    const r = spawnSync(process.execPath, [BIOME, "lint", "--only=style/noRestrictedImports", "src"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(`${r.stdout}${r.stderr}`).not.toContain("noRestrictedImports");
    expect(r.status).toBe(0);
  });
});
