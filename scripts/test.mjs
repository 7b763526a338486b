#!/usr/bin/env node
// `npm test`: build (so end-to-end tests run the real bin), type-check, lint, then vitest
// with a JSON report, ending with one line "N passed, N failed".
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const node = process.execPath;
const bin = (p) => join(root, "node_modules", p);
const step = (name, args) => {
  process.stderr.write(`\n== ${name}\n`);
  const r = spawnSync(node, args, { cwd: root, stdio: "inherit" });
  return r.status ?? 1;
};

let failedSteps = 0;
if (step("build", [join(root, "scripts/build.mjs")]) !== 0) {
  console.log("0 passed, 1 failed");
  process.exit(1);
}
failedSteps += step("typecheck", [bin("typescript/bin/tsc"), "-p", "tsconfig.test.json"]) === 0 ? 0 : 1;
failedSteps += step("lint", [bin("@biomejs/biome/bin/biome"), "check", "."]) === 0 ? 0 : 1;

const report = join(root, ".vitest-report.json");
rmSync(report, { force: true });
const extra = process.argv.slice(2);
const vitestStatus = step("vitest", [
  bin("vitest/vitest.mjs"),
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${report}`,
  ...extra,
]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, "utf8"));
  passed = r.numPassedTests ?? 0;
  // Failed tests, plus files that failed without a failed test (an import or set-up error).
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
  failed = (r.numFailedTests ?? 0) + brokenFiles;
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
} else {
  failed = 1;
}
if (failedSteps > 0) process.stderr.write(`${failedSteps} check step(s) failed (typecheck/lint)\n`);
const total = failed + failedSteps;
console.log(`${passed} passed, ${total} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(vitestStatus !== 0 || total > 0 || passed === 0 ? 1 : 0);
