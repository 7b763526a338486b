import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  budgetFilePath,
  pruneBudgetFile,
  SharedBudget,
  sanitizeBudgetFile,
} from "../../src/lib/sdk/poll/budget.js";
import {
  emptyUsage,
  GROUP_LIMITS,
  paceFor,
  pruneUsage,
  recordRequest,
  roomFor,
  usageAt,
} from "../../src/lib/sdk/poll/windows.js";
import { lockSightingsDuring } from "../helpers/lock-observer.js";

const KEY = `giga_${"A1b2C3d4".repeat(4)}`;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gr-budget-"));
});
afterEach(async () => {
  await chmod(join(dir, "state"), 0o700).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

async function readState() {
  return JSON.parse(await readFile(budgetFilePath(KEY, dir), "utf8"));
}

describe("shared budget file", () => {
  it("is named by a hash of the key and never contains the key", async () => {
    const b = new SharedBudget(KEY, { dir });
    const view = await b.update({
      requestAt: Date.now(),
      rateLimit: { limit: 60, remaining: 42, resetAt: Date.now() + 30_000 },
    });
    expect(view).toMatchObject({ watchers: 1, shared: true, rateLimit: { remaining: 42 } });
    const path = budgetFilePath(KEY, dir);
    expect(path).toMatch(/state[/\\]ratelimit-[0-9a-f]{16}\.json$/);
    expect(path).not.toContain(KEY);
    const text = await readFile(path, "utf8");
    expect(text).not.toContain(KEY);
    expect(text).not.toContain(KEY.slice(5));
    expect(await readdir(join(dir, "state"))).toEqual([path.split(/[/\\]/).pop()]);
  });

  it("counts watchers of the same key, keeps the freshest headers, and forgets those that leave", async () => {
    const a = new SharedBudget(KEY, { dir });
    const b = new SharedBudget(KEY, { dir });
    const other = new SharedBudget(`giga_${"Z9".repeat(16)}`, { dir });
    await a.update({ rateLimit: { limit: 60, remaining: 50, resetAt: 2e12, observedAt: 2000 } });
    await other.update({});
    const vb = await b.update({ rateLimit: { limit: 60, remaining: 55, resetAt: 2e12, observedAt: 1000 } });
    expect(vb.watchers).toBe(2);
    expect(vb.rateLimit?.remaining).toBe(50); // the older observation does not overwrite the newer
    await a.leave();
    expect((await b.update({})).watchers).toBe(1);
    expect(Object.keys((await readState()).watchers)).toEqual([b.id]);
  });

  it("holds the file's lock for no turn of the event loop (the cost of a poll is a few system calls)", async () => {
    const budgets = Array.from({ length: 4 }, () => new SharedBudget(KEY, { dir }));
    await budgets[0]!.update({}); // creates the folder
    const lock = `${budgetFilePath(KEY, dir)}.lock`;
    const seen = await lockSightingsDuring(lock, () =>
      Promise.all(
        budgets.map(async (b) => {
          for (let i = 0; i < 10; i++)
            await b.acquire("status", { watch: { nextPollAt: Date.now() + 1000 } });
        }),
      ),
    );
    expect(seen).toBe(0);
    expect((await readState()).groups.status.usage.recent).toHaveLength(40);
  });

  it("starts fresh from a corrupt or odd file and repairs it", async () => {
    await mkdir(join(dir, "state"), { recursive: true });
    await writeFile(budgetFilePath(KEY, dir), "{not json");
    const b = new SharedBudget(KEY, { dir });
    expect(await b.update({ requestAt: 5 })).toMatchObject({ watchers: 1, shared: true });
    expect((await readState()).version).toBe(2);
    // a version 1 file's status times are kept; what is malformed is dropped
    expect(sanitizeBudgetFile({ watchers: { x: { pid: "1" } }, recent: [1, "2"], rateLimit: 3 })).toEqual({
      version: 2,
      watchers: {},
      groups: { status: { usage: { recent: [1], hour: [], day: [] } } },
    });
    expect(
      sanitizeBudgetFile({
        groups: { render: { usage: { recent: [3, 2], hour: [[0, 2], "x"] }, blockedUntil: "soon" } },
      }),
    ).toEqual({
      version: 2,
      watchers: {},
      groups: { render: { usage: { recent: [2, 3], hour: [[0, 2]], day: [] } } },
    });
  });

  it("drops watchers whose process died or whose entry expired", () => {
    const now = 1_000_000;
    const file = sanitizeBudgetFile({
      watchers: {
        alive: { pid: process.pid, host: "h", until: now + 10 },
        expired: { pid: process.pid, host: "h", until: now - 1 },
        dead: { pid: 2 ** 22 + 12345, host: "h", until: now + 10 },
        remote: { pid: 2 ** 22 + 12345, host: "other-host", until: now + 10 },
      },
      groups: { status: { usage: { recent: [now - 70_000, now - 1000] } } },
    });
    pruneBudgetFile(file, now, "h");
    expect(Object.keys(file.watchers).sort()).toEqual(["alive", "remote"]);
    expect(file.groups.status?.usage.recent).toEqual([now - 1000]);
  });

  it.skipIf(process.getuid?.() === 0 || process.platform === "win32")(
    "works alone when the folder cannot be written",
    async () => {
      await mkdir(join(dir, "state"), { recursive: true });
      await chmod(join(dir, "state"), 0o500);
      const b = new SharedBudget(KEY, { dir });
      const t = Date.now();
      const v = await b.update({ requestAt: t, rateLimit: { limit: 60, remaining: 7, resetAt: 9e12 } });
      expect(v).toMatchObject({
        watchers: 1,
        shared: false,
        recentRequests: [t],
        rateLimit: { remaining: 7 },
      });
      const v2 = await b.update({ requestAt: t + 1 });
      expect(v2.recentRequests).toEqual([t, t + 1]);
    },
  );

  it("works alone when the config folder is a file", async () => {
    const file = join(dir, "not-a-dir");
    await writeFile(file, "x");
    const b = new SharedBudget(KEY, { dir: file });
    await expect(b.update({ requestAt: 1 })).resolves.toMatchObject({ watchers: 1, shared: false });
  });
});

describe("shared budget file under concurrent processes", () => {
  it("four processes see each other and lose no update", async () => {
    const bundle = join(dir, "child.mjs");
    const entry = join(dir, "child.ts");
    await writeFile(
      entry,
      `import { SharedBudget } from ${JSON.stringify(resolve("src/lib/sdk/poll/budget.ts"))};
const [dir, key, n, expected] = process.argv.slice(2);
const b = new SharedBudget(key, { dir, lockTimeoutMs: 20000 });
let sawAll = false;
let shared = true;
for (let i = 0; i < Number(n); i++) {
  const v = await b.update({ requestAt: Date.now(), nextPollAt: Date.now() + 1000 });
  shared &&= v.shared;
  if (v.watchers === Number(expected)) sawAll = true;
}
for (let i = 0; i < 400 && !sawAll; i++) {
  await new Promise((r) => setTimeout(r, 25));
  if ((await b.update({ nextPollAt: Date.now() + 1000 })).watchers === Number(expected)) sawAll = true;
}
// stay until everyone has seen everyone
for (let i = 0; i < 40; i++) { await new Promise((r) => setTimeout(r, 25)); await b.update({ nextPollAt: Date.now() + 1000 }); }
await b.leave();
process.stdout.write(JSON.stringify({ sawAll, shared }));
`,
    );
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: bundle,
      logLevel: "silent",
    });
    const N = 4;
    const PER = 25;
    const results = await Promise.all(
      Array.from(
        { length: N },
        () =>
          new Promise<{ sawAll: boolean; shared: boolean }>((res, rej) => {
            const p = spawn(process.execPath, [bundle, dir, KEY, String(PER), String(N)], {
              stdio: ["ignore", "pipe", "inherit"],
            });
            let out = "";
            p.stdout.on("data", (d) => {
              out += d;
            });
            p.on("exit", (code) =>
              code === 0 ? res(JSON.parse(out)) : rej(new Error(`child exited ${code}`)),
            );
          }),
      ),
    );
    for (const r of results) expect(r).toEqual({ sawAll: true, shared: true });
    const state = await readState();
    expect(state.watchers).toEqual({});
    expect(state.groups.status.usage.recent).toHaveLength(N * PER); // read-modify-write under the lock lost nothing
    expect((await readdir(join(dir, "state"))).filter((f) => f.endsWith(".lock"))).toEqual([]);
  });
});

/** A budget on a simulated clock: its sleeps advance the clock instead of waiting. */
function simulated(options: { minuteMs?: number; random?: () => number } = {}) {
  const clock = { t: 1_700_000_000_000 };
  const waits: number[] = [];
  const make = () =>
    new SharedBudget(KEY, {
      dir,
      now: () => clock.t,
      sleep: async (ms) => {
        waits.push(ms);
        clock.t += ms;
      },
      random: options.random ?? (() => 0),
      minuteMs: options.minuteMs,
    });
  return { clock, waits, make };
}

describe("acquire: the key's budget per endpoint group, in simulated time", () => {
  it("a server's absurd pause (a Retry-After or a reset years ahead) holds the key for at most an hour", async () => {
    const { clock, make } = simulated();
    const b = make();
    await b.observe("render", { retryAfterMs: 10 * 365 * 86_400_000 });
    const start = clock.t;
    await b.acquire("render");
    expect(clock.t - start).toBeGreaterThanOrEqual(3_600_000);
    expect(clock.t - start).toBeLessThan(3_600_000 + 2_000 + 10);
    await b.observe("render", {
      rateLimit: { limit: 10, remaining: 0, resetAt: clock.t + 1e15, observedAt: clock.t },
    });
    const again = clock.t;
    await b.acquire("render");
    expect(clock.t - again).toBeLessThan(3_600_000 + 2_000 + 10);
  });

  it("a process with a shortened minute keeps a file of its own: it never prunes the 60 s history", async () => {
    const clock = { t: 1_700_000_000_000 };
    const opts = (minuteMs?: number) => ({
      dir,
      minuteMs,
      now: () => clock.t,
      sleep: async (ms: number) => {
        clock.t += ms;
      },
      random: () => 0,
    });
    const real = new SharedBudget(KEY, opts());
    const short = new SharedBudget(KEY, opts(1_000));
    expect(short.path).not.toBe(real.path);
    expect(short.path).toBe(budgetFilePath(KEY, dir, 1_000));
    for (let i = 0; i < 9; i++) await real.acquire("render");
    clock.t += 5_000;
    // the 1 s-minute process works on the key (its transactions prune with its own windows)
    for (let i = 0; i < 3; i++) await short.acquire("render");
    await short.acquire("status");
    // the 60 s budget still counts its 9 renders of this minute: a 10th waits for the oldest
    const grant = await real.acquire("render");
    expect(grant.waitedMs).toBeGreaterThanOrEqual(55_000);
  });

  it("lets 90 % of each minute through at once, then waits for the oldest to leave the window", async () => {
    const { clock, make } = simulated();
    const a = make();
    const b = make(); // a second process of the same key shares the count
    const t0 = clock.t;
    for (let i = 0; i < 9; i++) expect((await (i % 2 ? a : b).acquire("render")).waitedMs).toBe(0);
    const tenth = await a.acquire("render");
    expect(tenth.at - t0).toBeGreaterThanOrEqual(60_000); // the first left the sliding minute
    expect(tenth.at - t0).toBeLessThan(61_000);
    // status has its own count: 54 of 60 go at once
    for (let i = 0; i < 54; i++) expect((await b.acquire("status")).waitedMs).toBe(0);
    expect((await a.acquire("status")).waitedMs).toBeGreaterThan(0);
  });

  it("never lets more than 90 % of a limit into any window of its length (minute, hour, day)", () => {
    // the pure policy (windows.ts) for a simulated day and a half, greedy sender
    const minuteMs = 1_000; // hour 60 s, day 1440 s
    const limits = GROUP_LIMITS.render;
    const log = emptyUsage();
    const t0 = 1_700_000_000_000;
    let t = t0;
    const sent: number[] = [];
    while (t - t0 < 1.5 * 1440 * minuteMs) {
      const room = roomFor(log, t, limits, minuteMs);
      if (room.waitMs > 0) {
        t += room.waitMs;
        continue;
      }
      recordRequest(log, t, minuteMs);
      pruneUsage(log, t, minuteMs);
      sent.push(t);
    }
    const maxIn = (len: number) => {
      let best = 0;
      let j = 0;
      for (let i = 0; i < sent.length; i++) {
        while (sent[j]! <= sent[i]! - len) j++;
        best = Math.max(best, i - j + 1);
      }
      return best;
    };
    expect(maxIn(minuteMs)).toBe(9);
    expect(maxIn(60 * minuteMs)).toBe(90);
    expect(maxIn(1440 * minuteMs)).toBe(900);
    // the budget is used, not starved: the whole daily cap in the first day
    expect(sent.filter((x) => x < t0 + 1440 * minuteMs).length).toBe(900);
  });

  it("slows watchers down once half of the hour is used, before it runs out", () => {
    const log = emptyUsage();
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 449; i++) recordRequest(log, t0 + i * 4_000);
    const at = t0 + 449 * 4_000;
    expect(paceFor(log, at, GROUP_LIMITS.status, 3)).toEqual({ floorMs: 0, window: null });
    recordRequest(log, at);
    // 450 of the 900 we allow ourselves: each of 3 watchers at most once per 3 x 3600 s / 900
    expect(paceFor(log, at, GROUP_LIMITS.status, 3)).toEqual({ floorMs: 12_000, window: "hour" });
    expect(usageAt(log, at)).toMatchObject({ hour: 450, day: 450 });
  });

  it("pauses every process for a server's Retry-After, and for headers that say nothing is left", async () => {
    const { clock, make, waits } = simulated();
    const a = make();
    const b = make();
    await a.observe("status", { retryAfterMs: 7_000 });
    const onWait = vi.fn();
    const g = await b.acquire("status", { onWait });
    expect(g.waitedMs).toBeGreaterThanOrEqual(7_000);
    expect(onWait).toHaveBeenCalledWith(expect.objectContaining({ reason: "server" }));
    // the render group is not paused by a status 429
    expect((await a.acquire("render")).waitedMs).toBe(0);
    waits.length = 0;
    await a.observe("render", {
      rateLimit: { limit: 100, remaining: 0, resetAt: clock.t + 30_000, observedAt: clock.t },
    });
    const r = await b.acquire("render");
    expect(r.waitedMs).toBeGreaterThanOrEqual(30_000);
  });

  it("spreads the waits of processes that find the window full", async () => {
    let seed = 7;
    const lcg = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const { clock, make } = simulated({ random: lcg });
    const t0 = clock.t;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      clock.t = t0; // five processes meeting the same pause
      await make().observe("status", { retryAfterMs: 10_000 });
      await make().acquire("status", { onWait: (w) => seen.push(w.waitMs) });
    }
    expect(seen).toHaveLength(5);
    for (const w of seen) expect(w).toBeGreaterThanOrEqual(10_000);
    expect(new Set(seen).size).toBe(5);
    expect(Math.max(...seen) - Math.min(...seen)).toBeGreaterThan(200);
  });

  it("stops waiting when the signal fires", async () => {
    const b = new SharedBudget(KEY, { dir });
    await b.observe("render", { retryAfterMs: 60_000 });
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    await expect(b.acquire("render", { signal: ctl.signal })).rejects.toMatchObject({ code: "aborted" });
  });
});
