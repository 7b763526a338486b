/**
 * GigaReels' authentication guide, run as written against the emulator: each example is a
 * .mjs file in test/fixtures/guide importing "@gigareels/sdk" (Node resolves the package's
 * own name through its `exports`, so this is the BUILT dist/). Run `npm run build` first.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, expectNoFullKey, ROOT, runCli, tempConfigDir } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator({ renderDurationMs: 150 });
const FIXTURES = join(ROOT, "test/fixtures/guide");
let config: ReturnType<typeof tempConfigDir>;

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/index.js")) || !existsSync(join(ROOT, "dist/lib/sdk/client.js"))) {
    throw new Error("dist/ is missing the SDK: run `npm run build` before these tests");
  }
  config = tempConfigDir();
});
afterAll(() => config.cleanup());
afterEach(() => emulator().clearFaults());

function run(fixture: string, env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const emu = emulator();
  return runCli([], {
    command: [process.execPath, join(FIXTURES, fixture)],
    env: {
      GIGAREELS_API_KEY: emu.keys[0],
      GIGAREELS_BASE_URL: emu.url,
      GIGAREELS_CONFIG_DIR: config.dir,
      GIGAREELS_CREDENTIAL_STORE: "file",
      ...env,
    },
    timeoutMs: 25_000,
  });
}

const statusChecks = () => emulator().requests.filter((r) => r.path === "/api/render/status/test_task_id");

describe("testAuthentication (Testing Authentication)", () => {
  it("a good key: the unknown test task is the expected 404", async () => {
    const before = statusChecks().length;
    const r = await run("test-authentication.mjs");
    expect(r.stdout).toBe("✅ Authentication successful (task not found is expected)\n");
    expect(r.code).toBe(0);
    const seen = statusChecks().slice(before);
    expect(seen.map((x) => [x.status, x.keyLast4])).toEqual([[404, emulator().keys[0]!.slice(-4)]]);
  });

  it("a key pasted with a trailing newline and spaces still works (trimmed)", async () => {
    const r = await run("test-authentication.mjs", { GIGAREELS_API_KEY: `  ${emulator().keys[0]}\r\n` });
    expect(r.stdout).toBe("✅ Authentication successful (task not found is expected)\n");
  });

  it("an unknown key: 401, the guide's 'Invalid API key' line", async () => {
    const bad = "giga_0000000000000000000000000000zzzz";
    const r = await run("test-authentication.mjs", { GIGAREELS_API_KEY: bad });
    expect(r.stdout).toBe("❌ Invalid API key\n");
    expectNoFullKey(r.stdout + r.stderr, bad);
  });

  it("a revoked key: 401 as well", async () => {
    const emu = emulator();
    const key = emu.createKey();
    emu.revokeKey(key);
    const r = await run("test-authentication.mjs", { GIGAREELS_API_KEY: key });
    expect(r.stdout).toBe("❌ Invalid API key\n");
  });

  it("a malformed key is the guide's 401 'Invalid API key', found before any request, never printing the key", async () => {
    const before = statusChecks().length;
    const bad = `${emulator().keys[0]}X`;
    const r = await run("test-authentication.mjs", { GIGAREELS_API_KEY: bad });
    expect(r.stdout).toBe("❌ Invalid API key\n");
    expect(r.stderr).toBe("");
    expect(statusChecks().length).toBe(before);
    expectNoFullKey(r.stdout + r.stderr, bad, emulator().keys[0]!);
  });

  it("the guide's placeholder key: the constructor does not throw, the request is a 401", async () => {
    const before = statusChecks().length;
    const r = await run("test-authentication.mjs", { GIGAREELS_API_KEY: "your-api-key-here" });
    expect(r.stdout).toBe("❌ Invalid API key\n");
    expect(statusChecks().length).toBe(before);
  });

  it("a missing key (the guide: 'invalid or missing API key' is a 401) prints 'Invalid API key'", async () => {
    const before = statusChecks().length;
    const r = await run("test-authentication.mjs", { GIGAREELS_API_KEY: undefined });
    expect(r.stdout).toBe("❌ Invalid API key\n");
    expect(statusChecks().length).toBe(before);
  });

  it("with DEBUG=gigareels*, stderr shows the request with the key masked", async () => {
    const key = emulator().keys[0]!;
    const r = await run("test-authentication.mjs", { DEBUG: "gigareels*" });
    expect(r.stdout).toBe("✅ Authentication successful (task not found is expected)\n");
    expect(r.stderr).toMatch(
      /gigareels:http -> GET http:\/\/127\.0\.0\.1:\d+\/api\/render\/status\/test_task_id/,
    );
    expect(r.stderr).toMatch(/gigareels:http <- 404 GET .* \(\d+ ms\)/);
    expect(r.stderr).toContain(`authorization: Bearer giga_****${key.slice(-4)}`);
    expectNoFullKey(r.stderr, key);
  });
});

describe("SecureGigaReelsClient (Request Security)", () => {
  it("creates an educational render through the guide's class", async () => {
    const emu = emulator();
    const before = emu.renders().length;
    const r = await run("secure-client.mjs");
    expect(r.code).toBe(0);
    const id = /^renderId=(\S+)$/m.exec(r.stdout)?.[1];
    expect(id).toBeTruthy();
    expect(emu.renders()).toHaveLength(before + 1);
    expect(emu.renders().at(-1)).toMatchObject({ id, type: "educational-brainrot" });
  });

  it("its own format check refuses a key without the giga_ prefix", async () => {
    const r = await run("secure-client.mjs", { GIGAREELS_API_KEY: "sk_live_something" });
    expect(r.stdout).toBe("failed: Invalid API key format\n");
    expect(r.code).toBe(1);
  });

  it("logs a short error (no HTML page, no key) when a proxy keeps answering with HTML", async () => {
    const emu = emulator();
    const before = emu.renders().length;
    emu.addFault({ route: "/api/render", method: "POST", times: 3, fault: { kind: "html" } });
    const r = await run("secure-client.mjs");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("failed: 502 Bad Gateway (text/html answer from the server, not JSON)\n");
    expect(r.stderr).toContain("Video generation failed:");
    expect(r.stderr).toContain("502 Bad Gateway (text/html answer from the server, not JSON)");
    expect(r.stderr).not.toMatch(/<html|nginx/);
    expectNoFullKey(r.stdout + r.stderr, emu.keys[0]!);
    expect(emu.renders()).toHaveLength(before);
  });
});

describe("makeRequestWithRetry (Handling Rate Limits)", () => {
  it("the guide's loop sees the 429 in the message and retries into one render", async () => {
    const emu = emulator();
    const before = emu.renders().length;
    emu.addFault({
      route: "/api/render",
      method: "POST",
      times: 1,
      fault: { kind: "rate-limit", retryAfterSeconds: 1 },
    });
    const r = await run("make-request-with-retry.mjs", { SDK_MAX_RETRIES: "0" });
    expect(r.stdout).toMatch(/^Rate limited\. Retrying in 2000ms\.\.\.\nrenderId=\S+\n$/);
    expect(emu.renders()).toHaveLength(before + 1);
  });

  it("with the SDK's own retries, a short 429 is absorbed after the server's wait", async () => {
    const emu = emulator();
    const before = emu.renders().length;
    const posts = () => emu.requests.filter((x) => x.path === "/api/render" && x.method === "POST");
    const n = posts().length;
    emu.addFault({
      route: "/api/render",
      method: "POST",
      times: 1,
      fault: { kind: "rate-limit", retryAfterSeconds: 1 },
    });
    const r = await run("make-request-with-retry.mjs");
    expect(r.stdout).toMatch(/^renderId=\S+\n$/);
    const seen = posts().slice(n);
    expect(seen.map((x) => x.status)).toEqual([429, 200]);
    expect(seen[1]!.time - seen[0]!.time).toBeGreaterThanOrEqual(1000);
    expect(seen[0]!.headers["idempotency-key"]).toBe(seen[1]!.headers["idempotency-key"]);
    expect(emu.renders()).toHaveLength(before + 1);
  });
});

describe("other snippets", () => {
  it("isLoggedIn: false with only GIGAREELS_API_KEY (not a login), true with a stored login", async () => {
    expect((await run("is-logged-in.mjs")).stdout).toBe("Authenticated: false\n");
    expect((await run("is-logged-in.mjs", { GIGAREELS_API_KEY: undefined })).stdout).toBe(
      "Authenticated: false\n",
    );
    const stored = tempConfigDir();
    try {
      writeFileSync(
        join(stored.dir, "credentials.json"),
        JSON.stringify({
          version: 2,
          activeProfile: "default",
          profiles: {
            default: {
              baseUrl: emulator().url,
              keyLocation: "file",
              apiKey: emulator().keys[0],
              keyLast4: emulator().keys[0]!.slice(-4),
              createdAt: new Date().toISOString(),
            },
          },
        }),
        { mode: 0o600 },
      );
      const env = { GIGAREELS_CONFIG_DIR: stored.dir, GIGAREELS_API_KEY: undefined };
      expect((await run("is-logged-in.mjs", env)).stdout).toBe("Authenticated: true\n");
      // another profile that has no login
      expect((await run("is-logged-in.mjs", { ...env, GIGAREELS_PROFILE: "other" })).stdout).toBe(
        "Authenticated: false\n",
      );
    } finally {
      stored.cleanup();
    }
  });

  it("reading a v1 credentials file through the SDK rewrites nothing, changes no mode, prints nothing", async () => {
    const stored = tempConfigDir();
    try {
      chmodSync(stored.dir, 0o755);
      const file = join(stored.dir, "credentials.json");
      const v1 = JSON.stringify({ apiKey: emulator().keys[0], baseUrl: emulator().url });
      writeFileSync(file, v1, { mode: 0o644 });
      chmodSync(file, 0o644);
      const r = await run("test-authentication.mjs", {
        GIGAREELS_CONFIG_DIR: stored.dir,
        GIGAREELS_API_KEY: undefined,
      });
      expect(r.stdout).toBe("✅ Authentication successful (task not found is expected)\n");
      expect(r.stderr).toBe("");
      expect(readFileSync(file, "utf8")).toBe(v1);
      expect(statSync(file).mode & 0o777).toBe(0o644);
      expect(statSync(stored.dir).mode & 0o777).toBe(0o755);
      expect(readdirSync(stored.dir)).toEqual(["credentials.json"]);
    } finally {
      stored.cleanup();
    }
  });
  it("the three ways to build a client", async () => {
    const r = await run("sdk-implementation.mjs");
    expect(r.stdout).toBe("manual: option\nenv-option: option\nautomatic: env\n");
  });
});
