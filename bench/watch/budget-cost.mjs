#!/usr/bin/env node
// What the cross-process budget costs per poll, on a busy machine: the path waitForRender
// takes now (one acquire("status", { watch }) transaction: lock, read, write and release in
// synchronous calls within one turn of the event loop, no fsync) against two baselines run
// on the same file, interleaved in the same run: the previous path (the same transaction
// with asynchronous calls under withFileLock, no fsync) and the first one (the same with an
// fsync of the file and one of its folder on every poll). Meanwhile 4 other processes poll
// the same key's file, one process keeps the disk busy with fsynced writes, and BURN
// processes (default: one per CPU) keep every CPU busy. Prints p50 / p99 per poll, ms.
//
//   node bench/watch/budget-cost.mjs        (POLLS=400, BURN=<CPUs> by default)
import { fork } from "node:child_process";
import { fsyncSync, mkdtempSync, openSync, writeSync } from "node:fs";
import { availableParallelism, hostname, tmpdir } from "node:os";
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
} else if (role === "burn") {
  for (;;) Math.sqrt(Math.random());
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
  const src = new URL("../../src/lib/", import.meta.url).pathname;
  await build({
    stdin: {
      contents: `export * from "${src}sdk/poll/budget.ts";
        export { readJsonFile, withFileLock, writeFileAtomic } from "${src}fs/index.ts";
        export { recordRequest } from "${src}sdk/poll/windows.ts";`,
      resolveDir: src,
      loader: "ts",
    },
    bundle: true,
    platform: "node",
    format: "esm",
    outfile: out,
    logLevel: "silent",
  });
  const B = await import(out);
  const { SharedBudget } = B;
  const kids = [fork(new URL(import.meta.url).pathname, ["disk", dir])];
  for (let i = 0; i < 4; i++) kids.push(fork(new URL(import.meta.url).pathname, ["poller", dir, out]));
  const BURN = Number(process.env.BURN ?? availableParallelism());
  for (let i = 0; i < BURN; i++) kids.push(fork(new URL(import.meta.url).pathname, ["burn"]));
  await new Promise((r) => setTimeout(r, 1000));
  // limits out of reach: this measures the coordination, not the rate limiting
  const limits = { status: { minute: 1e9, hour: 1e9, day: 1e9 } };
  const now = new SharedBudget(KEY, { dir, limits });
  const path = B.budgetFilePath(KEY, dir);
  // The baselines: the same read-modify-write (record a status request, register the
  // watcher) with asynchronous calls under withFileLock, as budget.ts did before.
  const asyncPoll = (sync) =>
    B.withFileLock(
      `${path}.lock`,
      async () => {
        const r = await B.readJsonFile(path);
        const file = B.pruneBudgetFile(
          B.sanitizeBudgetFile(r.kind === "ok" ? r.value : undefined),
          Date.now(),
        );
        file.groups.status ??= { usage: { recent: [], hour: [], day: [] } };
        B.recordRequest(file.groups.status.usage, Date.now());
        file.groups.status.rateLimit = { ...rl(), observedAt: Date.now() };
        file.watchers["bench-old"] = { pid: process.pid, host: hostname(), until: Date.now() + 61_000 };
        await B.writeFileAtomic(path, `${JSON.stringify(file)}\n`, { mode: 0o600, sync });
      },
      { timeoutMs: 2_000, staleMs: 10_000, maxSleepMs: 5 },
    );
  const rl = () => ({ limit: 60, remaining: 50, resetAt: Date.now() + 30_000, observedAt: Date.now() });
  const t = { new: [], prev: [], fsync: [] };
  const POLLS = Number(process.env.POLLS ?? 400);
  for (let i = 0; i < POLLS; i++) {
    let s = performance.now();
    await now.acquire("status", { watch: { rateLimit: rl(), nextPollAt: Date.now() + 1000 } });
    t.new.push(performance.now() - s);
    s = performance.now();
    await asyncPoll(false);
    t.prev.push(performance.now() - s);
    s = performance.now();
    await asyncPoll(true);
    t.fsync.push(performance.now() - s);
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const k of kids) k.kill();
  const q = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))];
  const row = (name, a) =>
    `| ${name} | ${q(a, 0.5).toFixed(2)} | ${q(a, 0.99).toFixed(2)} | ${Math.max(...a).toFixed(2)} |`;
  console.log(
    `Budget cost per poll, ${POLLS} polls each, 4 other pollers of the key + an fsync disk load + ${BURN} CPU burners\n`,
  );
  console.log("| path | p50 ms | p99 ms | max ms |\n|---|---|---|---|");
  console.log(row("now: acquire with the watcher update, synchronous transaction", t.new));
  console.log(row("before: the same, asynchronous calls under withFileLock", t.prev));
  console.log(row("first: asynchronous, 2 fsyncs per poll", t.fsync));
  console.log(`\np99 ratio now/before: ${(q(t.new, 0.99) / q(t.prev, 0.99)).toFixed(2)}`);
  console.log(`p99 ratio now/first: ${(q(t.new, 0.99) / q(t.fsync, 0.99)).toFixed(2)}`);
  process.exit(0);
}
