/**
 * logout against the emulator: a key this CLI minted is revoked, a pasted one only forgotten
 * (--revoke revokes it), a key another profile holds is never revoked; --all, already logged
 * out, env key.
 */
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { login } from "../../src/lib/auth/login.js";
import { logout } from "../../src/lib/auth/logout.js";
import { useTempConfig } from "../helpers/cli.js";
import { startEmulator, useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator();
const config = useTempConfig();
let warnings: string[];
beforeEach(() => {
  warnings = [];
});

const env = { GIGAREELS_CREDENTIAL_STORE: "file" };
const credentialsFile = config.credentialsFile;
const profiles = () => Object.keys(config.credentials()?.profiles ?? {});

async function loginWith(key: string, profile = "default", baseUrl = emulator().url) {
  await login({
    method: "token",
    readToken: async () => key,
    baseUrl,
    profile,
    timeoutMs: 10_000,
    configDir: config.dir,
    env,
    ui: { notice: () => {}, progress: () => {}, warn: () => {} },
  });
}

/** A login through the device flow (a key the emulator mints for this CLI); returns the key. */
async function deviceLogin(profile = "default"): Promise<string> {
  await login({
    method: "device",
    baseUrl: emulator().url,
    profile,
    timeoutMs: 10_000,
    configDir: config.dir,
    env,
    sleep: async () => {},
    ui: {
      notice: (line) => {
        const code = /code: (\S+)$/.exec(line)?.[1];
        if (code) emulator().approveDevice(code);
      },
      progress: () => {},
      warn: () => {},
    },
  });
  return config.profile(profile)!.apiKey!;
}

const revokeCalls = () => emulator().requests.filter((q) => q.path === "/api/oauth/revoke").length;

const out = (extra: Parameters<typeof logout>[0] extends infer T ? Partial<T> : never = {}) =>
  logout({ configDir: config.dir, env, warn: (l) => warnings.push(l), ...extra });

describe("logout", () => {
  it("revokes a key this CLI minted (login --device) and removes it locally", async () => {
    const key = await deviceLogin();
    expect(config.profile()?.obtainedBy).toBe("device");
    const r = await out();
    expect(r.alreadyLoggedOut).toBe(false);
    expect(r.profiles).toEqual([
      {
        profile: "default",
        host: new URL(emulator().url).host,
        key: `giga_****${key.slice(-4)}`,
        obtainedBy: "device",
        revoked: true,
        removedFrom: ["file"],
      },
    ]);
    expect(emulator().keyInfo(key)?.revoked).toBe(true);
    expect(existsSync(credentialsFile())).toBe(false);
    expect(warnings).toEqual([]);
  });

  it("a pasted key (login --with-token) is only forgotten: removed locally, not revoked", async () => {
    const key = emulator().createKey();
    await loginWith(key);
    expect(config.profile()?.obtainedBy).toBe("token");
    const revokes = revokeCalls();
    const r = await out();
    expect(r.profiles).toEqual([
      {
        profile: "default",
        host: new URL(emulator().url).host,
        key: `giga_****${key.slice(-4)}`,
        obtainedBy: "token",
        kept: "pasted",
        revoked: null,
        removedFrom: ["file"],
      },
    ]);
    expect(emulator().keyInfo(key)?.revoked).toBe(false);
    expect(revokeCalls()).toBe(revokes);
    expect(profiles()).toEqual([]);
  });

  it("a key stored before keys had a recorded origin counts as pasted", async () => {
    const key = emulator().createKey();
    writeFileSync(
      credentialsFile(),
      JSON.stringify({
        version: 2,
        activeProfile: "default",
        profiles: {
          default: { keyLocation: "file", apiKey: key, keyLast4: key.slice(-4), baseUrl: emulator().url },
        },
      }),
      { mode: 0o600 },
    );
    const r = await out();
    expect(r.profiles[0]).toMatchObject({ kept: "pasted", revoked: null, removedFrom: ["file"] });
    expect(emulator().keyInfo(key)?.revoked).toBe(false);
  });

  it("--revoke revokes a pasted key too", async () => {
    const key = emulator().createKey();
    await loginWith(key);
    const r = await out({ revoke: true });
    expect(r.profiles[0]).toMatchObject({ obtainedBy: "token", revoked: true, removedFrom: ["file"] });
    expect(r.profiles[0]!.kept).toBeUndefined();
    expect(emulator().keyInfo(key)?.revoked).toBe(true);
  });

  it("a key another profile also holds is only forgotten, even one it minted and even with --revoke", async () => {
    const key = await deviceLogin("default");
    await loginWith(key, "ci");
    await loginWith(key, "laptop");
    const r = await out({ profile: "default", revoke: true });
    expect(r.profiles[0]).toMatchObject({
      profile: "default",
      obtainedBy: "device",
      kept: "shared",
      sharedWith: ["ci", "laptop"],
      revoked: null,
      removedFrom: ["file"],
    });
    expect(emulator().keyInfo(key)?.revoked).toBe(false);
    expect(profiles()).toEqual(["ci", "laptop"]);
    // The last holder may revoke it (--revoke: it was pasted there).
    expect((await out({ profile: "ci", revoke: true })).profiles[0]).toMatchObject({
      sharedWith: ["laptop"],
    });
    const last = await out({ profile: "laptop", revoke: true });
    expect(last.profiles[0]).toMatchObject({ revoked: true });
    expect(emulator().keyInfo(key)?.revoked).toBe(true);
  });

  it("--all --revoke: profiles that all go share nothing left; their common key is revoked once", async () => {
    const key = emulator().createKey();
    await loginWith(key, "a");
    await loginWith(key, "b");
    const revokes = revokeCalls();
    const r = await out({ all: true, revoke: true });
    expect(r.profiles.map((p) => [p.profile, p.revoked, p.kept])).toEqual([
      ["a", true, undefined],
      ["b", true, undefined],
    ]);
    expect(revokeCalls()).toBe(revokes + 1);
    expect(emulator().keyInfo(key)?.revoked).toBe(true);
  });

  it("when logged out already, says so and succeeds", async () => {
    const r = await out();
    expect(r.alreadyLoggedOut).toBe(true);
    expect(r.profiles.every((p) => p.revoked === null)).toBe(true);
  });

  it("a server that cannot revoke is a warning; the key is still removed locally", async () => {
    const other = await startEmulator({ port: 0 });
    const key = other.createKey();
    await loginWith(key, "default", other.url);
    await other.stop();
    const r = await out({ revoke: true });
    expect(r.profiles[0]).toMatchObject({ revoked: false, removedFrom: ["file"] });
    expect(warnings.join("\n")).toContain(`Could not revoke giga_****${key.slice(-4)}`);
    expect(warnings.join("\n")).not.toContain(key);
    expect(profiles()).toEqual([]);
  });

  it("a key it cannot read (its keychain item is gone or the keychain is locked) is reported as NOT revoked, with its mask", async () => {
    const profile = `gone-${randomBytes(6).toString("hex")}`;
    writeFileSync(
      credentialsFile(),
      JSON.stringify({
        version: 2,
        activeProfile: profile,
        profiles: {
          [profile]: {
            keyLocation: "keychain",
            keyLast4: "AbCd",
            baseUrl: emulator().url,
            obtainedBy: "web",
          },
        },
      }),
      { mode: 0o600 },
    );
    // No GIGAREELS_CREDENTIAL_STORE: the keychain is asked (and has no item for this profile).
    const r = await out({ env: {} });
    expect(r.alreadyLoggedOut).toBe(false);
    expect(r.profiles).toEqual([
      {
        profile,
        host: new URL(emulator().url).host,
        key: "giga_****AbCd",
        obtainedBy: "web",
        revoked: false,
        revokeError: "the key could not be read",
        removedFrom: ["file"],
      },
    ]);
    expect(warnings.join("\n")).toContain(
      `giga_****AbCd was NOT revoked on ${new URL(emulator().url).host}: the key could not be read. Revoke it in the dashboard (Settings -> API Keys).`,
    );
    expect(profiles()).toEqual([]);
  });

  it("logs out of one profile by name and leaves the others", async () => {
    const a = emulator().createKey();
    const b = emulator().createKey();
    await loginWith(a, "default");
    await loginWith(b, "staging");
    const r = await out({ profile: "staging", revoke: true });
    expect(r.profiles.map((p) => p.profile)).toEqual(["staging"]);
    expect(emulator().keyInfo(b)?.revoked).toBe(true);
    expect(emulator().keyInfo(a)?.revoked).toBe(false);
    expect(profiles()).toEqual(["default"]);
  });

  it("--all revokes and removes every profile", async () => {
    const a = emulator().createKey();
    const b = emulator().createKey();
    await loginWith(a, "default");
    await loginWith(b, "staging");
    const r = await out({ all: true, revoke: true });
    expect(r.profiles.map((p) => [p.profile, p.revoked])).toEqual([
      ["default", true],
      ["staging", true],
    ]);
    expect(emulator().keyInfo(a)?.revoked).toBe(true);
    expect(emulator().keyInfo(b)?.revoked).toBe(true);
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("says when GIGAREELS_API_KEY still authenticates, and still logs out the stored key", async () => {
    const stored = emulator().createKey();
    await loginWith(stored);
    const r = await out({ env: { ...env, GIGAREELS_API_KEY: emulator().createKey() }, revoke: true });
    expect(r.envKeyStillSet).toBe("GIGAREELS_API_KEY");
    expect(emulator().keyInfo(stored)?.revoked).toBe(true);
    expect(profiles()).toEqual([]);
  });
});
