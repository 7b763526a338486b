import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  configDir,
  ensurePrivateDir,
  LockTimeoutError,
  readJsonFile,
  readJsonFileSync,
  withFileLock,
  withSyncFileLock,
  writeFileAtomic,
  writeFileAtomicSync,
} from "../../src/lib/fs/index.js";
import { lockSightingsDuring } from "../helpers/lock-observer.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gigareels-fs-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (p: string) => statSync(p).mode & 0o777;

/** A lock file as a process of this host that has since exited left it. */
async function writeDeadHoldersLock(lock: string): Promise<void> {
  const child = spawn(process.execPath, ["-e", ""]);
  const deadPid = await new Promise<number>((r) => child.on("exit", () => r(child.pid!)));
  writeFileSync(
    lock,
    JSON.stringify({ pid: deadPid, host: (await import("node:os")).hostname(), token: "t", at: Date.now() }),
  );
}

describe("configDir", () => {
  it("uses GIGAREELS_CONFIG_DIR, else ~/.gigareels", () => {
    expect(configDir({ GIGAREELS_CONFIG_DIR: "/x/y" })).toBe("/x/y");
    expect(configDir({ HOME: "/home/u" })).toMatch(/\.gigareels$/);
    expect(configDir({ GIGAREELS_CONFIG_DIR: "" })).toMatch(/\.gigareels$/);
  });
});

describe("ensurePrivateDir", () => {
  it("creates nested folders 0700 and tightens an existing one", async () => {
    const d = join(dir, "a", "b");
    expect(await ensurePrivateDir(d)).toBe(false);
    expect(mode(d)).toBe(0o700);
    const loose = join(dir, "loose");
    await ensurePrivateDir(loose);
    (await import("node:fs")).chmodSync(loose, 0o755);
    expect(await ensurePrivateDir(loose)).toBe(true);
    expect(mode(loose)).toBe(0o700);
  });
});

describe("writeFileAtomic", () => {
  it("writes the content with mode 0600 (even over a 0644 file) and leaves no temp file", async () => {
    const p = join(dir, "state.json");
    writeFileSync(p, "old", { mode: 0o644 });
    await writeFileAtomic(p, '{"a":1}');
    expect(readFileSync(p, "utf8")).toBe('{"a":1}');
    expect(mode(p)).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["state.json"]);
  });

  it("applies a requested mode despite the umask", async () => {
    const p = join(dir, "m");
    await writeFileAtomic(p, "x", { mode: 0o640 });
    expect(mode(p)).toBe(0o640);
  });

  it("fails cleanly (no temp file left) when the folder is missing", async () => {
    await expect(writeFileAtomic(join(dir, "nope", "f"), "x")).rejects.toMatchObject({ code: "ENOENT" });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("readJsonFile", () => {
  it("tells missing, ok and corrupt apart", async () => {
    expect(await readJsonFile(join(dir, "none.json"))).toEqual({ kind: "missing" });
    writeFileSync(join(dir, "ok.json"), '\uFEFF{"v":2}');
    expect(await readJsonFile(join(dir, "ok.json"))).toMatchObject({ kind: "ok", value: { v: 2 } });
    writeFileSync(join(dir, "bad.json"), "{not json");
    expect(await readJsonFile(join(dir, "bad.json"))).toMatchObject({ kind: "corrupt", text: "{not json" });
  });
});

describe("withFileLock", () => {
  it("serialises concurrent holders (a read-modify-write counter loses no update)", async () => {
    const lock = join(dir, "c.lock");
    const file = join(dir, "c.json");
    writeFileSync(file, "0");
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 40 }, () =>
        withFileLock(lock, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          const n = Number(readFileSync(file, "utf8"));
          await new Promise((r) => setTimeout(r, 1));
          await writeFileAtomic(file, String(n + 1));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(readFileSync(file, "utf8")).toBe("40");
    expect(existsSync(lock)).toBe(false);
  });

  it("returns fn's value and releases the lock when fn throws", async () => {
    const lock = join(dir, "r.lock");
    expect(await withFileLock(lock, () => 42)).toBe(42);
    await expect(
      withFileLock(lock, () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(existsSync(lock)).toBe(false);
  });

  it("takes over a lock whose holder is dead", async () => {
    const lock = join(dir, "d.lock");
    await writeDeadHoldersLock(lock);
    expect(await withFileLock(lock, () => "got it", { timeoutMs: 5000 })).toBe("got it");
    expect(existsSync(lock)).toBe(false);
  });

  it("takes over a lock older than staleMs even when its pid is alive", async () => {
    const lock = join(dir, "old.lock");
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: "h", token: "t", at: 0 }));
    const past = new Date(Date.now() - 60_000);
    (await import("node:fs")).utimesSync(lock, past, past);
    expect(await withFileLock(lock, () => "ok", { staleMs: 30_000, timeoutMs: 5000 })).toBe("ok");
  });

  it("times out with a LockTimeoutError naming the lock when a live holder keeps it", async () => {
    const lock = join(dir, "busy.lock");
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: "other-host", token: "t", at: Date.now() }));
    const err = await withFileLock(lock, () => "never", { timeoutMs: 100, staleMs: 60_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(err.code).toBe("lock_timeout");
    expect(err.message).toContain(lock);
    expect(existsSync(lock)).toBe(true); // someone else's lock is left alone
  });
});

describe("withSyncFileLock", () => {
  it("serialises holders and holds the lock within one turn of the event loop", async () => {
    const lock = join(dir, "s.lock");
    const file = join(dir, "s.json");
    writeFileAtomicSync(file, "0");
    // an observer running between turns of the event loop never sees the lock taken
    const seen = await lockSightingsDuring(lock, () =>
      Promise.all(
        Array.from({ length: 40 }, () =>
          withSyncFileLock(lock, () => {
            const r = readJsonFileSync<number>(file);
            writeFileAtomicSync(file, String((r.kind === "ok" ? r.value : 0) + 1));
          }),
        ),
      ),
    );
    expect(seen).toBe(0);
    expect(readFileSync(file, "utf8")).toBe("40");
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(["s.json"]); // no temporary file left
  });

  it("waits for a holder using withFileLock on the same path, and takes over a dead holder's lock", async () => {
    const lock = join(dir, "m.lock");
    const order: string[] = [];
    const slow = withFileLock(lock, async () => {
      order.push("async in");
      await new Promise((r) => setTimeout(r, 50));
      order.push("async out");
    });
    await new Promise((r) => setTimeout(r, 10));
    await withSyncFileLock(lock, () => order.push("sync"));
    await slow;
    expect(order).toEqual(["async in", "async out", "sync"]);

    await writeDeadHoldersLock(lock);
    expect(await withSyncFileLock(lock, () => "got it", { timeoutMs: 5000 })).toBe("got it");
    expect(existsSync(lock)).toBe(false);
  });

  it("times out with a LockTimeoutError and leaves a live holder's lock alone", async () => {
    const lock = join(dir, "busy.lock");
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: "other-host", token: "t", at: Date.now() }));
    const err = await withSyncFileLock(lock, () => "never", { timeoutMs: 50, staleMs: 60_000 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(existsSync(lock)).toBe(true);
  });
});
