import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GigaReels } from "../../src/index.js";
import { isLoopbackHost, validateApiKey, validateBaseUrl } from "../../src/lib/sdk/config.js";
import { debugEnabled } from "../../src/lib/sdk/debug.js";
import {
  AuthenticationError,
  InvalidApiKeyError,
  InvalidBaseUrlError,
  MissingApiKeyError,
} from "../../src/lib/sdk/errors.js";

const KEY = "giga_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const configDir = mkdtempSync(join(tmpdir(), "gigareels-sdk-unit-"));
afterAll(() => rmSync(configDir, { recursive: true, force: true }));
/** An environment with no key and an empty private config folder. */
const emptyEnv = (): NodeJS.ProcessEnv => ({
  GIGAREELS_CONFIG_DIR: configDir,
  GIGAREELS_CREDENTIAL_STORE: "file",
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

describe("validateApiKey", () => {
  it("accepts a well-formed key and trims spaces, tabs and CR/LF", () => {
    expect(validateApiKey(KEY)).toBe(KEY);
    expect(validateApiKey(`  ${KEY}\r\n`)).toBe(KEY);
    expect(validateApiKey(`\t${KEY}\n`)).toBe(KEY);
  });
  it.each([
    ["missing prefix", `gigo_${KEY.slice(5)}`, 'does not start with "giga_"'],
    ["too short", KEY.slice(0, -1), "length 36 instead of 37"],
    ["too long", `${KEY}9`, "length 38 instead of 37"],
    ["bad character", `${KEY.slice(0, 10)}-${KEY.slice(11)}`, "at position 11"],
    ["inner space", `${KEY.slice(0, 20)} ${KEY.slice(21)}`, "whitespace character at position 21"],
  ])("refuses a key with %s, saying what is wrong and never the key", (_name, key, detail) => {
    const err = thrown(() => validateApiKey(key));
    expect(err).toBeInstanceOf(InvalidApiKeyError);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as InvalidApiKeyError).code).toBe("invalid_api_key");
    expect((err as InvalidApiKeyError).status).toBe(401);
    expect((err as InvalidApiKeyError).detectedBeforeSending).toBe(true);
    expect(err.message).toMatch(/^401 Invalid API key: /);
    expect(err.message).toContain(detail);
    expect(err.message).not.toContain(key.trim());
    expect(err.message).not.toMatch(/giga_[A-Za-z0-9]{8,}/);
  });
});

describe("validateBaseUrl", () => {
  it("accepts https anywhere and normalises the trailing slash", () => {
    expect(validateBaseUrl("https://gigareels.com/")).toBe("https://gigareels.com");
    expect(validateBaseUrl("https://api.example.com/v1/")).toBe("https://api.example.com/v1");
  });
  it.each(["http://127.0.0.1:3000", "http://127.5.6.7", "http://localhost:3000", "http://[::1]:8080"])(
    "accepts http on loopback %s",
    (u) => {
      expect(validateBaseUrl(u)).toBe(u);
    },
  );
  it.each(["http://gigareels.com", "http://10.0.0.1:3000", "http://128.0.0.1", "http://localhost.evil.com"])(
    "refuses http outside loopback: %s",
    (u) => {
      const err = thrown(() => validateBaseUrl(u));
      expect(err).toBeInstanceOf(InvalidBaseUrlError);
      expect(err.message).toContain("only https is allowed");
    },
  );
  it.each(["ftp://gigareels.com", "gigareels.com", "", "https://user:pw@gigareels.com"])(
    "refuses %j",
    (u) => {
      expect(thrown(() => validateBaseUrl(u))).toBeInstanceOf(InvalidBaseUrlError);
    },
  );
  it("knows the loopback hosts", () => {
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("[::1]")).toBe(true);
    expect(isLoopbackHost("LOCALHOST")).toBe(true);
    expect(isLoopbackHost("127.0.0.1.nip.io")).toBe(false);
    expect(isLoopbackHost("0.0.0.0")).toBe(false);
  });
});

describe("new GigaReels()", () => {
  it("accepts a malformed explicit key at construction; the first request refuses it as a 401, without the key", async () => {
    const bad = `${KEY}x`;
    const c = new GigaReels({ apiKey: bad, baseUrl: "http://127.0.0.1:9", env: emptyEnv() });
    const err = await c.me().catch((e) => e);
    expect(err).toBeInstanceOf(InvalidApiKeyError);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401, detectedBeforeSending: true, code: "invalid_api_key" });
    expect(err.message).toMatch(/^401 Invalid API key: the API key has length 38 instead of 37/);
    expect(err.message).not.toContain(bad);
    // the guide's placeholder is not a reason to throw in the constructor either
    expect(() => new GigaReels({ apiKey: "your-api-key-here", env: emptyEnv() })).not.toThrow();
  });
  it("refuses a malformed GIGAREELS_API_KEY at the first request, naming the variable", async () => {
    const c = new GigaReels({
      baseUrl: "http://127.0.0.1:9",
      env: { ...emptyEnv(), GIGAREELS_API_KEY: "giga_short" },
    });
    const err = await c.getTaskStatus("x").catch((e) => e);
    expect(err).toBeInstanceOf(InvalidApiKeyError);
    expect(err.message).toMatch(/^401 /);
    expect(err.message).toContain("GIGAREELS_API_KEY");
  });
  it("refuses a plain-http base URL before any request", () => {
    const err = thrown(
      () => new GigaReels({ apiKey: KEY, baseUrl: "http://gigareels.com", env: emptyEnv() }),
    );
    expect(err).toBeInstanceOf(InvalidBaseUrlError);
    const env = thrown(
      () => new GigaReels({ apiKey: KEY, env: { ...emptyEnv(), GIGAREELS_BASE_URL: "http://x.io" } }),
    );
    expect(env).toBeInstanceOf(InvalidBaseUrlError);
  });
  it("uses the option, then the environment, then the default base URL", () => {
    expect(new GigaReels({ apiKey: KEY, baseUrl: "https://a.example", env: emptyEnv() }).baseUrl).toBe(
      "https://a.example",
    );
    expect(
      new GigaReels({ apiKey: KEY, env: { ...emptyEnv(), GIGAREELS_BASE_URL: "https://b.example/" } })
        .baseUrl,
    ).toBe("https://b.example");
    expect(new GigaReels({ apiKey: KEY, env: emptyEnv() }).baseUrl).toBe("https://gigareels.com");
  });
  it("trims a key with surrounding whitespace and reports its source and mask", async () => {
    const c = new GigaReels({ apiKey: ` ${KEY}\n`, env: emptyEnv() });
    expect(await c.credentials()).toEqual({
      source: "option",
      masked: "giga_****2345",
      profile: undefined,
      baseUrl: "https://gigareels.com",
    });
    const e = new GigaReels({ env: { ...emptyEnv(), GIGAREELS_API_KEY: KEY } });
    expect((await e.credentials()).source).toBe("env");
  });
  it("does not throw for a missing key until the first request, then says what to do", async () => {
    const c = new GigaReels({ env: emptyEnv(), baseUrl: "http://127.0.0.1:9" });
    const err = await c.me().catch((e) => e);
    expect(err).toBeInstanceOf(MissingApiKeyError);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ status: 401, detectedBeforeSending: true, code: "missing_api_key" });
    expect(err.message).toMatch(/^401 No API key found/);
    expect(err.suggestions.join(" ")).toContain("gigareels login");
    expect(err.suggestions.join(" ")).toContain("GIGAREELS_API_KEY");
  });
  it("an empty apiKey option falls through to the environment", async () => {
    const c = new GigaReels({ apiKey: "", env: { ...emptyEnv(), GIGAREELS_API_KEY: KEY } });
    expect((await c.credentials()).source).toBe("env");
  });
  it("isLoggedIn is false with no stored login, GIGAREELS_API_KEY or not (an environment key is not a login)", async () => {
    expect(await GigaReels.isLoggedIn({ env: emptyEnv() })).toBe(false);
    expect(await GigaReels.isLoggedIn({ env: { ...emptyEnv(), GIGAREELS_API_KEY: KEY } })).toBe(false);
  });
  it("keySource names the key a client would use, never the key", async () => {
    expect(await GigaReels.keySource({ env: emptyEnv() })).toBeNull();
    expect(await GigaReels.keySource({ apiKey: KEY, env: emptyEnv() })).toEqual({
      source: "option",
      origin: "the apiKey option",
    });
    expect(await GigaReels.keySource({ env: { ...emptyEnv(), GIGAREELS_API_KEY: "whatever" } })).toEqual({
      source: "env",
      origin: "GIGAREELS_API_KEY",
    });
  });
  it("refuses an empty render id locally", async () => {
    const c = new GigaReels({ apiKey: KEY, baseUrl: "http://127.0.0.1:9", env: emptyEnv() });
    await expect(c.getRenderStatus("")).rejects.toThrow("A render id is required");
  });
});

describe("debugEnabled", () => {
  it("matches DEBUG patterns like the debug package", () => {
    expect(debugEnabled("gigareels*")).toBe(true);
    expect(debugEnabled("gigareels:*")).toBe(true);
    expect(debugEnabled("*")).toBe(true);
    expect(debugEnabled("foo,gigareels:http")).toBe(true);
    expect(debugEnabled("*,-gigareels:http")).toBe(false);
    expect(debugEnabled("express:*")).toBe(false);
    expect(debugEnabled(undefined)).toBe(false);
    expect(debugEnabled("")).toBe(false);
  });
});
