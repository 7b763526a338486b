#!/usr/bin/env node
// What the update notifier costs at start-up (issue 18), where it is active: in a terminal.
// Runs `gigareels --version` and `gigareels status --offline` from the npm bin in a pseudo-terminal
// (util-linux `script`), interleaved, with the notifier on (a fresh state file: it reads the file
// and decides; no background check is due) and off (GIGAREELS_NO_UPDATE_NOTIFIER=1), and prints
// the medians and their ratio. The pty's own cost is in both.
//
//   npm run build && node bench/startup/notifier.mjs [--runs 30]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const i = process.argv.indexOf("--runs");
const runs = i > 0 ? Number(process.argv[i + 1]) : 30;
const bin = join(root, "bin/run.js");
const config = mkdtempSync(join(tmpdir(), "gigareels-bench-notifier-"));
const env = (on) => {
  const e = {
    ...process.env,
    GIGAREELS_CONFIG_DIR: config,
    GIGAREELS_API_KEY: `giga_${"0".repeat(28)}test`,
    TERM: "xterm",
  };
  for (const k of ["CI", "GITHUB_ACTIONS", "BUILD_NUMBER", "RUN_ID", "CONTINUOUS_INTEGRATION", "TF_BUILD"])
    delete e[k];
  if (!on) e.GIGAREELS_NO_UPDATE_NOTIFIER = "1";
  return e;
};
const time = (args, on) => {
  // Fresh state with no newer release: the notifier reads it and prints nothing.
  writeFileSync(
    join(config, "update-check.json"),
    JSON.stringify({ checkedAt: Date.now(), latest: "0.0.1" }),
  );
  const cmd = [process.execPath, bin, ...args].map((a) => `'${a}'`).join(" ");
  const t = process.hrtime.bigint();
  const r = spawnSync("script", ["-qefc", cmd, "/dev/null"], { env: env(on), stdio: "ignore" });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.error) throw r.error;
  return ms;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
try {
  for (const args of [["--version"], ["status", "--offline"]]) {
    const on = [];
    const off = [];
    for (let r = 0; r < 3; r++) time(args, r % 2 === 0);
    for (let r = 0; r < runs; r++) {
      on.push(time(args, true));
      off.push(time(args, false));
    }
    const mOn = median(on);
    const mOff = median(off);
    console.log(
      `${args.join(" ").padEnd(18)} notifier on ${mOn.toFixed(1)} ms, off ${mOff.toFixed(1)} ms, ratio ${(mOn / mOff).toFixed(3)} (${runs} runs each, medians, in a pty)`,
    );
  }
} finally {
  rmSync(config, { recursive: true, force: true });
}
