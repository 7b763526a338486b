import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { exitCodeFor } from "../../src/lib/cli/exit-codes.js";
import { oneLine } from "../../src/lib/cli/output.js";
import {
  activeProfileName,
  ApiKeyFileError,
  ConfigDirNotAFolderError,
  CredentialsCorruptError,
  CredentialsNotAFileError,
  CredentialsSymlinkError,
  CredentialsUnreadableError,
  CredentialsUnsupportedVersionError,
  InvalidCredentialStoreError,
  InvalidKeyFormatError,
  InvalidProfileNameError,
  KeychainUnavailableError,
  ProfileNotFoundError,
  type CredentialStoreOptions,
  credentialsPath,
  deleteCredentials,
  type KeytarLike,
  compareProfileNames,
  listProfiles,
  readCredentialsFile,
  readProfileOffline,
  resolveApiKey,
  saveCredentials,
  setActiveProfile,
  updateProfileMetadata,
} from "../../src/lib/credentials/index.js";
import { LockTimeoutError } from "../../src/lib/fs/index.js";
import { setCredentialsWarningSink } from "../../src/lib/credentials/warning-sink.js";
import { expectNoFullKey, tempConfigDir } from "../helpers/cli.js";

const KEY_A = `giga_${"A".repeat(28)}aaa1`;
const KEY_B = `giga_${"B".repeat(28)}bbb2`;
const KEY_C = `giga_${"C".repeat(28)}ccc3`;
const KEY_D = `giga_${"D".repeat(28)}ddd4`;
const KEY_E = `giga_${"E".repeat(28)}eee5`;
const ALL_KEYS = [KEY_A, KEY_B, KEY_C, KEY_D, KEY_E];

/** In-memory keytar stand-in; counts calls so tests can prove the keychain was not touched. */
class FakeKeytar implements KeytarLike {
  items = new Map<string, string>();
  calls = 0;
  mode: "ok" | "fail" | "hang" = "ok";
  private async gate(): Promise<void> {
    this.calls++;
    if (this.mode === "fail") throw new Error("Cannot autolaunch D-Bus without X11 $DISPLAY");
    if (this.mode === "hang") await new Promise(() => {});
  }
  async getPassword(service: string, account: string) {
    await this.gate();
    return this.items.get(`${service}/${account}`) ?? null;
  }
  async setPassword(service: string, account: string, password: string) {
    await this.gate();
    this.items.set(`${service}/${account}`, password);
  }
  async deletePassword(service: string, account: string) {
    await this.gate();
    return this.items.delete(`${service}/${account}`);
  }
  async findCredentials(service: string) {
    await this.gate();
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

function opts(extra: Record<string, string> = {}, more: Partial<CredentialStoreOptions> = {}) {
  return {
    env: { GIGAREELS_CONFIG_DIR: dir, ...extra } as NodeJS.ProcessEnv,
    keytar,
    keychainTimeoutMs: 200,
    onWarning: (m: string) => warnings.push(m),
    ...more,
  };
}
const readJson = () => JSON.parse(readFileSync(file, "utf8"));
const mode = (p: string) => statSync(p).mode & 0o777;

beforeEach(() => {
  ({ dir, cleanup } = tempConfigDir());
  dir = join(dir, "cfg"); // not yet created: the store creates it 0700
  keytar = new FakeKeytar();
  warnings = [];
  file = join(dir, "credentials.json");
});
afterEach(() => {
  // Everything said during a test must be free of full keys.
  expectNoFullKey(warnings.join("\n"), ...ALL_KEYS);
  cleanup();
});

describe("credentials.json v2 format", () => {
  it("stores the key in the file with --insecure-storage: v2 shape, 0600 file, 0700 folder, nothing left over", async () => {
    const r = await saveCredentials(
      {
        profile: "default",
        key: KEY_A,
        baseUrl: "https://gigareels.com",
        keyId: "key_1",
        account: { id: "acct_1", email: "ada@example.com", name: "Ada" },
        createdAt: "2026-11-28T00:00:00.000Z",
        store: "file",
      },
      opts(),
    );
    expect(r).toEqual({ location: "file", profile: "default", activeProfile: "default", path: file });
    expect(readJson()).toEqual({
      version: 2,
      activeProfile: "default",
      profiles: {
        default: {
          baseUrl: "https://gigareels.com",
          keyLocation: "file",
          apiKey: KEY_A,
          keyId: "key_1",
          keyLast4: "aaa1",
          account: { id: "acct_1", email: "ada@example.com", name: "Ada" },
          createdAt: "2026-11-28T00:00:00.000Z",
        },
      },
    });
    expect(mode(file)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(readdirSync(dir)).toEqual(["credentials.json"]);
    expect(keytar.calls).toBe(0);
    expect(warnings).toEqual([]);
  });

  it("keeps only metadata in the file when the keychain holds the key", async () => {
    const r = await saveCredentials(
      { profile: "default", key: KEY_A, baseUrl: "https://gigareels.com", keyId: "key_9" },
      opts(),
    );
    expect(r.location).toBe("keychain");
    expect(r.fallbackWarning).toBeUndefined();
    expect(keytar.items.get("gigareels/default")).toBe(KEY_A);
    const text = readFileSync(file, "utf8");
    expectNoFullKey(text, KEY_A);
    expect(readJson().profiles.default).toMatchObject({
      keyLocation: "keychain",
      keyLast4: "aaa1",
      keyId: "key_9",
    });
    expect(readJson().profiles.default.apiKey).toBeUndefined();
    const offline = await readProfileOffline(opts());
    expect(offline).toMatchObject({
      name: "default",
      keyLast4: "aaa1",
      keyLocation: "keychain",
      keyInFile: false,
    });
  });

  it("trims the key before saving and refuses a malformed one without echoing it", async () => {
    await saveCredentials(
      { profile: "default", key: `  ${KEY_A}\n`, baseUrl: "https://x", store: "file" },
      opts(),
    );
    expect(readJson().profiles.default.apiKey).toBe(KEY_A);
    const bad = `${KEY_B}!`;
    const err = await saveCredentials({ profile: "default", key: bad, baseUrl: "https://x" }, opts()).catch(
      (e) => e,
    );
    expect(err.code).toBe("invalid_key_format");
    expect(exitCodeFor(err)).toBe(2);
    expectNoFullKey(err.message, KEY_B);
  });

  it("moving a key from the keychain to the file removes the old keychain item", async () => {
    await saveCredentials({ profile: "p1", key: KEY_A, baseUrl: "https://x" }, opts());
    expect(keytar.items.has("gigareels/p1")).toBe(true);
    await saveCredentials(
      { profile: "p1", key: KEY_B, baseUrl: "https://x" },
      opts({ GIGAREELS_CREDENTIAL_STORE: "file" }),
    );
    expect(keytar.items.has("gigareels/p1")).toBe(false);
    expect((await resolveApiKey(opts({ GIGAREELS_PROFILE: "p1" })))?.key).toBe(KEY_B);
  });
});

describe("choosing the store and keychain failures", () => {
  it("falls back to the file with a visible warning when the keychain fails", async () => {
    keytar.mode = "fail";
    const r = await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, opts());
    expect(r.location).toBe("file");
    expect(r.fallbackWarning).toMatch(/saved in plain text in /);
    expect(r.fallbackWarning).toContain(file);
    expect(r.fallbackWarning).toContain("Cannot autolaunch D-Bus");
    expect(warnings).toEqual([r.fallbackWarning]);
    expect(readJson().profiles.default).toMatchObject({ keyLocation: "file", apiKey: KEY_A });
  });

  it("falls back when a keychain call hangs past keychainTimeoutMs", async () => {
    keytar.mode = "hang";
    const r = await saveCredentials(
      { profile: "default", key: KEY_A, baseUrl: "https://x" },
      opts({}, { keychainTimeoutMs: 50 }),
    );
    expect(r.location).toBe("file");
    expect(r.fallbackWarning).toMatch(/did not answer within 50 ms.*saved in plain text in /);
  });

  it("falls back when keytar cannot be loaded at all", async () => {
    const r = await saveCredentials(
      { profile: "default", key: KEY_A, baseUrl: "https://x" },
      opts({}, { keytar: () => Promise.reject(new Error("Cannot find module 'keytar'")) }),
    );
    expect(r.location).toBe("file");
    expect(r.fallbackWarning).toMatch(/keytar could not be loaded: Cannot find module/);
  });

  it("GIGAREELS_CREDENTIAL_STORE=keychain is strict: a failing keychain is an error, nothing written", async () => {
    keytar.mode = "fail";
    const err = await saveCredentials(
      { profile: "default", key: KEY_A, baseUrl: "https://x" },
      opts({ GIGAREELS_CREDENTIAL_STORE: "keychain" }),
    ).catch((e) => e);
    expect(err.code).toBe("keychain_unavailable");
    expect(err.message).toMatch(/--insecure-storage|GIGAREELS_CREDENTIAL_STORE=file/);
    expect(existsSync(file)).toBe(false);
  });

  it("GIGAREELS_CREDENTIAL_STORE=file never touches the keychain (save, resolve, delete)", async () => {
    const o = opts({ GIGAREELS_CREDENTIAL_STORE: "file" });
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, o);
    expect((await resolveApiKey(o))?.source).toBe("file");
    await deleteCredentials({ all: true }, o);
    expect(keytar.calls).toBe(0);
  });

  it("rejects an unknown GIGAREELS_CREDENTIAL_STORE with a usage error", async () => {
    const err = await saveCredentials(
      { profile: "default", key: KEY_A, baseUrl: "https://x" },
      opts({ GIGAREELS_CREDENTIAL_STORE: "vault" }),
    ).catch((e) => e);
    expect(err.code).toBe("invalid_credential_store");
    expect(exitCodeFor(err)).toBe(2);
  });

  it("warns and finds no key when the profile's keychain item cannot be read", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, opts());
    keytar.mode = "fail";
    expect(await resolveApiKey(opts())).toBeNull();
    expect(warnings.join("\n")).toMatch(/Could not read the key of profile "default" from the OS keychain/);
  });

  it("does not open the keychain for offline reads", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, opts());
    const calls = keytar.calls;
    const poisoned = opts({}, { keytar: () => Promise.reject(new Error("keytar must not be loaded")) });
    expect((await readCredentialsFile(poisoned)).profiles.map((p) => p.name)).toEqual(["default"]);
    expect(await readProfileOffline(poisoned)).toMatchObject({ keyLast4: "aaa1" });
    expect(await listProfiles(poisoned)).toHaveLength(1);
    expect(keytar.calls).toBe(calls);
  });
});

describe("resolveApiKey precedence", () => {
  it("option > GIGAREELS_API_KEY > GIGAREELS_API_KEY_FILE > keychain > file, with the source recorded", async () => {
    // keychain profile "kc" and file profile "fl"
    await saveCredentials({ profile: "kc", key: KEY_D, baseUrl: "https://kc.example" }, opts());
    await saveCredentials(
      { profile: "fl", key: KEY_E, baseUrl: "https://fl.example", store: "file" },
      opts(),
    );
    const keyFile = join(dir, "secret-key");
    writeFileSync(keyFile, `${KEY_C}\n`);
    const env = { GIGAREELS_PROFILE: "kc", GIGAREELS_API_KEY: ` ${KEY_B}`, GIGAREELS_API_KEY_FILE: keyFile };

    let r = await resolveApiKey({ ...opts(env), apiKey: KEY_A });
    expect(r).toMatchObject({ key: KEY_A, source: "option", profile: "kc" });

    r = await resolveApiKey(opts(env));
    expect(r).toMatchObject({
      key: KEY_B,
      raw: ` ${KEY_B}`,
      source: "env",
      origin: "GIGAREELS_API_KEY",
      profile: "kc",
    });

    const { GIGAREELS_API_KEY: _a, ...noEnvKey } = env;
    r = await resolveApiKey(opts(noEnvKey));
    expect(r).toMatchObject({ key: KEY_C, raw: `${KEY_C}\n`, source: "env-file", origin: keyFile });

    r = await resolveApiKey(opts({ GIGAREELS_PROFILE: "kc" }));
    expect(r).toMatchObject({
      key: KEY_D,
      source: "keychain",
      origin: "OS keychain (service gigareels, account kc)",
      profile: "kc",
      baseUrl: "https://kc.example",
    });
    expect(r?.record?.apiKey).toBeUndefined();

    const before = keytar.calls;
    r = await resolveApiKey(opts({ GIGAREELS_PROFILE: "fl" }));
    expect(r).toMatchObject({
      key: KEY_E,
      source: "file",
      origin: file,
      profile: "fl",
      baseUrl: "https://fl.example",
    });
    expect(keytar.calls).toBe(before); // the record says "file": no keychain call
    expect(r?.record?.apiKey).toBeUndefined();

    expect(await resolveApiKey(opts({ GIGAREELS_PROFILE: "nobody" }))).toBeNull();
  });

  it("a keychain item without a file entry is still found", async () => {
    keytar.items.set("gigareels/default", KEY_A);
    expect(await resolveApiKey(opts())).toMatchObject({ key: KEY_A, source: "keychain", profile: "default" });
  });

  it("an empty GIGAREELS_API_KEY counts as unset", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x", store: "file" }, opts());
    expect((await resolveApiKey(opts({ GIGAREELS_API_KEY: "" })))?.source).toBe("file");
  });

  it("an unreadable GIGAREELS_API_KEY_FILE is an error naming the path", async () => {
    const missing = join(dir, "nope");
    const err = await resolveApiKey(opts({ GIGAREELS_API_KEY_FILE: missing })).catch((e) => e);
    expect(err.code).toBe("api_key_file_unreadable");
    expect(err.message).toContain(missing);
    expect(err.message).toContain("ENOENT");
    expect(err.message).toContain("there is no such file");
  });

  it("GIGAREELS_API_KEY_FILE naming an empty file or a folder says which, in plain words", async () => {
    mkdirSync(dir, { recursive: true });
    const empty = join(dir, "empty");
    writeFileSync(empty, "\r\n");
    const e1 = await resolveApiKey(opts({ GIGAREELS_API_KEY_FILE: empty })).catch((e) => e);
    expect(e1.code).toBe("api_key_file_unreadable");
    expect(e1.message).toBe(
      `GIGAREELS_API_KEY_FILE points to ${empty}, which is empty. Write the key into ${empty}, or unset GIGAREELS_API_KEY_FILE.`,
    );
    const e2 = await resolveApiKey(opts({ GIGAREELS_API_KEY_FILE: dir })).catch((e) => e);
    expect(e2.message).toContain(`${dir}, which cannot be read (it is a folder (EISDIR))`);
  });

  it("GIGAREELS_API_KEY_FILE with a CRLF line ending gives the bare key", async () => {
    mkdirSync(dir, { recursive: true });
    const crlf = join(dir, "crlf");
    writeFileSync(crlf, `${KEY_B}\r\n`);
    expect(await resolveApiKey(opts({ GIGAREELS_API_KEY_FILE: crlf }))).toMatchObject({
      key: KEY_B,
      source: "env-file",
    });
  });

  it("an env key still works when credentials.json is corrupt", async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, "{oops");
    expect(await resolveApiKey(opts({ GIGAREELS_API_KEY: KEY_B }))).toMatchObject({
      source: "env",
      profile: "default",
    });
  });
});

describe("profiles side by side", () => {
  it("keeps a production and a local key apart and selects them by --profile, GIGAREELS_PROFILE and activeProfile", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://gigareels.com" }, opts());
    const local = await saveCredentials(
      { profile: "local", key: KEY_B, baseUrl: "http://127.0.0.1:4010", store: "file" },
      opts(),
    );
    expect(local.activeProfile).toBe("default"); // a second profile does not take over
    expect((await resolveApiKey(opts()))?.key).toBe(KEY_A);
    expect(await resolveApiKey({ ...opts(), profile: "local" })).toMatchObject({
      key: KEY_B,
      baseUrl: "http://127.0.0.1:4010",
    });
    expect((await resolveApiKey(opts({ GIGAREELS_PROFILE: "local" })))?.key).toBe(KEY_B);
    // --profile beats GIGAREELS_PROFILE
    expect((await resolveApiKey({ ...opts({ GIGAREELS_PROFILE: "local" }), profile: "default" }))?.key).toBe(
      KEY_A,
    );

    expect(await activeProfileName(opts())).toBe("default");
    await setActiveProfile("local", opts());
    expect(await activeProfileName(opts())).toBe("local");
    expect((await resolveApiKey(opts()))?.key).toBe(KEY_B);
    expect(await activeProfileName({ ...opts({ GIGAREELS_PROFILE: "x" }), profile: "y" })).toBe("y");

    const list = await listProfiles(opts());
    expect(list.map((p) => [p.name, p.active, p.keyLocation, p.keyInFile])).toEqual([
      ["default", false, "keychain", false],
      ["local", true, "file", true],
    ]);
    expectNoFullKey(JSON.stringify(list), KEY_A, KEY_B);
  });

  it("lists profiles case-insensitively, then by code point, whatever the locale", async () => {
    for (const name of ["beta", "alpha-2", "Alpha", "alpha", "gamma.1", "Beta"])
      await saveCredentials({ profile: name, key: KEY_A, baseUrl: "https://x", store: "file" }, opts());
    const names = (await listProfiles(opts())).map((p) => p.name);
    expect(names).toEqual(["Alpha", "alpha", "alpha-2", "Beta", "beta", "gamma.1"]);
    expect(["b", "A", "a", "B"].sort(compareProfileNames)).toEqual(["A", "a", "B", "b"]);
  });

  it("save with activate: true switches the active profile", async () => {
    await saveCredentials({ profile: "a", key: KEY_A, baseUrl: "https://x" }, opts());
    const r = await saveCredentials(
      { profile: "b", key: KEY_B, baseUrl: "https://x", activate: true },
      opts(),
    );
    expect(r.activeProfile).toBe("b");
    expect(readJson().activeProfile).toBe("b");
  });

  it("rejects bad profile names and unknown profiles with usage errors", async () => {
    for (const name of ["", "../x", "__proto__", "a b", "x".repeat(65)]) {
      const err = await saveCredentials({ profile: name, key: KEY_A, baseUrl: "https://x" }, opts()).catch(
        (e) => e,
      );
      expect(err.code).toBe("invalid_profile");
    }
    const err = await setActiveProfile("ghost", opts()).catch((e) => e);
    expect(err.code).toBe("profile_not_found");
    expect(exitCodeFor(err)).toBe(2);
  });

  it("updateProfileMetadata changes metadata, not the key", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, opts());
    await updateProfileMetadata(
      "default",
      { keyId: "key_7", account: { id: "a1", email: "e@x.io" } },
      opts(),
    );
    expect(readJson().profiles.default).toMatchObject({
      keyId: "key_7",
      account: { id: "a1", email: "e@x.io" },
      keyLast4: "aaa1",
    });
    expect((await resolveApiKey(opts()))?.key).toBe(KEY_A);
  });
});

describe("deleteCredentials", () => {
  it("removes one profile from the keychain and the file, and says so", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, opts());
    await saveCredentials({ profile: "local", key: KEY_B, baseUrl: "http://l", store: "file" }, opts());
    const r = await deleteCredentials({ profile: "default" }, opts());
    expect(r).toMatchObject({
      fileProfiles: ["default"],
      keychainProfiles: ["default"],
      fileRemoved: false,
      warnings: [],
    });
    expect(keytar.items.size).toBe(0);
    expect(Object.keys(readJson().profiles)).toEqual(["local"]);
    expect(readJson().activeProfile).toBe("local");
  });

  it("removes everything with all, including orphan keychain items, and deletes the file", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, opts());
    await saveCredentials({ profile: "local", key: KEY_B, baseUrl: "http://l", store: "file" }, opts());
    keytar.items.set("gigareels/orphan", KEY_C);
    const r = await deleteCredentials({ all: true }, opts());
    expect(r.fileProfiles.sort()).toEqual(["default", "local"]);
    expect(r.keychainProfiles).toEqual(["default", "orphan"]);
    expect(r.fileRemoved).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(keytar.items.size).toBe(0);
  });

  it("reports (does not hide) a keychain item it could not remove", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, opts());
    keytar.mode = "fail";
    const r = await deleteCredentials({ profile: "default" }, opts());
    expect(r.fileProfiles).toEqual(["default"]);
    expect(r.keychainProfiles).toEqual([]);
    expect(r.warnings[0]).toMatch(/Could not remove the key of profile "default" from the OS keychain/);
    expect(warnings).toEqual(r.warnings);
  });

  it("stays quiet about a failing keychain when the key was in the file", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "http://l", store: "file" }, opts());
    keytar.mode = "fail";
    const r = await deleteCredentials({ profile: "default" }, opts());
    expect(r.fileProfiles).toEqual(["default"]);
    expect(r.fileRemoved).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("with nothing stored, removes nothing and creates no file", async () => {
    const r = await deleteCredentials({ profile: "default" }, opts());
    expect(r).toMatchObject({ fileProfiles: [], keychainProfiles: [], fileRemoved: false });
    expect(existsSync(file)).toBe(false);
  });
});

describe("migration from v1", () => {
  it("reads the flat v1 file as is and rewrites it as v2 without losing the key", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify({ apiKey: `${KEY_A}\n`, baseUrl: "https://old.example" }), {
      mode: 0o600,
    });
    // offline read: shown as v2, file untouched
    const summary = await readCredentialsFile(opts());
    expect(summary).toMatchObject({ version: 1, migratedFrom: 1, activeProfile: "default" });
    expect(readJson().version).toBeUndefined();

    const r = await resolveApiKey(opts());
    expect(r).toMatchObject({
      key: KEY_A,
      raw: `${KEY_A}\n`,
      source: "file",
      baseUrl: "https://old.example",
    });
    const v2 = readJson();
    expect(v2).toMatchObject({
      version: 2,
      activeProfile: "default",
      profiles: {
        default: {
          keyLocation: "file",
          apiKey: `${KEY_A}\n`,
          keyLast4: "aaa1",
          baseUrl: "https://old.example",
        },
      },
    });
    expect(mode(file)).toBe(0o600);
    expect(warnings.join("\n")).toMatch(/Migrated .* from format v1 to v2/);
    expect((await resolveApiKey(opts()))?.key).toBe(KEY_A);
  });

  it("a v1 file without baseUrl gets the production URL; a save migrates it too and keeps the key", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify({ apiKey: KEY_A }), { mode: 0o600 });
    await saveCredentials({ profile: "local", key: KEY_B, baseUrl: "http://l", store: "file" }, opts());
    const v2 = readJson();
    expect(v2.profiles.default).toMatchObject({ apiKey: KEY_A, baseUrl: "https://gigareels.com" });
    expect(v2.profiles.local).toMatchObject({ apiKey: KEY_B });
    expect(v2.activeProfile).toBe("default");
  });
});

describe("a newer version", () => {
  it("is left untouched and reported, by reads and by writes", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const text = JSON.stringify({ version: 3, profiles: { default: { wallet: "x" } } });
    writeFileSync(file, text, { mode: 0o600 });
    for (const op of [
      () => resolveApiKey(opts()),
      () => readCredentialsFile(opts()),
      () => saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x" }, opts()),
      () => deleteCredentials({ all: true }, opts()),
    ]) {
      const err = await op().then(
        () => null,
        (e) => e,
      );
      expect(err?.code).toBe("credentials_unsupported_version");
      expect(err.message).toContain(file);
      expect(err.message).toMatch(/version 3.*left untouched.*Upgrade gigareels/);
    }
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(readdirSync(dir).sort()).toEqual(["credentials.json"]);
  });
});

describe("a corrupt file", () => {
  it("gives an error naming the path and the fix; the file is kept and copied aside before a save replaces it", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const junk = `{"version": 2, "profiles": {"default": {"apiKey": "${KEY_A}"`;
    writeFileSync(file, junk, { mode: 0o600 });
    const err = await resolveApiKey(opts()).catch((e) => e);
    expect(err).toBeInstanceOf(CredentialsCorruptError);
    expect(err.code).toBe("credentials_corrupt");
    expect(exitCodeFor(err)).toBe(1);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/gigareels login/);
    expect(err.suggestions.length).toBeGreaterThan(0);
    expectNoFullKey(err.message, KEY_A);
    expect(readFileSync(file, "utf8")).toBe(junk); // a read never replaces it

    const r = await saveCredentials(
      { profile: "default", key: KEY_B, baseUrl: "https://x", store: "file" },
      opts(),
    );
    expect(r.location).toBe("file");
    const aside = readdirSync(dir).filter((f) => f.startsWith("credentials.json.corrupt-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), "utf8")).toBe(junk);
    expect(mode(join(dir, aside[0]!))).toBe(0o600);
    expect(readJson().profiles.default.apiKey).toBe(KEY_B);
    expect(warnings.join("\n")).toContain(`kept as ${join(dir, aside[0]!)}`);
  });

  it("treats a wrong shape as corrupt (array, bad keyLocation)", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const text of ["[]", '{"version":2,"profiles":{"x":{"keyLocation":"cloud"}}}', '{"hello":1}']) {
      writeFileSync(file, text);
      const err = await readCredentialsFile(opts()).catch((e) => e);
      expect(err.code).toBe("credentials_corrupt");
    }
  });

  it("a config folder that is a file (or under one): the error says so and to move it, not chmod", async () => {
    mkdirSync(join(dir, ".."), { recursive: true });
    writeFileSync(dir, "a file where the folder should be");
    for (const configDir of [dir, join(dir, "sub")]) {
      const err = await saveCredentials(
        { profile: "default", key: KEY_A, baseUrl: "https://x", store: "file" },
        opts({ GIGAREELS_CONFIG_DIR: configDir }),
      ).catch((e) => e);
      expect(err?.code).toBe("credentials_unwritable");
      expect(err.message).toBe(
        `Cannot create the config folder ${configDir}: ${dir} is a file, not a folder. Move ${dir} away, or set GIGAREELS_CONFIG_DIR to another folder.`,
      );
    }
    expect(readFileSync(dir, "utf8")).toBe("a file where the folder should be");
  });

  it("a field of the wrong type (hand-edited) is corrupt, named in the message, never a TypeError", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ baseUrl: 123 }, 'profile "default" has a "baseUrl" that is not a string'],
      [{ keyLast4: 42 }, 'profile "default" has a "keyLast4" that is not a string'],
      [{ createdAt: {} }, 'profile "default" has a "createdAt" that is not a string'],
      [{ keyId: null }, 'profile "default" has a "keyId" that is not a string'],
      [{ account: "ada" }, 'profile "default" has an "account" that is not an object'],
      [{ account: { email: 7 } }, 'profile "default" has an "account.email" that is not a string'],
    ];
    for (const [fields, detail] of cases) {
      const rec = { keyLocation: "file", apiKey: KEY_A, baseUrl: "https://x", ...fields };
      const text = JSON.stringify({ version: 2, activeProfile: "default", profiles: { default: rec } });
      writeFileSync(file, text, { mode: 0o600 });
      for (const op of [() => resolveApiKey(opts()), () => readCredentialsFile(opts())]) {
        const err = await op().catch((e) => e);
        expect(err?.code).toBe("credentials_corrupt");
        expect(err.message).toContain(`${file} is not a valid credentials file (${detail})`);
      }
      expect(readFileSync(file, "utf8")).toBe(text);
    }
    expectNoFullKey(warnings.join("\n"), KEY_A);
  });

  it("logout of one profile refuses a corrupt file; logout --all keeps it aside and removes it", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, "not json", { mode: 0o600 });
    const err = await deleteCredentials({ profile: "default" }, opts()).catch((e) => e);
    expect(err.code).toBe("credentials_corrupt");
    expect(readFileSync(file, "utf8")).toBe("not json");
    const r = await deleteCredentials({ all: true }, opts());
    expect(r.fileRemoved).toBe(true);
    expect(r.keptAsidePath).toBeDefined();
    expect(readFileSync(r.keptAsidePath!, "utf8")).toBe("not json");
    expect(existsSync(file)).toBe(false);
  });

  it("a folder in place of the file is reported as unreadable, not a crash", async () => {
    mkdirSync(file, { recursive: true });
    const err = await resolveApiKey(opts()).catch((e) => e);
    expect(err.code).toBe("credentials_unreadable");
    expect(err.message).toContain(file);
  });

  it("a folder in place of the file: the fix is to move it away (not chmod), and a save leaves it alone", async () => {
    mkdirSync(file, { recursive: true });
    writeFileSync(join(file, "inside.txt"), "mine");
    for (const op of [
      () => resolveApiKey(opts()),
      () => saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x", store: "file" }, opts()),
    ]) {
      const err = await op().then(
        () => null,
        (e) => e,
      );
      expect(err?.code).toBe("credentials_unreadable");
      expect(err.message).toContain(`${file} is a folder, not a file`);
      expect(err.message).toContain(`mv ${file} ${file}.bak`);
      expect(err.message).not.toContain("chmod");
      expect(err.message.split("\n")).toHaveLength(1);
    }
    expect(readFileSync(join(file, "inside.txt"), "utf8")).toBe("mine");
  });
});

describe("permissions and symlinks", () => {
  it("tightens a file readable by others to 0600 and a loose folder to 0700, and reports it", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x", store: "file" }, opts());
    chmodSync(file, 0o644);
    chmodSync(dir, 0o755);
    expect((await resolveApiKey(opts()))?.key).toBe(KEY_A);
    expect(mode(file)).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(warnings.join("\n")).toMatch(/readable by other users \(mode 0644\); tightened to 0600/);
    expect(warnings.join("\n")).toMatch(/tightened to 0700/);
  });

  it("with no onWarning, the tightening goes to the sink the CLI sets, never to stderr from the library", async () => {
    await saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x", store: "file" }, opts());
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const sunk: string[] = [];
    try {
      // An SDK user's process: no sink; the library writes nothing on its host's stderr.
      chmodSync(file, 0o644);
      await readCredentialsFile({ env: { GIGAREELS_CONFIG_DIR: dir } });
      expect(mode(file)).toBe(0o600);
      expect(written.join("")).toBe("");
      // The CLI (BaseCommand.init) sets its warning line as the sink: the first reader's report is shown.
      setCredentialsWarningSink((m) => sunk.push(m));
      chmodSync(file, 0o644);
      // As `gigareels whoami` and `status --offline` do: no onWarning.
      await readCredentialsFile({ env: { GIGAREELS_CONFIG_DIR: dir } });
      // An onWarning given wins over the sink.
      const own: string[] = [];
      chmodSync(file, 0o644);
      await readCredentialsFile({ env: { GIGAREELS_CONFIG_DIR: dir }, onWarning: (m) => own.push(m) });
      expect(own).toHaveLength(1);
    } finally {
      setCredentialsWarningSink(undefined);
      spy.mockRestore();
    }
    expect(mode(file)).toBe(0o600);
    expect(written.join("")).toBe("");
    expect(sunk).toEqual([
      `${file} was readable by other users (mode 0644); tightened to 0600. If others could read it, revoke the key and log in again.`,
    ]);
    expectNoFullKey(sunk.join(""), KEY_A);
  });

  it("sets 0600 after every write, even when the file was loosened in between", async () => {
    await saveCredentials({ profile: "a", key: KEY_A, baseUrl: "https://x" }, opts());
    chmodSync(file, 0o666);
    await saveCredentials({ profile: "b", key: KEY_B, baseUrl: "https://x" }, opts());
    expect(mode(file)).toBe(0o600);
  });

  it("refuses a symbolic link in place of the file, for reads and writes, leaving the target alone", async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const target = join(dir, "elsewhere.json");
    const content = JSON.stringify({ version: 2, activeProfile: "default", profiles: {} });
    writeFileSync(target, content, { mode: 0o600 });
    symlinkSync(target, file);
    for (const op of [
      () => resolveApiKey(opts()),
      () => readCredentialsFile(opts()),
      () => saveCredentials({ profile: "default", key: KEY_A, baseUrl: "https://x", store: "file" }, opts()),
    ]) {
      const err = await op().then(
        () => null,
        (e) => e,
      );
      expect(err?.code).toBe("credentials_symlink");
      expect(err.message).toContain(file);
    }
    expect(readFileSync(target, "utf8")).toBe(content);
  });
});

describe("credentialsPath", () => {
  it("follows GIGAREELS_CONFIG_DIR", () => {
    expect(credentialsPath(opts())).toBe(file);
    expect(credentialsPath({ configDir: "/x" })).toBe("/x/credentials.json");
  });
});

describe("error lines", () => {
  it("every credential-store error reads as one line without repeating itself (suggestions are part of the message)", () => {
    const p = "/home/ada/.gigareels/credentials.json";
    const errors = [
      new CredentialsCorruptError(p, "invalid JSON"),
      new CredentialsUnsupportedVersionError(p, 3),
      new CredentialsSymlinkError(p),
      new CredentialsNotAFileError(p, "a folder"),
      new CredentialsUnreadableError(p, "EACCES"),
      new CredentialsUnreadableError(p, "EROFS", "write"),
      new ConfigDirNotAFolderError("/home/ada/.gigareels", "/home/ada/.gigareels"),
      new ApiKeyFileError("/run/secrets/key", "ENOENT"),
      new ApiKeyFileError("/run/secrets/key", "empty"),
      new KeychainUnavailableError("no D-Bus"),
      new InvalidProfileNameError("a b"),
      new ProfileNotFoundError("prod", ["default"], p),
      new InvalidCredentialStoreError("bogus"),
      new InvalidKeyFormatError("the API key is empty"),
      new LockTimeoutError(`${p}.lock`, 15_000),
    ];
    for (const err of errors) {
      expect(err.suggestions.length, err.name).toBeGreaterThan(0);
      expect(oneLine(err.message, err.suggestions), err.name).toBe(err.message);
      expect(err.message, err.name).not.toContain("\n");
    }
  });
});
