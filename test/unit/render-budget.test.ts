import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  budgetFilePath,
  pruneBudgetFile,
  SharedBudget,
  sanitizeBudgetFile,
} from "../../src/lib/sdk/poll/budget.js";

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

  it("starts fresh from a corrupt or odd file and repairs it", async () => {
    await mkdir(join(dir, "state"), { recursive: true });
    await writeFile(budgetFilePath(KEY, dir), "{not json");
    const b = new SharedBudget(KEY, { dir });
    expect(await b.update({ requestAt: 5 })).toMatchObject({ watchers: 1, shared: true });
    expect((await readState()).version).toBe(1);
    expect(sanitizeBudgetFile({ watchers: { x: { pid: "1" } }, recent: [1, "2"], rateLimit: 3 })).toEqual({
      version: 1,
      watchers: {},
      recent: [1],
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
      recent: [now - 70_000, now - 1000],
    });
    pruneBudgetFile(file, now, "h");
    expect(Object.keys(file.watchers).sort()).toEqual(["alive", "remote"]);
    expect(file.recent).toEqual([now - 1000]);
  });

  it.skipIf(process.getuid?.() === 0 || process.platform === "win32")(
    "works alone when the folder cannot be written",
    async () => {
      await mkdir(join(dir, "state"), { recursive: true });
      await chmod(join(dir, "state"), 0o500);
      const b = new SharedBudget(KEY, { dir });
      const v = await b.update({ requestAt: 123, rateLimit: { limit: 60, remaining: 7, resetAt: 9e12 } });
      expect(v).toMatchObject({
        watchers: 1,
        shared: false,
        recentRequests: [123],
        rateLimit: { remaining: 7 },
      });
      const v2 = await b.update({ requestAt: 124 });
      expect(v2.recentRequests).toEqual([123, 124]);
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
    expect(state.recent).toHaveLength(N * PER); // read-modify-write under the lock lost nothing
    expect((await readdir(join(dir, "state"))).filter((f) => f.endsWith(".lock"))).toEqual([]);
  });
});
