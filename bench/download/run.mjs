#!/usr/bin/env node
// Download benchmark: a 1 GiB output served by the real emulator, fetched by our streaming
// downloader in a child process (peak RSS measured there) and by `curl -s -o` from the same
// URL in the same run, alternating, a few runs each. Prints medians and ratios.
// Targets: peak RSS under 80 MB; throughput at least 0.8 of curl's.
//
//   npm run build && node bench/download/run.mjs        (SIZE_MB=1024 RUNS=3 by default)
//   VIA=fetch node bench/download/run.mjs               (our downloader through an injected fetch)
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../../dist/lib/emulator/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const SIZE = Number(process.env.SIZE_MB ?? 1024) * 1024 * 1024;
const RUNS = Number(process.env.RUNS ?? 3);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mbps = (bytes, ms) => bytes / (1024 * 1024) / (ms / 1000);

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
    execFile("curl", ["-s", "-o", path, url], (err) => {
      if (err) return reject(err);
      resolve({ wallMs: performance.now() - t0 });
    });
  });
}

const emu = await startEmulator({ port: 0, renderDurationMs: 10, outputSizeBytes: SIZE });
const dir = await mkdtemp(join(tmpdir(), "gr-bench-dl-"));
try {
  const key = emu.keys[0];
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const created = await (
    await fetch(`${emu.url}/api/render`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        type: "educational-brainrot",
        prompt: "bench",
        characterPack: "rick-and-morty",
        backgroundVideoPack: "minecraft-parkour",
      }),
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
    `Download of ${(SIZE / 1024 / 1024).toFixed(0)} MiB from the emulator (${url.replace(/\/files\/.*/, "")}), ${RUNS} runs each, alternating\n`,
  );
  const ours = [];
  const curl = [];
  for (let i = 0; i < RUNS; i++) {
    const a = join(dir, "ours.mp4");
    const b = join(dir, "curl.mp4");
    const o = await runOurs(url, a);
    if ((await stat(a)).size !== SIZE) throw new Error("our download has the wrong size");
    await rm(a, { force: true });
    const c = await runCurl(url, b);
    if ((await stat(b)).size !== SIZE) throw new Error("curl's download has the wrong size");
    await rm(b, { force: true });
    ours.push(o);
    curl.push(c);
    console.log(
      `run ${i + 1}: ours ${mbps(SIZE, o.wallMs).toFixed(0)} MiB/s wall (${mbps(SIZE, o.ms).toFixed(0)} MiB/s transfer), peak RSS ${(o.maxRssBytes / 1e6).toFixed(1)} MB; curl ${mbps(SIZE, c.wallMs).toFixed(0)} MiB/s wall`,
    );
  }
  const oursWall = median(ours.map((o) => mbps(SIZE, o.wallMs)));
  const oursTransfer = median(ours.map((o) => mbps(SIZE, o.ms)));
  const curlWall = median(curl.map((c) => mbps(SIZE, c.wallMs)));
  const rss = median(ours.map((o) => o.maxRssBytes)) / 1e6;
  const rssMax = Math.max(...ours.map((o) => o.maxRssBytes)) / 1e6;
  console.log("\n| measure | ours | curl | ratio | target |");
  console.log("|---|---|---|---|---|");
  console.log(
    `| throughput, median, wall clock incl. process start | ${oursWall.toFixed(0)} MiB/s | ${curlWall.toFixed(0)} MiB/s | ${(oursWall / curlWall).toFixed(2)} | >= 0.80 |`,
  );
  console.log(
    `| throughput, median, transfer only | ${oursTransfer.toFixed(0)} MiB/s | | ${(oursTransfer / curlWall).toFixed(2)} | |`,
  );
  const paired = median(ours.map((o, i) => curl[i].wallMs / o.wallMs));
  console.log(`| throughput ratio, median of paired runs (wall) | | | ${paired.toFixed(2)} | >= 0.80 |`);
  console.log(
    `| peak RSS of the downloading process (median / max) | ${rss.toFixed(1)} / ${rssMax.toFixed(1)} MB | | | < 80 MB |`,
  );
} finally {
  await emu.stop();
  await rm(dir, { recursive: true, force: true });
}
