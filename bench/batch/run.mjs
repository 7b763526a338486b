#!/usr/bin/env node
// Batch benchmark: N renders (150 by default) through `gigareels render batch` against the
// real emulator with a shortened rate-limit minute (the hour and the day shrink alike), in
// child processes, over real HTTP. Prints, for the same run:
//   1. a clean batch: wall time against the limit-bound minimum (an ideal client that sends
//      each render the instant the emulator's fixed windows allow it, plus one render's
//      duration), the ratio, 429s, renders created, videos saved;
//   2. a batch killed with SIGKILL at random moments, then rerun until it finishes: renders
//      created (must be N: no duplicates), distinct Idempotency-Keys, 429s, videos saved.
//
//   npm run build && node bench/batch/run.mjs          (N=150 MINUTE_MS=1000 RENDER_MS=300 KILLS=3)
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../../dist/lib/emulator/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, "../../bin/run.js");
const N = Number(process.env.N ?? 150);
const MINUTE_MS = Number(process.env.MINUTE_MS ?? 1000);
const RENDER_MS = Number(process.env.RENDER_MS ?? 300);
const KILLS = Number(process.env.KILLS ?? 3);
const LIMITS = { minute: 10, hour: 100, day: 1000 };
const LENGTH = { minute: MINUTE_MS, hour: 60 * MINUTE_MS, day: 1440 * MINUTE_MS };

/**
 * When the last of `n` creations can be sent at best, under the emulator's fixed windows
 * (a window starts at the first request after the previous one ended).
 */
function limitBoundMs(n) {
  const w = Object.fromEntries(Object.keys(LIMITS).map((k) => [k, { start: 0, count: 0 }]));
  let t = 0;
  for (let i = 0; i < n; i++) {
    for (;;) {
      for (const k of Object.keys(w)) if (t >= w[k].start + LENGTH[k]) w[k] = { start: t, count: 0 };
      const full = Object.keys(w).filter((k) => w[k].count >= LIMITS[k]);
      if (full.length === 0) break;
      t = Math.max(...full.map((k) => w[k].start + LENGTH[k]));
    }
    if (i === 0) for (const k of Object.keys(w)) w[k].start = t;
    for (const k of Object.keys(w)) w[k].count++;
  }
  return t;
}

function csv(n) {
  const rows = ["prompt,title"];
  for (let i = 1; i <= n; i++) rows.push(`"Lesson ${i}, explained",lesson-${i}`);
  return `${rows.join("\n")}\n`;
}

function batch(emu, key, dir, { killAfterMs } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [BIN, "render", "batch", join(dir, "in.csv"), "--output-dir", join(dir, "out"), "--base-url", emu.url],
      {
        env: {
          ...process.env,
          GIGAREELS_API_KEY: key,
          GIGAREELS_CONFIG_DIR: join(dir, "config"),
          // the key's shared budget counts in the emulator's minute
          GIGAREELS_RATE_LIMIT_MINUTE_MS: String(MINUTE_MS),
          NO_COLOR: "1",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer =
      killAfterMs !== undefined ? setTimeout(() => child.kill("SIGKILL"), killAfterMs) : undefined;
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: performance.now() - t0, stderr });
    });
  });
}

function countsFor(emu, key) {
  const last4 = key.slice(-4);
  const renders = emu.renders().filter((r) => r.keyLast4 === last4);
  return {
    renders: renders.length,
    keys: new Set(renders.map((r) => r.idempotencyKey)).size,
    refused: emu.requests.filter((r) => r.status === 429 && r.keyLast4 === last4).length,
  };
}

const mp4s = async (dir) =>
  (await readdir(join(dir, "out")).catch(() => [])).filter((f) => f.endsWith(".mp4")).length;

const emu = await startEmulator({
  port: 0,
  rateLimitMinuteMs: MINUTE_MS,
  renderDurationMs: RENDER_MS,
  outputSizeBytes: 16_384,
});
const dirs = [];
try {
  const bound = limitBoundMs(N) + RENDER_MS;
  console.log(
    `batch of ${N} renders; emulator minute ${MINUTE_MS} ms (hour ${LENGTH.hour / 1000} s), renders take ${RENDER_MS} ms`,
  );

  // 1. A clean run.
  const dir1 = await mkdtemp(join(tmpdir(), "gr-bench-batch-"));
  dirs.push(dir1);
  await writeFile(join(dir1, "in.csv"), csv(N));
  const key1 = emu.createKey();
  const clean = await batch(emu, key1, dir1);
  if (clean.code !== 0) throw new Error(`the clean batch exited ${clean.code}: ${clean.stderr.slice(-500)}`);
  const c1 = countsFor(emu, key1);
  const waits = (clean.stderr.match(/^Waiting: .*$/gm) ?? []).map((l) => l.replace(/; going on.*/, ""));
  console.log("\n1. clean run");
  console.log(`   wall time             ${(clean.ms / 1000).toFixed(1)} s`);
  console.log(
    `   limit-bound minimum   ${(bound / 1000).toFixed(1)} s (ideal sends under the fixed windows + one render)`,
  );
  console.log(`   ratio                 ${(clean.ms / bound).toFixed(2)}x`);
  console.log(`   429s                  ${c1.refused}`);
  console.log(`   renders / videos      ${c1.renders} / ${await mp4s(dir1)}`);
  console.log(
    `   waits announced       ${waits.length} (${[...new Set(waits.map((w) => w.replace(/^Waiting: /, "")))].join("; ")})`,
  );

  // 2. Killed at random moments, then rerun.
  const dir2 = await mkdtemp(join(tmpdir(), "gr-bench-batch-"));
  dirs.push(dir2);
  await writeFile(join(dir2, "in.csv"), csv(N));
  const key2 = emu.createKey();
  const t0 = performance.now();
  const killedAt = [];
  for (let i = 0; i < KILLS; i++) {
    const after = 500 + Math.floor(Math.random() * Math.min(8_000, bound / (KILLS + 1)));
    const r = await batch(emu, key2, dir2, { killAfterMs: after });
    if (r.signal === "SIGKILL") killedAt.push(after);
  }
  let reruns = 0;
  for (;;) {
    const r = await batch(emu, key2, dir2);
    reruns++;
    if (r.code === 0) break;
    if (reruns > 3) throw new Error(`the rerun exited ${r.code}: ${r.stderr.slice(-500)}`);
  }
  const c2 = countsFor(emu, key2);
  console.log("\n2. kill -9, then rerun");
  console.log(
    `   killed after          ${killedAt.map((ms) => `${ms} ms`).join(", ")} (${killedAt.length} kills), then ${reruns} rerun(s)`,
  );
  console.log(`   total time            ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`   renders created       ${c2.renders} of ${N} lines (duplicates: ${c2.renders - N})`);
  console.log(`   distinct keys         ${c2.keys}`);
  console.log(`   429s                  ${c2.refused}`);
  console.log(`   videos                ${await mp4s(dir2)}`);
  if (c1.refused + c2.refused > 0 || c2.renders !== N || c1.renders !== N) process.exitCode = 1;
} finally {
  await emu.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}
