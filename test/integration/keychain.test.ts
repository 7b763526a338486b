/**
 * The credential store against a real Secret Service (gnome-keyring under dbus-run-session,
 * GIGAREELS_TEST_KEYRING=1, see .ci/run), checked from outside our code with secret-tool;
 * and the same operations in a process without D-Bus, which must fall back to the file
 * with a visible warning. Each test has its own config folder and unique profile names.
 */
import { readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  deleteCredentials,
  readProfileOffline,
  resolveApiKey,
  saveCredentials,
} from "../../src/lib/credentials/index.js";
import { cleanEnv, expectNoFullKey, tempConfigDir } from "../helpers/cli.js";
import {
  assertBuilt,
  assertKeyringUsable,
  describeKeyring,
  skipWithoutKeytar,
  envWithoutDbus,
  randomKey,
  runStoreOp,
  secretToolClear,
  secretToolLookup,
  uniqueProfile,
} from "../helpers/keyring.js";

let dir: string;
let cleanup: () => void;
let warnings: string[];
const created: string[] = [];
const opts = () => ({
  env: { GIGAREELS_CONFIG_DIR: dir } as NodeJS.ProcessEnv,
  onWarning: (m: string) => warnings.push(m),
});
const profile = (p = "kc") => {
  const name = uniqueProfile(p);
  created.push(name);
  return name;
};
const fileText = () => readFileSync(join(dir, "credentials.json"), "utf8");

beforeEach(() => {
  ({ dir, cleanup } = tempConfigDir());
  warnings = [];
});
afterEach(() => cleanup());

describeKeyring("keychain (real Secret Service)", () => {
  beforeAll(() => {
    assertKeyringUsable();
    assertBuilt();
  });
  afterAll(() => {
    for (const p of created) secretToolClear(p);
  });

  it("a write puts the key in the keychain (seen by secret-tool) and only metadata in the file; a delete removes it", async () => {
    const p = profile();
    const key = randomKey();
    const r = await saveCredentials(
      { profile: p, key, baseUrl: "https://gigareels.com", keyId: "key_1" },
      opts(),
    );
    expect(r.location).toBe("keychain");
    expect(r.fallbackWarning).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(secretToolLookup(p)).toBe(key);
    expectNoFullKey(fileText(), key);
    expect(JSON.parse(fileText()).profiles[p]).toMatchObject({
      keyLocation: "keychain",
      keyLast4: key.slice(-4),
    });
    expect(statSync(join(dir, "credentials.json")).mode & 0o777).toBe(0o600);

    const found = await resolveApiKey({ ...opts(), profile: p });
    expect(found).toMatchObject({
      key,
      source: "keychain",
      origin: `OS keychain (service gigareels, account ${p})`,
      baseUrl: "https://gigareels.com",
    });
    expect(await readProfileOffline({ ...opts(), profile: p })).toMatchObject({ keyLast4: key.slice(-4) });

    const d = await deleteCredentials({ profile: p }, opts());
    expect(d).toMatchObject({ fileProfiles: [p], keychainProfiles: [p], warnings: [] });
    expect(secretToolLookup(p)).toBeNull();
    expect(await resolveApiKey({ ...opts(), profile: p })).toBeNull();
  });

  it("keeps two profiles' keys side by side as separate items", async () => {
    const prod = profile("prod");
    const local = profile("local");
    const k1 = randomKey();
    const k2 = randomKey();
    await saveCredentials({ profile: prod, key: k1, baseUrl: "https://gigareels.com" }, opts());
    await saveCredentials({ profile: local, key: k2, baseUrl: "http://127.0.0.1:4010" }, opts());
    expect(secretToolLookup(prod)).toBe(k1);
    expect(secretToolLookup(local)).toBe(k2);
    expect((await resolveApiKey({ ...opts(), profile: prod }))?.key).toBe(k1);
    expect(await resolveApiKey({ ...opts(), profile: local })).toMatchObject({
      key: k2,
      baseUrl: "http://127.0.0.1:4010",
    });
    expectNoFullKey(fileText(), k1, k2);
    await deleteCredentials({ profile: prod }, opts());
    expect(secretToolLookup(prod)).toBeNull();
    expect(secretToolLookup(local)).toBe(k2);
    await deleteCredentials({ profile: local }, opts());
    expect(secretToolLookup(local)).toBeNull();
  });

  it("the compiled store in a subprocess writes, reads and deletes through the keychain, printing no key", async () => {
    const p = profile("sub");
    const key = randomKey();
    const env = cleanEnv({ GIGAREELS_CONFIG_DIR: dir, GR_TEST_KEY: key });
    const save = await runStoreOp(
      `c.saveCredentials({ profile: ${JSON.stringify(p)}, key, baseUrl: "https://x" }, o)`,
      env,
    );
    expect(save.code).toBe(0);
    expect(save.result).toMatchObject({ location: "keychain" });
    expect(save.stderr).toBe("");
    expect(secretToolLookup(p)).toBe(key);
    const res = await runStoreOp(
      `c.resolveApiKey({ ...o, profile: ${JSON.stringify(p)} }).then((r) => r && { source: r.source, last4: r.key.slice(-4) })`,
      env,
    );
    expect(res.result).toEqual({ source: "keychain", last4: key.slice(-4) });
    const del = await runStoreOp(`c.deleteCredentials({ profile: ${JSON.stringify(p)} }, o)`, env);
    expect(del.result).toMatchObject({ keychainProfiles: [p] });
    expect(secretToolLookup(p)).toBeNull();
    expectNoFullKey(save.stdout + save.stderr + res.stdout + res.stderr + del.stdout + del.stderr, key);
  });

  it("without D-Bus, a profile whose key is in the keychain gives a visible warning, not a silent miss", async () => {
    const p = profile("nodbus");
    const key = randomKey();
    await saveCredentials({ profile: p, key, baseUrl: "https://x" }, opts());
    const r = await runStoreOp(
      `c.resolveApiKey({ ...o, profile: ${JSON.stringify(p)} })`,
      envWithoutDbus({ GIGAREELS_CONFIG_DIR: dir }),
    );
    expect(r.code).toBe(0);
    expect(r.result).toBeNull();
    expect(r.stderr).toMatch(
      new RegExp(`warning: Could not read the key of profile "${p}" from the OS keychain`),
    );
    expect(secretToolLookup(p)).toBe(key); // untouched
    expectNoFullKey(r.stdout + r.stderr, key);
  });
});

describe.runIf(process.platform === "linux")("keychain unreachable (no D-Bus): file fallback", () => {
  beforeAll(() => assertBuilt());

  it("save falls back to the file with one visible warning; resolve and delete work from the file", async () => {
    const p = profile("fallback");
    const key = randomKey();
    const env = envWithoutDbus({ GIGAREELS_CONFIG_DIR: dir, GR_TEST_KEY: key });
    const path = join(dir, "credentials.json");

    const save = await runStoreOp(
      `c.saveCredentials({ profile: ${JSON.stringify(p)}, key, baseUrl: "https://x" }, o)`,
      env,
    );
    expect(save.code).toBe(0);
    expect(save.result).toMatchObject({ location: "file", path });
    const lines = save.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: OS keychain unavailable \(.+\): API key saved in plain text in /);
    expect(lines[0]).toContain(path);
    expect(JSON.parse(readFileSync(path, "utf8")).profiles[p]).toMatchObject({
      keyLocation: "file",
      apiKey: key,
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    if (process.env.GIGAREELS_TEST_KEYRING === "1") expect(secretToolLookup(p)).toBeNull();

    const res = await runStoreOp(
      `c.resolveApiKey({ ...o, profile: ${JSON.stringify(p)} }).then((r) => r && { source: r.source, origin: r.origin })`,
      env,
    );
    expect(res.result).toEqual({ source: "file", origin: path });
    expect(res.stderr).toBe("");

    const del = await runStoreOp(`c.deleteCredentials({ profile: ${JSON.stringify(p)} }, o)`, env);
    expect(del.result).toMatchObject({ fileProfiles: [p], keychainProfiles: [], fileRemoved: true });
    expectNoFullKey(save.stdout + save.stderr + res.stdout + res.stderr + del.stdout + del.stderr, key);
  });

  // keytar must load to block on the silent peer (without it the save falls back at once).
  it.skipIf(skipWithoutKeytar("the keychain time-out test"))(
    "a D-Bus peer that never answers: the call times out, the key goes to the file, and the process still exits",
    async () => {
      // A unix socket that accepts and never speaks: keytar (libsecret) blocks on it for good.
      const sock = join(dir, "silent.sock");
      const server = createServer(() => {}).listen(sock);
      await new Promise((r) => server.once("listening", r));
      try {
        const p = profile("hung");
        const env = envWithoutDbus({
          GIGAREELS_CONFIG_DIR: join(dir, "cfg"),
          GR_TEST_KEY: randomKey(),
          DBUS_SESSION_BUS_ADDRESS: `unix:path=${sock}`,
        });
        const r = await runStoreOp(
          `c.saveCredentials({ profile: ${JSON.stringify(p)}, key, baseUrl: "https://x" }, { ...o, keychainTimeoutMs: 500 })`,
          env,
          { timeoutMs: 20_000 },
        );
        expect(r.code).toBe(0); // exited by itself (a killed process has code null)
        expect(r.result).toMatchObject({ location: "file" });
        expect(r.stderr).toMatch(/did not answer within 500 ms\): API key saved in plain text in /);
      } finally {
        server.close();
      }
    },
  );

  it("GIGAREELS_CREDENTIAL_STORE=keychain without D-Bus is an error, not a plain-text file", async () => {
    const p = profile("strict");
    const env = envWithoutDbus({
      GIGAREELS_CONFIG_DIR: dir,
      GR_TEST_KEY: randomKey(),
      GIGAREELS_CREDENTIAL_STORE: "keychain",
    });
    const r = await runStoreOp(
      `c.saveCredentials({ profile: ${JSON.stringify(p)}, key, baseUrl: "https://x" }, o)`,
      env,
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^error keychain_unavailable: The OS keychain is not available/);
    expect(() => statSync(join(dir, "credentials.json"))).toThrow();
  });
});
