#!/usr/bin/env node
// Start-up benchmark (issues 8 and 14). Compares, in one run, with NODE_EXTRA_CA_CERTS unset on
// every side: node -e 0;  `import { GigaReels } from "@gigareels/sdk"` (and `require`) from the
// packed package;  gigareels --version / status --offline / --help from the npm bin (bin/run.js,
// as an npm install runs it) and from the standalone binary (build/gigareels-<os>-<arch>).
// Prints medians and ratios to `node -e 0`, checks the targets (SDK import <= 1.5x; npm <= 2.0x
// and binary <= 1.6x for --version and status --offline), and writes
// bench/results/startup-<time>.json.
//
//   npm run build && npm run build:binary && node bench/startup/startup.mjs [--runs 40] [--json]
//                                                          [--against DIR]
//
// --against DIR adds the npm install's and the binary's --version and status --offline from
// another built checkout (e.g. main, to show a change's before and after in one run: "before"
// rows, ratios to the same `node -e 0`).
//
// status --offline reads a real profile: the bench logs in once (file store) against the emulator
// in a temporary config folder. Runs are interleaved (one of each case per round) so machine noise
// hits every case alike.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(opt("--runs", "40"));
const warmup = 3;
const asJson = args.includes("--json");

const against = opt("--against", undefined);
const target = `${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
const binaryOf = (dir) =>
  join(dir, "build", `gigareels-${target}${process.platform === "win32" ? ".exe" : ""}`);
const binary = binaryOf(root);
if (!existsSync(join(root, "dist/bundle/cli.cjs"))) throw new Error("run `npm run build` first");
if (against && !existsSync(join(against, "dist/bundle/cli.cjs")))
  throw new Error(`${against}: run \`npm run build\` there first`);
const packDir = mkdtempSync(join(tmpdir(), "gigareels-bench-pack-"));
/**
 * What an npm install runs: the packed package (`npm pack`, unpacked; the bundle needs none of
 * the dependencies at run time) of the checkout `dir`, unpacked into packDir/`name`.
 */
function packAndUnpack(dir, name) {
  const dest = join(packDir, name);
  mkdirSync(dest);
  const tgz = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dest], {
    cwd: dir,
    encoding: "utf8",
    shell: process.platform === "win32",
  })
    .trim()
    .split("\n")
    .at(-1);
  execFileSync("tar", ["-xzf", join(dest, tgz), "-C", dest]);
  return join(dest, "package");
}
const installed = packAndUnpack(root, "this");
// A project that has the package installed, for the SDK cases (`-e` resolves from the cwd). The
// SDK needs none of the dependencies to load (ky is inside its bundle).
const project = join(packDir, "project");
mkdirSync(join(project, "node_modules/@gigareels"), { recursive: true });
symlinkSync(installed, join(project, "node_modules/@gigareels/sdk"), "dir");
const pjsonBin = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).bin.gigareels;
const bin = join(installed, pjsonBin);
// bin/run.cjs, the faster CommonJS bin, from the package when it ships it, else from the tree.
const runCjs = existsSync(join(installed, "bin/run.cjs"))
  ? join(installed, "bin/run.cjs")
  : join(root, "bin/run.cjs");
const haveBinary = existsSync(binary);
// The other checkout's package and binary (--against).
const before = against && packAndUnpack(against, "against");
const beforeBin =
  before && join(before, JSON.parse(readFileSync(join(before, "package.json"), "utf8")).bin.gigareels);
const beforeBinary = against && existsSync(binaryOf(against)) ? binaryOf(against) : undefined;
if (!haveBinary) process.stderr.write(`no ${binary}: run \`npm run build:binary\` to include the binary\n`);

const configDir = mkdtempSync(join(tmpdir(), "gigareels-bench-"));
const env = {
  ...process.env,
  GIGAREELS_CONFIG_DIR: configDir,
  GIGAREELS_CREDENTIAL_STORE: "file",
  NO_COLOR: "1",
};
for (const k of [
  "NODE_EXTRA_CA_CERTS",
  "NODE_OPTIONS",
  "DEBUG",
  "GIGAREELS_API_KEY",
  "GIGAREELS_API_KEY_FILE",
]) {
  delete env[k];
}

// A stored profile for status --offline.
const { startEmulator } = await import(pathToFileURL(join(root, "dist/lib/emulator/index.js")).href);
const emulator = await startEmulator({ port: 0 });
try {
  // Asynchronous: the emulator answers from this process.
  const login = spawn(process.execPath, [bin, "login", "--with-token", "--base-url", emulator.url], {
    env,
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  login.stderr.on("data", (d) => {
    stderr += d;
  });
  login.stdin.end(`${emulator.keys[0]}\n`);
  const code = await new Promise((resolve) => login.on("close", resolve));
  if (code !== 0)
    process.stderr.write(`login failed (${code}); status --offline runs without a profile: ${stderr}\n`);
} finally {
  await emulator.stop();
}

const cases = [
  { name: "node -e 0", cmd: [process.execPath, "-e", "0"] },
  {
    name: "sdk: import { GigaReels }",
    cmd: [process.execPath, "--input-type=module", "-e", 'import { GigaReels } from "@gigareels/sdk";'],
    cwd: project,
    target: 1.5,
  },
  {
    name: "sdk: require()",
    cmd: [process.execPath, "-e", 'const { GigaReels } = require("@gigareels/sdk");'],
    cwd: project,
  },
  { name: "npm: --version", cmd: [process.execPath, bin, "--version"], target: 2.0 },
  { name: "npm: status --offline", cmd: [process.execPath, bin, "status", "--offline"], target: 2.0 },
  { name: "npm: --help", cmd: [process.execPath, bin, "--help"] },
  ...(pjsonBin === "bin/run.cjs"
    ? []
    : [
        { name: "npm (run.cjs): --version", cmd: [process.execPath, runCjs, "--version"] },
        {
          name: "npm (run.cjs): status --offline",
          cmd: [process.execPath, runCjs, "status", "--offline"],
        },
      ]),
  ...(haveBinary
    ? [
        { name: "binary: --version", cmd: [binary, "--version"], target: 1.6 },
        { name: "binary: status --offline", cmd: [binary, "status", "--offline"], target: 1.6 },
        { name: "binary: --help", cmd: [binary, "--help"] },
      ]
    : []),
  ...(before
    ? [
        { name: "before npm: --version", cmd: [process.execPath, beforeBin, "--version"] },
        { name: "before npm: status --offline", cmd: [process.execPath, beforeBin, "status", "--offline"] },
      ]
    : []),
  ...(beforeBinary
    ? [
        { name: "before binary: --version", cmd: [beforeBinary, "--version"] },
        { name: "before binary: status --offline", cmd: [beforeBinary, "status", "--offline"] },
      ]
    : []),
];

const times = new Map(cases.map((c) => [c.name, []]));
const exits = new Map();
for (let round = 0; round < warmup + runs; round++) {
  for (const c of cases) {
    const start = process.hrtime.bigint();
    const r = spawnSync(c.cmd[0], c.cmd.slice(1), { env, stdio: "ignore", cwd: c.cwd });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    exits.set(c.name, r.status);
    if (round >= warmup) times.get(c.name).push(ms);
  }
}
rmSync(configDir, { recursive: true, force: true });
rmSync(packDir, { recursive: true, force: true });

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const base = median(times.get("node -e 0"));
const rows = cases.map((c) => {
  const med = median(times.get(c.name));
  const ratio = med / base;
  return {
    case: c.name,
    medianMs: Number(med.toFixed(1)),
    ratio: Number(ratio.toFixed(2)),
    target: c.target ?? null,
    ok: c.target ? ratio <= c.target : null,
    exitCode: exits.get(c.name),
  };
});
const result = {
  date: new Date().toISOString(),
  node: process.version,
  platform: target,
  runs,
  against: against ?? null,
  rows,
};
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(
  join(root, "bench/results", `startup-${Date.now()}.json`),
  `${JSON.stringify(result, null, 2)}\n`,
);

if (asJson) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  process.stdout.write(
    `start-up, ${runs} runs each, ${process.version} ${target}, NODE_EXTRA_CA_CERTS unset${against ? `; "before" rows: ${against}` : ""}\n`,
  );
  process.stdout.write(`${"case".padEnd(32)} ${"median".padStart(9)} ${"ratio".padStart(7)}  target\n`);
  for (const r of rows) {
    const t = r.target ? `<= ${r.target}x ${r.ok ? "ok" : "MISSED"}` : "";
    const exit = r.exitCode === 0 ? "" : `  (exit ${r.exitCode})`;
    process.stdout.write(
      `${r.case.padEnd(32)} ${`${r.medianMs.toFixed(1)} ms`.padStart(9)} ${`${r.ratio.toFixed(2)}x`.padStart(7)}  ${t}${exit}\n`,
    );
  }
}
// Exit 1 when a target is missed, so CI or a script can use it.
process.exit(rows.some((r) => r.ok === false) ? 1 : 0);
