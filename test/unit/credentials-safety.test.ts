/**
 * Credentials writes under failure (issue 16, point 4): keychain and file updated so that a
 * failure in either leaves the previous state readable; a lock of a dead process or an empty
 * lock file does not block; temporary files of killed writes are removed by the next write
 * and by logout; disk errors are one line naming the file and the fix.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exitCodeFor } from "../../src/lib/cli/exit-codes.js";
import { oneLine } from "../../src/lib/cli/output.js";
import {
  CredentialsUnreadableError,
  type CredentialStoreOptions,
  deleteCredentials,
  KeychainUnavailableError,
  type KeytarLike,
  resolveApiKey,
  saveCredentials,
} from "../../src/lib/credentials/index.js";
import { LockTimeoutError } from "../../src/lib/fs/index.js";
import { expectNoFullKey, tempConfigDir } from "../helpers/cli.js";

const OLD = `giga_${"O".repeat(28)}old1`;
const NEW = `giga_${"N".repeat(28)}new2`;

class FakeKeytar implements KeytarLike {
  items = new Map<string, string>();
  failSet = false;
  async getPassword(service: string, account: string) {
    return this.items.get(`${service}/${account}`) ?? null;
  }
  async setPassword(service: string, account: string, password: string) {
    if (this.failSet) throw new Error("The name org.freedesktop.secrets was not provided");
    this.items.set(`${service}/${account}`, password);
  }
  async deletePassword(service: string, account: string) {
    return this.items.delete(`${service}/${account}`);
  }
  async findCredentials(service: string) {
    return [...this.items]
      .filter(([k]) => k.startsWith(`${service}/`))
      .map(([k, password]) => ({ account: k.slice(service.length + 1), password }));
  }
}

let dir: string;
let cleanup: () => void;
let keytar: FakeKeytar;
let warnings: string[];
let file: string;

function opts(more: Partial<CredentialStoreOptions> = {}): CredentialStoreOptions {
  return {
    env: { GIGAREELS_CONFIG_DIR: dir } as NodeJS.ProcessEnv,
    keytar,
    keychainTimeoutMs: 500,
    onWarning: (m: string) => warnings.push(m),
    ...more,
  };
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid!;
}

const save = (key: string, more: Partial<CredentialStoreOptions> = {}) =>
  saveCredentials({ profile: "default", key, baseUrl: "https://gigareels.com" }, opts(more));

beforeEach(() => {
  ({ dir, cleanup } = tempConfigDir());
  dir = join(dir, "cfg");
  keytar = new FakeKeytar();
  warnings = [];
  file = join(dir, "credentials.json");
});
afterEach(() => {
  expectNoFullKey(warnings.join("\n"), OLD, NEW);
  cleanup();
});

describe("keychain and file stay consistent", () => {
  it("a file write that fails after the keychain write puts the previous keychain item back", async () => {
    await save(OLD);
    expect(keytar.items.get("gigareels/default")).toBe(OLD);
    // The file cannot be written: its lock is held by a live process (this one) for the whole save.
    writeFileSync(
      `${file}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), token: "held", at: Date.now() }),
    );
    const err = await save(NEW, { lockTimeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    // The previous state is still what is read: the old key, in the keychain, matching the file.
    expect(keytar.items.get("gigareels/default")).toBe(OLD);
    const found = await resolveApiKey(opts());
    expect(found?.key).toBe(OLD);
    expect(found?.record?.keyLast4).toBe("old1");
  });

  it("with no previous item, the failed save leaves no orphan keychain item", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(
      `${file}.lock`,
      JSON.stringify({ pid: process.pid, host: hostname(), token: "held", at: Date.now() }),
    );
    await expect(save(NEW, { lockTimeoutMs: 150 })).rejects.toBeInstanceOf(LockTimeoutError);
    expect(keytar.items.size).toBe(0);
  });

  it("a keychain that fails (explicit keychain store) leaves file and old item as they were", async () => {
    await save(OLD);
    keytar.failSet = true;
    await expect(save(NEW, { store: "keychain" })).rejects.toBeInstanceOf(KeychainUnavailableError);
    expect((await resolveApiKey(opts()))?.key).toBe(OLD);
  });
});

describe("locks", () => {
  it("a lock left by a dead process is taken over at once", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(
      `${file}.lock`,
      JSON.stringify({ pid: deadPid(), host: hostname(), token: "dead", at: Date.now() }),
    );
    const started = Date.now();
    await save(NEW);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it("an empty lock file (a write that failed on a full disk) does not block for 30 s", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(`${file}.lock`, "");
    const started = Date.now();
    await save(NEW, { lockTimeoutMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await resolveApiKey(opts()))?.key).toBe(NEW);
  });
});

describe("temporary files of killed writes", () => {
  const leftover = () => join(dir, `.credentials.json.${deadPid()}.0123456789ab.tmp`);
  const temps = () => readdirSync(dir).filter((n) => n.endsWith(".tmp"));

  it("are removed by the next write", async () => {
    await save(OLD);
    const tmp = leftover();
    writeFileSync(tmp, JSON.stringify({ apiKey: OLD }), { mode: 0o600 });
    await save(NEW);
    expect(existsSync(tmp)).toBe(false);
    expect(temps()).toEqual([]);
  });

  it("are removed by logout, even when nothing else is stored", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = leftover();
    writeFileSync(tmp, JSON.stringify({ apiKey: OLD }), { mode: 0o600 });
    await deleteCredentials({ all: true }, opts());
    expect(temps()).toEqual([]);
  });

  it("a live writer's file that is not stale is left alone", async () => {
    await save(OLD);
    // the test runner that started this worker is alive: its file may be in use
    const mine = join(dir, `.credentials.json.${process.ppid}.0123456789ab.tmp`);
    writeFileSync(mine, "x");
    await save(NEW);
    expect(existsSync(mine)).toBe(true);
  });
});

describe("disk errors", () => {
  it.each([
    ["ENOSPC", "the disk is full (ENOSPC). Free some space on that disk"],
    ["EDQUOT", "your disk quota is used up (EDQUOT)"],
    ["EROFS", "the file system is read-only (EROFS). Set GIGAREELS_CONFIG_DIR to a writable folder"],
    ["EACCES", 'Make it yours and private (chown "$USER"'],
  ])("%s is one line naming the file and the fix, exit 1", (code, words) => {
    const err = new CredentialsUnreadableError("/home/u/.gigareels/credentials.json", code, "write");
    const line = oneLine(err.message, err.suggestions);
    expect(line).toContain("/home/u/.gigareels/credentials.json");
    expect(line).toContain(words);
    expect(line.split("\n")).toHaveLength(1);
    expect(exitCodeFor(err)).toBe(1);
  });
});
