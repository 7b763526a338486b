#!/usr/bin/env node
// Download benchmark: a 1 GiB output served by the real emulator, fetched in the same run by
//   - ours: the SDK's downloader as the CLI runs it (ky over the SDK's fetch: socket-fetch),
//   - curl -s -o, the baseline,
// each in its own process (peak RSS is the downloader's own), rotating the order every run.
// Prints each run, then medians and ratios against curl.
// Targets (issue 15): throughput at least 0.85 of curl's, peak RSS under 80 MB.
//
//   npm run build && node bench/download/run.mjs        (SIZE_MB=1024 RUNS=5 by default)
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../../dist/lib/emulator/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const SIZE = Number(process.env.SIZE_MB ?? 1024) * 1024 * 1024;
const RUNS = Number(process.env.RUNS ?? 5);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mbps = (ms) => SIZE / (1024 * 1024) / (ms / 1000);

function runOurs(url, path) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [join(here, "child.mjs"), url, path], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
    });
    p.on("exit", (code) => {
      const wallMs = performance.now() - t0;
      if (code !== 0) return reject(new Error(`downloader exited ${code}`));
      resolve({ ...JSON.parse(out), wallMs });
    });
  });
}

function runCurl(url, path) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    execFile("/usr/bin/time", ["-f", "%M", "curl", "-s", "-o", path, url], (err, _stdout, stderr) => {
      if (err) return reject(err);
      resolve({
        wallMs: performance.now() - t0,
        maxRssBytes: Number(stderr.trim().split("\n").at(-1)) * 1024,
      });
    });
  });
}

const contenders = {
  ours: runOurs,
  curl: runCurl,
};
const names = Object.keys(contenders);

const emu = await startEmulator({ port: 0, renderDurationMs: 10, outputSizeBytes: SIZE });
const dir = await mkdtemp(join(tmpdir(), "gr-bench-dl-"));
try {
  const key = emu.keys[0];
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const created = await (
    await fetch(`${emu.url}/api/render`, {
      method: "POST",
      headers,
      body: JSON.stringify({ type: "educational-brainrot", prompt: "bench" }),
    })
  ).json();
  let status;
  for (;;) {
    status = await (await fetch(`${emu.url}/api/render/status/${created.renderId}`, { headers })).json();
    if (status.status === "done") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = status.outputFile;
  console.log(
    `Download of ${(SIZE / 1024 / 1024).toFixed(0)} MiB from the emulator (${url.replace(/\/files\/.*/, "")}), ${RUNS} runs, the order rotating\n`,
  );
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < RUNS; i++) {
    const order = names.map((_, k) => names[(k + i) % names.length]);
    const line = [];
    for (const name of order) {
      const path = join(dir, "out.mp4");
      const r = await contenders[name](url, path);
      if ((await stat(path)).size !== SIZE) throw new Error(`${name}: the download has the wrong size`);
      await rm(path, { force: true });
      results[name].push(r);
      line.push(`${name} ${mbps(r.wallMs).toFixed(0)} MiB/s, ${(r.maxRssBytes / 1e6).toFixed(1)} MB`);
    }
    console.log(`run ${i + 1}: ${line.join("; ")}`);
  }
  const curlWall = median(results.curl.map((c) => mbps(c.wallMs)));
  console.log(
    "\n| downloader | throughput, median (wall clock, process start included) | ratio to curl | ratio, median of per-run ratios | peak RSS, median / max |",
  );
  console.log("|---|---|---|---|---|");
  for (const name of names) {
    const rs = results[name];
    const wall = median(rs.map((r) => mbps(r.wallMs)));
    const paired = median(rs.map((r, i) => results.curl[i].wallMs / r.wallMs));
    const rss = median(rs.map((r) => r.maxRssBytes)) / 1e6;
    const rssMax = Math.max(...rs.map((r) => r.maxRssBytes)) / 1e6;
    console.log(
      `| ${name} | ${wall.toFixed(0)} MiB/s | ${(wall / curlWall).toFixed(2)} | ${paired.toFixed(2)} | ${rss.toFixed(1)} / ${rssMax.toFixed(1)} MB |`,
    );
  }
  console.log("\nTargets: ours at least 0.85 of curl's throughput, peak RSS under 80 MB.");
} finally {
  await emu.stop();
  await rm(dir, { recursive: true, force: true });
}
