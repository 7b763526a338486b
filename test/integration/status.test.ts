import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { formatStatus } from "../../src/lib/account/format.js";
import { type StatusOptions, status } from "../../src/lib/account/status.js";
import {
  overallExitCode,
  type StatusReportWithExit,
  statusWithExitCodes,
} from "../../src/lib/cli/report-codes.js";
import { type KeytarLike, saveCredentials } from "../../src/lib/credentials/index.js";
import { stubServer } from "../helpers/stub-server.js";
import { expectNoFullKey, useTempConfig } from "../helpers/cli.js";
import { startEmulator, useEmulator } from "../helpers/emulator.js";
import { createTestCa } from "../helpers/tls-ca.js";
import { closedPort } from "../helpers/proxy.js";

const emulator = useEmulator({ rateLimits: false });
const config = useTempConfig();
let keytar: FakeKeytar;
/** Every full key a test used: none may appear in any report. */
let keys: string[];

beforeEach(() => {
  keytar = new FakeKeytar();
  keys = [];
});

const DAY = 86_400_000;

/** In-memory keychain; counts calls so a test can prove the keychain was not touched. */
class FakeKeytar implements KeytarLike {
  items = new Map<string, string>();
  calls = 0;
  async getPassword(service: string, account: string) {
    this.calls++;
    return this.items.get(`${service}/${account}`) ?? null;
  }
  async setPassword(service: string, account: string, password: string) {
    this.calls++;
    this.items.set(`${service}/${account}`, password);
  }
  async deletePassword(service: string, account: string) {
    this.calls++;
    return this.items.delete(`${service}/${account}`);
  }
  async findCredentials() {
    this.calls++;
    return [];
  }
}

function newKey(options?: Parameters<ReturnType<typeof emulator>["createKey"]>[0]): string {
  const k = emulator().createKey(options);
  keys.push(k);
  return k;
}

/**
 * Runs status (with the exit codes the CLI adds to its report) and checks that neither the
 * report nor its human form holds a full key.
 */
async function run(options: StatusOptions = {}): Promise<StatusReportWithExit> {
  const report = await status({
    configDir: config.dir,
    env: {},
    credentials: { keytar },
    refreshMetadata: true,
    ...options,
  });
  expectNoFullKey(JSON.stringify(report) + formatStatus(report), ...keys);
  return statusWithExitCodes(report);
}

async function store(
  key: string,
  where: "file" | "keychain",
  profile = "default",
  extra: { baseUrl?: string; createdAt?: string } = {},
) {
  await saveCredentials(
    { profile, key, baseUrl: extra.baseUrl ?? emulator().url, store: where, createdAt: extra.createdAt },
    { configDir: config.dir, env: {}, keytar },
  );
}

describe("status: where the key comes from", () => {
  it("credentials.json (file store): valid, with the account, plan, key id, age and rate-limit figures", async () => {
    const key = newKey({ email: "ada@example.com", name: "Ada" });
    await store(key, "file");
    const r = await run();
    expect(r).toMatchObject({ version: 1, offline: false, ok: true, exitCode: 0, activeProfile: "default" });
    expect(r.credentialsFile).toBe(config.credentialsFile());
    const p = r.profiles[0]!;
    expect(p).toMatchObject({
      profile: "default",
      active: true,
      authenticated: true,
      key: {
        found: true,
        source: "file",
        origin: config.credentialsFile(),
        masked: `giga_****${key.slice(-4)}`,
        id: emulator().keyInfo(key)!.id,
        ageDays: 0,
        rotationDue: false,
      },
      baseUrl: emulator().url,
      baseUrlSource: "profile",
      host: new URL(emulator().url).host,
      account: { email: "ada@example.com", name: "Ada", plan: "pro" },
      check: { result: "valid", httpStatus: 200, reason: null },
      fix: [],
      exitCode: 0,
    });
    expect(p.key.createdAt).toBe(emulator().keyInfo(key)!.createdAt);
    expect(p.check.rateLimit).toMatchObject({ limit: expect.any(Number), remaining: expect.any(Number) });
    expect(Date.parse(p.check.rateLimit!.resetAt!)).toBeGreaterThan(Date.now() - 1000);
    expect(p.warnings.map((w) => w.code)).toEqual(["base-url-http"]);
    const text = formatStatus(r);
    expect(text).toContain(`✓ Logged in to ${p.host} as ada@example.com (Ada, plan pro)`);
    expect(text).toContain(`Key: giga_****${key.slice(-4)} from the credentials file ${r.credentialsFile}`);
    expect(text).toMatch(/Rate limit: \d+ of \d+ requests left, resets in \d+ s/);
  });

  it("the OS keychain: the item named in credentials.json", async () => {
    const key = newKey();
    await store(key, "keychain");
    const r = await run();
    expect(r.profiles[0]).toMatchObject({
      authenticated: true,
      key: {
        source: "keychain",
        origin: "OS keychain (service gigareels, account default)",
        masked: `giga_****${key.slice(-4)}`,
      },
      check: { result: "valid" },
    });
    expect(keytar.calls).toBeGreaterThan(0);
    expect(formatStatus(r)).toContain("from the OS keychain (service gigareels, account default)");
  });

  it("GIGAREELS_API_KEY (with GIGAREELS_BASE_URL), and it says which stored key it overrides", async () => {
    const stored = newKey();
    await store(stored, "file");
    const key = newKey({ email: "env@example.com" });
    const r = await run({ env: { GIGAREELS_API_KEY: key, GIGAREELS_BASE_URL: emulator().url } });
    const p = r.profiles[0]!;
    expect(p).toMatchObject({
      key: { source: "env", origin: "GIGAREELS_API_KEY", masked: `giga_****${key.slice(-4)}` },
      baseUrlSource: "GIGAREELS_BASE_URL",
      account: { email: "env@example.com" },
      check: { result: "valid" },
      exitCode: 0,
    });
    expect(p.warnings.find((w) => w.code === "env-overrides-profile")?.message).toContain(
      `giga_****${stored.slice(-4)}`,
    );
  });

  it("a key from GIGAREELS_API_KEY goes to the default base URL, not the profile's (as the SDK does)", async () => {
    await store(newKey(), "file");
    const key = newKey();
    const r = await run({
      env: { GIGAREELS_API_KEY: key },
      client: { fetch: async () => new Response('{"id":"a","email":"x@y.z"}', { status: 200 }) },
    });
    expect(r.profiles[0]).toMatchObject({ baseUrl: "https://gigareels.com", baseUrlSource: "default" });
  });

  it("the file GIGAREELS_API_KEY_FILE names: its final line break is normal, other whitespace is a warning", async () => {
    const key = newKey();
    const path = join(config.dir, "key.txt");
    writeFileSync(path, `${key}\n`);
    const env = { GIGAREELS_API_KEY_FILE: path, GIGAREELS_BASE_URL: emulator().url };
    let r = await run({ env });
    expect(r.profiles[0]).toMatchObject({
      key: { source: "env-file", origin: path },
      check: { result: "valid" },
    });
    expect(r.profiles[0]!.warnings.map((w) => w.code)).not.toContain("key-whitespace");

    writeFileSync(path, `  ${key} \n\n`);
    r = await run({ env });
    expect(r.profiles[0]!.check.result).toBe("valid");
    expect(r.profiles[0]!.warnings.map((w) => w.code)).toContain("key-whitespace");
  });

  it("no key anywhere: not authenticated (exit 4), with the fix", async () => {
    const r = await run();
    expect(r).toMatchObject({ ok: false, exitCode: 4 });
    expect(r.profiles[0]).toMatchObject({
      authenticated: false,
      key: { found: false, source: null, masked: null },
      check: { result: "skipped", reason: "no-key" },
      exitCode: 4,
    });
    expect(r.profiles[0]!.fix[0]).toContain("gigareels login");
    expect(formatStatus(r)).toContain("X Not logged in: no API key found");
  });

  it("a profile named by --profile gets the fix with --profile", async () => {
    const r = await run({ profile: "staging" });
    expect(r.activeProfile).toBe("staging");
    expect(r.profiles[0]!.fix[0]).toContain("gigareels login --profile staging");
  });
});

describe("status: what the server says", () => {
  it("401 for a stored key: rejected (exit 4), fix is gigareels login", async () => {
    const key = newKey();
    await store(key, "file");
    emulator().revokeKey(key);
    const r = await run();
    expect(r.exitCode).toBe(4);
    expect(r.profiles[0]).toMatchObject({
      authenticated: false,
      check: { result: "rejected", httpStatus: 401, reason: "unauthorized" },
      exitCode: 4,
    });
    expect(r.profiles[0]!.fix).toEqual(["Run `gigareels login` to store a new key"]);
    expect(formatStatus(r)).toContain("rejected the key: 401 Invalid API key");
  });

  it("401 for GIGAREELS_API_KEY: the fix is to unset the variable", async () => {
    const key = newKey();
    emulator().revokeKey(key);
    const r = await run({ env: { GIGAREELS_API_KEY: key, GIGAREELS_BASE_URL: emulator().url } });
    expect(r.profiles[0]!.check).toMatchObject({ result: "rejected", httpStatus: 401 });
    expect(r.profiles[0]!.fix[0]).toMatch(/^Unset GIGAREELS_API_KEY/);
  });

  it("401 for GIGAREELS_API_KEY_FILE: the fix names the variable and the file", async () => {
    const key = newKey();
    emulator().revokeKey(key);
    const path = join(config.dir, "key.txt");
    writeFileSync(path, key);
    const r = await run({ env: { GIGAREELS_API_KEY_FILE: path, GIGAREELS_BASE_URL: emulator().url } });
    expect(r.profiles[0]!.fix[0]).toBe(`Unset GIGAREELS_API_KEY_FILE, or put a valid key in ${path}`);
  });

  it("403: rejected (exit 4), with the plan hint", async () => {
    const srv = await stubServer(
      403,
      '{"error":"Insufficient permissions for this operation"}',
      "application/json",
    );
    try {
      const key = newKey();
      const r = await run({ env: { GIGAREELS_API_KEY: key, GIGAREELS_BASE_URL: srv.url } });
      expect(r.exitCode).toBe(4);
      expect(r.profiles[0]).toMatchObject({
        authenticated: false,
        check: { result: "rejected", httpStatus: 403, reason: "forbidden" },
      });
      expect(r.profiles[0]!.fix[0]).toContain("plan");
      expect(r.profiles[0]!.fix[1]).toMatch(/^Unset GIGAREELS_API_KEY/);
    } finally {
      await srv.stop();
    }
  });

  it("connection refused: unreachable (exit 5)", async () => {
    const key = newKey();
    const port = await closedPort();
    const r = await run({ env: { GIGAREELS_API_KEY: key }, baseUrl: `http://127.0.0.1:${port}` });
    expect(r.exitCode).toBe(5);
    expect(r.profiles[0]).toMatchObject({
      authenticated: null,
      baseUrlSource: "--base-url",
      check: { result: "unreachable", reason: "refused", httpStatus: null },
      exitCode: 5,
    });
    expect(formatStatus(r)).toContain("Could not reach 127.0.0.1");
    expect(formatStatus(r)).toContain("the connection was refused");
  });

  it("DNS failure: unreachable, reason dns", async () => {
    const dnsFailure = async () => {
      const cause = Object.assign(new Error("getaddrinfo ENOTFOUND api.gigareels.invalid"), {
        code: "ENOTFOUND",
      });
      throw Object.assign(new TypeError("fetch failed"), { cause });
    };
    const r = await run({
      env: { GIGAREELS_API_KEY: newKey() },
      baseUrl: "https://api.gigareels.invalid",
      client: { fetch: dnsFailure, maxRetries: 0 },
    });
    expect(r.profiles[0]!.check).toMatchObject({ result: "unreachable", reason: "dns" });
    expect(r.exitCode).toBe(5);
    expect(formatStatus(r)).toContain("the host name could not be resolved (DNS)");
  });

  it("no answer in time: unreachable, reason timeout", async () => {
    const remove = emulator().addFault({ route: "/api/me", fault: { kind: "hang" } });
    try {
      const r = await run({
        env: { GIGAREELS_API_KEY: newKey(), GIGAREELS_BASE_URL: emulator().url },
        client: { timeoutMs: 300, deadlineMs: 1000, maxRetries: 0 },
      });
      expect(r.profiles[0]!.check).toMatchObject({ result: "unreachable", reason: "timeout" });
      expect(r.exitCode).toBe(5);
    } finally {
      remove();
    }
  });

  it("a certificate the system does not trust: unreachable, reason tls", async () => {
    // A certificate from a test CA that is not in NODE_EXTRA_CA_CERTS here.
    const ca = createTestCa();
    const tls = await startEmulator({ port: 0, tls: ca.tls });
    try {
      keys.push(tls.keys[0]!);
      const r = await run({ env: { GIGAREELS_API_KEY: tls.keys[0]!, GIGAREELS_BASE_URL: tls.url } });
      expect(tls.url.startsWith("https://")).toBe(true);
      expect(r.profiles[0]!.check).toMatchObject({ result: "unreachable", reason: "tls" });
      expect(r.exitCode).toBe(5);
      expect(formatStatus(r)).toContain("the TLS handshake failed");
    } finally {
      await tls.stop();
      ca.cleanup();
    }
  });

  it("an HTML error page (a proxy whose app is down): unreachable, server-error (exit 5)", async () => {
    const remove = emulator().addFault({ route: "/api/me", fault: { kind: "html" } });
    try {
      const r = await run({
        env: { GIGAREELS_API_KEY: newKey(), GIGAREELS_BASE_URL: emulator().url },
        client: { maxRetries: 0 },
      });
      expect(r.profiles[0]!.check).toMatchObject({
        result: "unreachable",
        reason: "server-error",
        httpStatus: 502,
      });
      expect(r.profiles[0]!.check.message).toContain("text/html");
      expect(r.exitCode).toBe(5);
    } finally {
      remove();
    }
  });

  it("an HTML page with 200 (a captive portal, a wrong base URL): unreachable, not-json (exit 5)", async () => {
    const srv = await stubServer(200, "<html><body>Welcome to the hotel Wi-Fi</body></html>", "text/html");
    try {
      const r = await run({ env: { GIGAREELS_API_KEY: newKey(), GIGAREELS_BASE_URL: srv.url } });
      expect(r.profiles[0]!.check).toMatchObject({ result: "unreachable", reason: "not-json" });
      expect(r.profiles[0]!.fix[0]).toContain(`Check the base URL (${srv.url})`);
      expect(r.exitCode).toBe(5);
    } finally {
      await srv.stop();
    }
  });

  it("keeps what the check learnt (account, key id, creation time) in credentials.json for --offline", async () => {
    const key = newKey({
      email: "kept@example.com",
      name: "Kept",
      createdAt: new Date(Date.now() - 10 * DAY),
    });
    await store(key, "file");
    const before = config.profile();
    expect(before.account).toBeUndefined();
    await run();
    const after = config.profile();
    expect(after.account).toMatchObject({ email: "kept@example.com", name: "Kept" });
    expect(after.keyId).toBe(emulator().keyInfo(key)!.id);
    expect(after.createdAt).toBe(emulator().keyInfo(key)!.createdAt);
    const offline = await run({ offline: true });
    expect(offline.profiles[0]).toMatchObject({
      account: { email: "kept@example.com", name: "Kept", plan: null },
      key: { ageDays: 10 },
    });
  });
});

describe("status: common mistakes", () => {
  it("a key without the giga_ prefix: a warning, not sent, exit 4", async () => {
    const bad = `sk_live_${"x".repeat(29)}`;
    keys.push(bad);
    const before = emulator().requests.length;
    const r = await run({ env: { GIGAREELS_API_KEY: bad, GIGAREELS_BASE_URL: emulator().url } });
    expect(emulator().requests.length).toBe(before);
    expect(r.profiles[0]).toMatchObject({
      key: { masked: `giga_****${bad.slice(-4)}` },
      check: { result: "rejected", reason: "malformed-key" },
      exitCode: 4,
    });
    expect(r.profiles[0]!.warnings.map((w) => w.code)).toContain("key-prefix");
  });

  it("a key of the wrong length: key-format", async () => {
    const bad = `giga_${"a".repeat(30)}`;
    keys.push(bad);
    const r = await run({ env: { GIGAREELS_API_KEY: bad } });
    expect(r.profiles[0]!.warnings.map((w) => w.code)).toContain("key-format");
    expect(r.exitCode).toBe(4);
  });

  it("GIGAREELS_API_KEY with spaces around it: a warning, and the trimmed key still works", async () => {
    const key = newKey();
    const r = await run({ env: { GIGAREELS_API_KEY: ` ${key}\n`, GIGAREELS_BASE_URL: emulator().url } });
    expect(r.profiles[0]!.check.result).toBe("valid");
    expect(r.profiles[0]!.warnings.map((w) => w.code)).toContain("key-whitespace");
  });

  it("an http base URL outside loopback: a warning, the key is not sent, exit 2", async () => {
    const r = await run({ env: { GIGAREELS_API_KEY: newKey() }, baseUrl: "http://api.example.com" });
    expect(r.profiles[0]).toMatchObject({
      check: { result: "error", reason: "invalid-base-url" },
      exitCode: 2,
    });
    expect(r.profiles[0]!.warnings.map((w) => w.code)).toContain("base-url-http");
    expect(r.exitCode).toBe(2);
  });

  it("a base URL that is not one, with no key to check: still said (base-url-invalid), with its fix", async () => {
    const r = await run({ env: {}, baseUrl: "ftp://x" });
    expect(r.profiles[0]).toMatchObject({ check: { reason: "no-key" }, exitCode: 4 });
    expect(r.profiles[0]!.warnings).toContainEqual({
      code: "base-url-invalid",
      message:
        "Invalid base URL: --base-url uses ftp: (https is required). Use a URL such as https://gigareels.com",
    });
  });

  it("an https base URL gives no base-url warning", async () => {
    const r = await run({
      env: { GIGAREELS_API_KEY: newKey() },
      client: { fetch: async () => new Response('{"id":"a","email":"x@y.z"}', { status: 200 }) },
    });
    expect(r.profiles[0]!.warnings).toEqual([]);
  });
});

describe("status: key age and rotation", () => {
  it("past 90 days: the rotation reminder (online, the server's creation time)", async () => {
    const key = newKey({ createdAt: new Date(Date.now() - 120 * DAY) });
    await store(key, "file");
    const r = await run();
    expect(r.profiles[0]!.key).toMatchObject({ ageDays: 120, rotationDue: true });
    const w = r.profiles[0]!.warnings.find((x) => x.code === "key-rotation");
    expect(w?.message).toContain("120 days old");
    expect(w?.message).toContain("gigareels login");
    expect(r.exitCode).toBe(0);
    expect(formatStatus(r)).toMatch(/! The key is 120 days old/);
  });

  it("at 90 days exactly, no reminder yet; at 91, one", async () => {
    const now = Date.now();
    const at90 = new Date(now - 90 * DAY).toISOString();
    await store(newKey(), "file", "default", { createdAt: at90 });
    let r = await run({ offline: true, now: () => now });
    expect(r.profiles[0]!.key).toMatchObject({ createdAt: at90, ageDays: 90, rotationDue: false });
    r = await run({ offline: true, now: () => now + DAY });
    expect(r.profiles[0]!.key).toMatchObject({ ageDays: 91, rotationDue: true });
    expect(r.profiles[0]!.warnings.map((w) => w.code)).toContain("key-rotation");
  });

  it("for an environment key, the advice is to create a new key and update the variable", async () => {
    const key = newKey({ createdAt: new Date(Date.now() - 200 * DAY) });
    const r = await run({ env: { GIGAREELS_API_KEY: key, GIGAREELS_BASE_URL: emulator().url } });
    const w = r.profiles[0]!.warnings.find((x) => x.code === "key-rotation");
    expect(w?.message).toContain("put it in GIGAREELS_API_KEY");
  });
});

describe("status --offline", () => {
  it("a stored file key: from credentials.json only, no request, no keychain", async () => {
    const key = newKey();
    await store(key, "file", "default", { createdAt: new Date(Date.now() - 3 * DAY).toISOString() });
    const before = emulator().requests.length;
    const r = await run({ offline: true });
    expect(emulator().requests.length).toBe(before);
    expect(keytar.calls).toBe(0);
    expect(r).toMatchObject({ offline: true, ok: true, exitCode: 0 });
    expect(r.profiles[0]).toMatchObject({
      authenticated: null,
      key: { found: true, source: "file", masked: `giga_****${key.slice(-4)}`, ageDays: 3 },
      check: { result: "skipped", reason: "offline" },
    });
    expect(formatStatus(r)).toContain("- Key not checked (--offline)");
  });

  it("a keychain key: the last four characters from the metadata, the keychain never opened", async () => {
    const key = newKey();
    await store(key, "keychain");
    const calls = keytar.calls;
    const poisoned = () => Promise.reject(new Error("the keychain must not be opened offline"));
    const r = await run({ offline: true, credentials: { keytar: poisoned } });
    expect(keytar.calls).toBe(calls);
    expect(r.profiles[0]).toMatchObject({
      key: { found: true, source: "keychain", masked: `giga_****${key.slice(-4)}` },
      exitCode: 0,
    });
    expect(formatStatus(r)).toContain("not read with --offline");
  });

  it("GIGAREELS_API_KEY and GIGAREELS_API_KEY_FILE are local state too", async () => {
    const key = newKey();
    let r = await run({ offline: true, env: { GIGAREELS_API_KEY: key } });
    expect(r.profiles[0]!.key).toMatchObject({ source: "env", masked: `giga_****${key.slice(-4)}` });
    const path = join(config.dir, "key.txt");
    writeFileSync(path, `${key}\n`);
    r = await run({ offline: true, env: { GIGAREELS_API_KEY_FILE: path } });
    expect(r.profiles[0]!.key).toMatchObject({ source: "env-file", origin: path });
    expect(r.exitCode).toBe(0);
  });

  it("no key: exit 4", async () => {
    const r = await run({ offline: true });
    expect(r).toMatchObject({ exitCode: 4, ok: false });
    expect(r.profiles[0]!.key.found).toBe(false);
  });

  it("a key malformed in the environment is found offline too (exit 4)", async () => {
    const r = await run({ offline: true, env: { GIGAREELS_API_KEY: "not-a-key-at-all" } });
    expect(r.profiles[0]!.check).toMatchObject({ result: "rejected", reason: "malformed-key" });
    expect(r.exitCode).toBe(4);
  });

  it("a broken credentials.json does not hide the environment's key", async () => {
    writeFileSync(config.credentialsFile(), "{ not json");
    const key = newKey();
    const r = await run({ offline: true, env: { GIGAREELS_API_KEY: key } });
    expect(r.exitCode).toBe(0);
    expect(r.profiles[0]!.warnings.map((w) => w.code)).toContain("credentials-file");
    await expect(run({ offline: true })).rejects.toMatchObject({ code: "credentials_corrupt" });
  });
});

describe("status --all", () => {
  it("every stored profile, the active one first; the worst outcome decides the exit code", async () => {
    const good = newKey({ email: "good@example.com" });
    const revoked = newKey();
    await store(good, "file", "default");
    await store(revoked, "keychain", "staging");
    emulator().revokeKey(revoked);
    const r = await run({ all: true });
    expect(r.profiles.map((p) => [p.profile, p.active, p.check.result, p.key.source])).toEqual([
      ["default", true, "valid", "file"],
      ["staging", false, "rejected", "keychain"],
    ]);
    expect(r.exitCode).toBe(4);
    expect(r.ok).toBe(false);
    expect(r.profiles[1]!.fix[0]).toContain("gigareels login --profile staging");
    const text = formatStatus(r);
    expect(text).toContain("(profile default, active)");
    expect(text).toContain("(profile staging)");
  });

  it("with a key in the environment: that key first (active), then every stored profile", async () => {
    const stored = newKey();
    await store(stored, "file", "default");
    const envKey = newKey();
    const r = await run({
      all: true,
      env: { GIGAREELS_API_KEY: envKey, GIGAREELS_BASE_URL: emulator().url },
    });
    expect(r.profiles.map((p) => [p.profile, p.active, p.key.source, p.check.result])).toEqual([
      ["default", true, "env", "valid"],
      ["default", false, "file", "valid"],
    ]);
    expect(r.exitCode).toBe(0);
  });

  it("--all --offline lists every profile from credentials.json without a request", async () => {
    await store(newKey(), "file", "a");
    await store(newKey(), "keychain", "b");
    const before = emulator().requests.length;
    const calls = keytar.calls;
    const r = await run({ all: true, offline: true });
    expect(emulator().requests.length).toBe(before);
    expect(keytar.calls).toBe(calls);
    // "a" was stored first, so it is the active profile.
    expect(r.profiles.map((p) => [p.profile, p.active, p.key.source])).toEqual([
      ["a", true, "file"],
      ["b", false, "keychain"],
    ]);
    expect(r.exitCode).toBe(0);
  });

  it("no profile at all: the active one, not logged in", async () => {
    const r = await run({ all: true });
    expect(r.profiles.map((p) => [p.profile, p.key.found])).toEqual([["default", false]]);
    expect(r.exitCode).toBe(4);
  });
});

describe("overallExitCode", () => {
  it("not authenticated before unreachable before usage before failure", () => {
    expect(overallExitCode([])).toBe(0);
    expect(overallExitCode([0, 0])).toBe(0);
    expect(overallExitCode([0, 5, 4])).toBe(4);
    expect(overallExitCode([1, 5])).toBe(5);
    expect(overallExitCode([1, 2])).toBe(2);
    expect(overallExitCode([0, 1])).toBe(1);
  });
});
