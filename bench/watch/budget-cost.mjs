#!/usr/bin/env node
// What the cross-process budget costs per poll, on a busy machine: the path waitForRender
// takes now (one acquire("status", { watch }) transaction, an atomic write without fsync)
// against the old path (the same read-modify-write under the lock with an fsync of the file
// and one of its folder, as every poll did before), interleaved in
// the same run, while 4 other processes poll the same key's file and one process keeps the
// disk busy with fsynced writes. Prints p50 / p99 per poll, ms.
//
//   node bench/watch/budget-cost.mjs        (POLLS=400 by default)
import { fork } from "node:child_process";
import { fsyncSync, mkdtempSync, openSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

const KEY = `giga_${"B3nchK3y".repeat(4)}`;
const role = process.argv[2] ?? "main";

if (role === "disk") {
  // keeps the disk busy: 64 KiB writes, each fsynced
  const fd = openSync(join(process.argv[3], "disk-load.bin"), "w");
  const buf = Buffer.alloc(65536, 1);
  for (;;) {
    writeSync(fd, buf, 0, buf.length, 0);
    fsyncSync(fd);
    await new Promise((r) => setImmediate(r));
  }
} else if (role === "poller") {
  // another watcher of the key: a poll every ~250 ms through the new path (four of them:
  // 16 polls a second, fifteen times what twenty real watchers send)
  const { SharedBudget } = await import(process.argv[4]);
  const b = new SharedBudget(KEY, {
    dir: process.argv[3],
    limits: { status: { minute: 1e9, hour: 1e9, day: 1e9 } },
  });
  for (;;) {
    await b.acquire("status", { watch: { nextPollAt: Date.now() + 1000 } });
    await new Promise((r) => setTimeout(r, 250));
  }
} else {
  const dir = mkdtempSync(join(tmpdir(), "bench-budget-dir-"));
  const out = join(mkdtempSync(join(tmpdir(), "bench-budget-")), "budget.mjs");
  await build({
    entryPoints: [new URL("../../src/lib/sdk/poll/budget.ts", import.meta.url).pathname],
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: out,
    logLevel: "silent",
  });
  const { SharedBudget } = await import(out);
  const kids = [fork(new URL(import.meta.url).pathname, ["disk", dir])];
  for (let i = 0; i < 4; i++) kids.push(fork(new URL(import.meta.url).pathname, ["poller", dir, out]));
  await new Promise((r) => setTimeout(r, 1000));
  // limits out of reach: this measures the coordination, not the rate limiting
  const limits = { status: { minute: 1e9, hour: 1e9, day: 1e9 } };
  const now = new SharedBudget(KEY, { dir, limits });
  const old = new SharedBudget(KEY, { dir, limits, durable: true });
  const rl = () => ({ limit: 60, remaining: 50, resetAt: Date.now() + 30_000, observedAt: Date.now() });
  const t = { new: [], old: [] };
  const POLLS = Number(process.env.POLLS ?? 400);
  for (let i = 0; i < POLLS; i++) {
    let s = performance.now();
    await now.acquire("status", { watch: { rateLimit: rl(), nextPollAt: Date.now() + 1000 } });
    t.new.push(performance.now() - s);
    s = performance.now();
    await old.update({ requestAt: Date.now(), rateLimit: rl(), nextPollAt: Date.now() + 1000 });
    t.old.push(performance.now() - s);
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const k of kids) k.kill();
  const q = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))];
  const row = (name, a) =>
    `| ${name} | ${q(a, 0.5).toFixed(2)} | ${q(a, 0.99).toFixed(2)} | ${Math.max(...a).toFixed(2)} |`;
  console.log(`Budget cost per poll, ${POLLS} polls each, 4 other pollers of the key + an fsync disk load\n`);
  console.log("| path | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
  console.log(row("new: acquire with the watcher update, no fsync", t.new));
  console.log(row("old: update with 2 fsyncs", t.old));
  console.log(`\np99 ratio new/old: ${(q(t.new, 0.99) / q(t.old, 0.99)).toFixed(2)}`);
  process.exit(0);
}
