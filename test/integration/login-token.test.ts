/** --with-token, a pasted key, re-login (confirm; revoke the replaced key only if minted), and the refusals. */
import { existsSync } from "node:fs";
import { beforeEach, describe, expect, it } from "vitest";
import { type LoginOptions, type LoginPrompter, login } from "../../src/lib/auth/login.js";
import { saveCredentials } from "../../src/lib/credentials/index.js";
import { expectNoFullKey, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator();
const config = useTempConfig();
let lines: string[];
beforeEach(() => {
  lines = [];
});

const credentialsFile = config.credentialsFile;
const stored = config.profile;

function run(extra: Partial<LoginOptions>) {
  return login({
    baseUrl: emulator().url,
    profile: "default",
    timeoutMs: 10_000,
    configDir: config.dir,
    env: { GIGAREELS_CREDENTIAL_STORE: "file" },
    ui: {
      notice: (l) => lines.push(l),
      progress: (l) => lines.push(l),
      warn: (l) => lines.push(`Warning: ${l}`),
    },
    ...extra,
  });
}

/** Stores `key` for "default" as if login --web had minted it (the real store, file mode). */
async function mintedSeed(key: string) {
  await saveCredentials(
    { profile: "default", key, baseUrl: emulator().url, obtainedBy: "web", store: "file" },
    { configDir: config.dir, env: {} },
  );
}

function prompter(answers: Partial<{ method: "web" | "device" | "paste"; replace: boolean; paste: string }>) {
  const asked: string[] = [];
  const p: LoginPrompter = {
    async chooseMethod(recommended) {
      asked.push(`method:${recommended}`);
      return answers.method ?? recommended;
    },
    async confirmReplace(existing) {
      asked.push(`replace:${existing.profile}:${existing.keyMasked}`);
      return answers.replace ?? false;
    },
    async pasteKey(validate) {
      asked.push("paste");
      const value = answers.paste ?? "";
      const ok = validate(value);
      if (ok !== true) throw new Error(`validate refused: ${ok}`);
      return value;
    },
  };
  return { p, asked };
}

describe("login --with-token", () => {
  it("trims the key from stdin, verifies it with /api/me and stores it", async () => {
    const key = emulator().createKey({ email: "token@example.com" });
    const r = await run({ method: "token", readToken: async () => `  ${key}\r\n` });
    expect(r).toMatchObject({
      method: "token",
      account: { email: "token@example.com" },
      keyLocation: "file",
    });
    expect(stored()?.apiKey).toBe(key);
    expect(stored()?.account?.email).toBe("token@example.com");
    expect(emulator().requests.some((q) => q.path === "/api/me" && q.keyLast4 === key.slice(-4))).toBe(true);
    expectNoFullKey(JSON.stringify(r) + lines.join("\n") + JSON.stringify(emulator().requests), key);
  });

  it("a malformed key is a usage error (exit 2) that does not quote the key, and nothing is sent", async () => {
    const before = emulator().requests.length;
    const err = await run({ method: "token", readToken: async () => "giga_tooShort" }).catch((e) => e);
    expect(err.code).toBe("usage");
    expect(err.message).toBe(
      "The key read from stdin is not a GigaReels API key: the API key has length 13 instead of 37",
    );
    expect(emulator().requests.length).toBe(before);
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("a well-formed but unknown key is rejected with 401 (exit 4) and not stored", async () => {
    const unknown = `giga_${"Z".repeat(32)}`;
    const err = await run({ method: "token", readToken: async () => unknown }).catch((e) => e);
    expect(err.code).toBe("authentication_error");
    expect(err.message).toContain("401");
    expect(err.message).not.toContain(unknown);
    expect(existsSync(credentialsFile())).toBe(false);
  });
});

describe("refusals", () => {
  it("refuses to store anything while GIGAREELS_API_KEY is set", async () => {
    const key = emulator().createKey();
    const err = await run({
      method: "token",
      readToken: async () => key,
      env: { GIGAREELS_API_KEY: key, GIGAREELS_CREDENTIAL_STORE: "file" },
    }).catch((e) => e);
    expect(err.code).toBe("api_key_env_set");
    expect(err.message).toContain("GIGAREELS_API_KEY is set");
    expect(err.suggestions).toEqual(["Unset GIGAREELS_API_KEY to log in with stored credentials"]);
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("a GIGAREELS_API_KEY of only spaces is unset for login, as for every other command", async () => {
    const key = emulator().createKey();
    const r = await run({
      method: "token",
      readToken: async () => key,
      env: { GIGAREELS_API_KEY: "  \n", GIGAREELS_API_KEY_FILE: " ", GIGAREELS_CREDENTIAL_STORE: "file" },
    });
    expect(r.key).toBe(`giga_****${key.slice(-4)}`);
    expect(config.profile()?.apiKey).toBe(key);
  });

  it("without a terminal and without a method it fails at once with no_terminal", async () => {
    const err = await run({}).catch((e) => e);
    expect(err.code).toBe("no_terminal");
    expect(err.suggestions.join(" ")).toContain("GIGAREELS_API_KEY");
    expect(err.suggestions.join(" ")).toContain("--with-token");
  });
});

describe("interactive login (prompts stubbed)", () => {
  it("offers the device flow first over SSH and the browser on a desktop", async () => {
    const key = emulator().createKey();
    const ssh = prompter({ method: "paste", paste: key });
    await run({
      prompter: ssh.p,
      env: { GIGAREELS_CREDENTIAL_STORE: "file", SSH_CONNECTION: "1 2 3 4", DISPLAY: ":0" },
    });
    expect(ssh.asked[0]).toBe("method:device");
    const desk = prompter({ method: "paste", paste: key });
    await run({
      prompter: desk.p,
      profile: "desk",
      env: { GIGAREELS_CREDENTIAL_STORE: "file", DISPLAY: ":0" },
      services: { platform: "linux" },
    });
    expect(desk.asked[0]).toBe("method:web");
  });

  it("a pasted key is checked, verified and stored", async () => {
    const key = emulator().createKey({ email: "paste@example.com" });
    const { p, asked } = prompter({ method: "paste", paste: key });
    const r = await run({ prompter: p });
    expect(asked).toEqual([expect.stringMatching(/^method:/), "paste"]);
    expect(r.account.email).toBe("paste@example.com");
    expect(stored()?.apiKey).toBe(key);
  });

  it("asks before replacing a key; no keeps it and changes nothing", async () => {
    const first = emulator().createKey();
    await run({ method: "token", readToken: async () => first });
    const second = emulator().createKey();
    const { p, asked } = prompter({ method: "paste", paste: second, replace: false });
    const err = await run({ prompter: p }).catch((e) => e);
    expect(asked).toEqual([`replace:default:giga_****${first.slice(-4)}`]);
    expect(err.code).toBe("login_cancelled");
    expect(stored()?.apiKey).toBe(first);
    expect(emulator().keyInfo(first)?.revoked).toBe(false);
  });

  it("a re-login revokes the replaced key when this CLI minted it", async () => {
    const first = emulator().createKey();
    await mintedSeed(first);
    const second = emulator().createKey();
    const { p } = prompter({ method: "paste", paste: second, replace: true });
    const r = await run({ prompter: p });
    expect(r.replaced).toEqual({ key: `giga_****${first.slice(-4)}`, revoked: true });
    expect(stored()?.apiKey).toBe(second);
    expect(stored()?.obtainedBy).toBe("token");
    expect(emulator().keyInfo(first)?.revoked).toBe(true);
    expect(emulator().keyInfo(second)?.revoked).toBe(false);
  });

  it("a re-login only forgets a replaced key that was pasted, and says so", async () => {
    const first = emulator().createKey();
    await run({ method: "token", readToken: async () => first });
    const second = emulator().createKey();
    const r = await run({ method: "token", readToken: async () => second });
    expect(r.replaced).toEqual({ key: `giga_****${first.slice(-4)}`, revoked: false, kept: "pasted" });
    expect(lines).toContain(
      `The replaced key giga_****${first.slice(-4)} was not revoked: it was pasted (login --with-token) and may be in use elsewhere, e.g. in CI or on a server.`,
    );
    expect(emulator().keyInfo(first)?.revoked).toBe(false);
  });

  it("a failed revocation of the replaced key is a warning, not a failure", async () => {
    const first = emulator().createKey();
    await mintedSeed(first);
    const second = emulator().createKey();
    const remove = emulator().addFault({
      route: "/api/oauth/revoke",
      fault: { kind: "status", status: 503 },
    });
    try {
      const r = await run({ method: "token", readToken: async () => second });
      expect(r.replaced?.revoked).toBe(false);
      expect(lines.some((l) => l.startsWith("Warning: Could not revoke the replaced key"))).toBe(true);
      expect(stored()?.apiKey).toBe(second);
    } finally {
      remove();
    }
  });
});
