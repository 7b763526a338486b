/**
 * The built `gigareels status` in a subprocess (run `npm run build` first): the exit code of
 * each outcome, the same in human and in --json mode, the one JSON document on stdout, usage
 * errors, and no full key in any output. Keys are stored in the file (GIGAREELS_CREDENTIAL_STORE
 * =file), except in the keychain block, which needs a Secret Service (GIGAREELS_TEST_KEYRING=1).
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { overallExitCode, type StatusReportWithExit } from "../../src/lib/cli/report-codes.js";
import { saveCredentials } from "../../src/lib/credentials/index.js";
import { type StubServer, stubServer } from "../helpers/stub-server.js";
import { type CliResult, expectNoFullKey, type RunOptions, runCli, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";
import { describeKeyring, uniqueProfile } from "../helpers/keyring.js";

const emulator = useEmulator({ rateLimits: false });
const config = useTempConfig();
let keys: string[];
beforeEach(() => {
  keys = [];
});

/**
 * Stand-ins for servers the emulator does not play: a 403, a captive portal's 200 HTML, and a
 * web server's 404 page (a base URL that is not the API).
 */
let forbidden: string;
let portal: string;
let webServer: string;
let closed: string;
const servers: StubServer[] = [];
beforeAll(async () => {
  const serve = async (status: number, type: string, body: string) => {
    const s = await stubServer(status, body, type);
    servers.push(s);
    return s.url;
  };
  forbidden = await serve(403, "application/json", '{"error":"Insufficient permissions for this operation"}');
  portal = await serve(200, "text/html", "<html><body>Sign in to the Wi-Fi</body></html>");
  webServer = await serve(404, "text/html", "<html><body>404 Not Found</body></html>");
  const c = createServer();
  await new Promise<void>((r) => c.listen(0, "127.0.0.1", r));
  closed = `http://127.0.0.1:${(c.address() as AddressInfo).port}`;
  await new Promise((r) => c.close(r));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

function key(options?: Parameters<ReturnType<typeof emulator>["createKey"]>[0]): string {
  const k = emulator().createKey(options);
  keys.push(k);
  return k;
}

async function storeKey(k: string, profile = "default", baseUrl = emulator().url) {
  await saveCredentials({ profile, key: k, baseUrl, store: "file" }, { configDir: config.dir, env: {} });
}

async function cli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const r = await runCli(args, {
    ...options,
    env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_CREDENTIAL_STORE: "file", ...options.env },
  });
  expectNoFullKey(r.stdout + r.stderr, ...keys);
  return r;
}

interface Case {
  name: string;
  setup?: () => Promise<Record<string, string>>;
  args?: string[];
  code: number;
  /** A line the human output must contain. */
  human: string | RegExp;
}

const cases: Case[] = [
  {
    name: "a valid stored key",
    setup: async () => {
      await storeKey(key({ email: "ok@example.com" }));
      return {};
    },
    code: 0,
    human: "✓ Logged in to",
  },
  { name: "no key", code: 4, human: "X Not logged in: no API key found" },
  {
    name: "401 for GIGAREELS_API_KEY",
    setup: async () => {
      const k = key();
      emulator().revokeKey(k);
      return { GIGAREELS_API_KEY: k, GIGAREELS_BASE_URL: emulator().url };
    },
    code: 4,
    human: /rejected the key: 401 Invalid API key[\s\S]*To fix: Unset GIGAREELS_API_KEY/,
  },
  {
    name: "401 for a stored key",
    setup: async () => {
      const k = key();
      await storeKey(k);
      emulator().revokeKey(k);
      return {};
    },
    code: 4,
    human: "To fix: Run `gigareels login` to store a new key",
  },
  {
    name: "403",
    setup: async () => ({ GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: forbidden }),
    code: 4,
    human: "rejected the key: 403 Insufficient permissions for this operation",
  },
  {
    name: "connection refused",
    setup: async () => ({ GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: closed }),
    code: 5,
    human: "the connection was refused",
  },
  {
    name: "an HTML page instead of the API",
    setup: async () => ({ GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: portal }),
    code: 5,
    human: "not valid JSON (text/html",
  },
  {
    name: "a web server's 404 page for /api/me (the base URL is not the API)",
    setup: async () => ({ GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: webServer }),
    code: 5,
    human:
      /does not look like the GigaReels API: it answered GET \/api\/me with 404[\s\S]*To fix: Check the base URL http:\/\/127\.0\.0\.1:\d+ /,
  },
  {
    name: "an http base URL off loopback",
    setup: async () => ({ GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: "http://api.example.com" }),
    code: 2,
    human: "! The base URL http://api.example.com is not https",
  },
  {
    name: "--offline with a stored key",
    setup: async () => {
      await storeKey(key());
      return {};
    },
    args: ["--offline"],
    code: 0,
    human: "- Key not checked (--offline)",
  },
  { name: "--offline without a key", args: ["--offline"], code: 4, human: "X Not logged in" },
  {
    name: "--all with one revoked profile",
    setup: async () => {
      await storeKey(key(), "default");
      const bad = key();
      await storeKey(bad, "staging");
      emulator().revokeKey(bad);
      return {};
    },
    args: ["--all"],
    code: 4,
    human: /\(profile default, active\)\n {2}✓[\s\S]*\(profile staging\)\n {2}X/,
  },
];

describe("gigareels status (built CLI): exit codes, human and --json", () => {
  for (const c of cases) {
    it(`${c.name}: exit ${c.code} in both modes`, async () => {
      const env = (await c.setup?.()) ?? {};
      const args = ["status", ...(c.args ?? [])];
      const human = await cli(args, { env });
      expect(human.code, human.stderr).toBe(c.code);
      if (typeof c.human === "string") expect(human.stdout).toContain(c.human);
      else expect(human.stdout).toMatch(c.human);

      const json = await cli([...args, "--json"], { env });
      expect(json.code, json.stderr).toBe(c.code);
      const doc = JSON.parse(json.stdout) as StatusReportWithExit;
      expect(doc.version).toBe(1);
      expect(doc.exitCode).toBe(c.code);
      expect(doc.ok).toBe(c.code === 0);
      expect(doc.profiles.length).toBeGreaterThan(0);
      expect(overallExitCode(doc.profiles.map((p) => p.exitCode))).toBe(c.code);
    });
  }

  it("the human output goes to stdout, and nothing but the JSON document is on stdout with --json", async () => {
    await storeKey(key());
    const human = await cli(["status"]);
    expect(human.stderr).toBe("");
    const json = await cli(["status", "--json"]);
    expect(json.stdout.trim().startsWith("{")).toBe(true);
    expect(() => JSON.parse(json.stdout)).not.toThrow();
    expect(json.stderr).toBe("");
  });

  it("a key from GIGAREELS_API_KEY_FILE", async () => {
    const k = key();
    const path = join(config.dir, "key.txt");
    writeFileSync(path, `${k}\n`);
    const r = await cli(["status", "--json"], {
      env: { GIGAREELS_API_KEY_FILE: path, GIGAREELS_BASE_URL: emulator().url },
    });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as StatusReportWithExit).profiles[0]!.key).toMatchObject({
      source: "env-file",
      origin: path,
      masked: `giga_****${k.slice(-4)}`,
    });
  });

  it("an unreadable GIGAREELS_API_KEY_FILE: exit 4, the JSON error document", async () => {
    const missing = join(config.dir, "nope.txt");
    const human = await cli(["status"], { env: { GIGAREELS_API_KEY_FILE: missing } });
    expect(human.code).toBe(4);
    expect(human.stderr).toContain(missing);
    const json = await cli(["status", "--json"], { env: { GIGAREELS_API_KEY_FILE: missing } });
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: "api_key_file_unreadable", exitCode: 4 });
  });

  it("usage errors exit 2 in both modes: --all with --profile, a bad profile name", async () => {
    for (const args of [
      ["status", "--all", "--profile", "x"],
      ["status", "--profile", "no spaces allowed"],
    ]) {
      const human = await cli(args);
      expect(human.code, args.join(" ")).toBe(2);
      const json = await cli([...args, "--json"]);
      expect(json.code, args.join(" ")).toBe(2);
      expect(JSON.parse(json.stdout).error.exitCode).toBe(2);
    }
  });

  it("--help has a summary and examples", async () => {
    const r = await cli(["status", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--offline");
    expect(r.stdout).toContain("EXAMPLES");
  });
});

describeKeyring("gigareels status with the OS keychain", () => {
  it("reports the keychain as the source; --offline shows it from the metadata without opening it", async () => {
    const profile = uniqueProfile("status");
    const k = key();
    const env = { GIGAREELS_CONFIG_DIR: config.dir };
    try {
      const login = await runCli(
        ["login", "--with-token", "--base-url", emulator().url, "--profile", profile],
        { env, input: `${k}\n` },
      );
      expect(login.code, login.stderr).toBe(0);
      const online = await runCli(["status", "--profile", profile, "--json"], { env });
      expect(online.code, online.stderr).toBe(0);
      expect(JSON.parse(online.stdout).profiles[0].key).toMatchObject({
        source: "keychain",
        origin: `OS keychain (service gigareels, account ${profile})`,
        masked: `giga_****${k.slice(-4)}`,
      });
      // Offline, with no reachable D-Bus: the keychain cannot even be reached, and is not needed.
      const offline = await runCli(["status", "--profile", profile, "--offline"], {
        env: { ...env, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent" },
      });
      expect(offline.code, offline.stderr).toBe(0);
      expect(offline.stdout).toContain(`giga_****${k.slice(-4)} from the OS keychain`);
      expect(offline.stdout).toContain("not read with --offline");
      expectNoFullKey(online.stdout + online.stderr + offline.stdout + offline.stderr, k);
    } finally {
      await runCli(["logout", "--profile", profile], { env });
    }
  });
});

describe("the plain-http warning (issue 17 point 7)", () => {
  const NOT_HTTPS = "is not https";

  it("status --all: said once for a base URL that several profiles share (each profile keeps it in --json)", async () => {
    await storeKey(key(), "default");
    await storeKey(key(), "second");
    await storeKey(key(), "third");
    const r = await cli(["status", "--all"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(NOT_HTTPS)).toHaveLength(2);
    expect(r.stdout).toContain(`! The base URL ${emulator().url} ${NOT_HTTPS}`);
    const json = await cli(["status", "--all", "--json"]);
    const doc = JSON.parse(json.stdout) as StatusReportWithExit;
    expect(doc.profiles.map((p) => p.warnings.map((w) => w.code))).toEqual([
      ["base-url-http"],
      ["base-url-http"],
      ["base-url-http"],
    ]);
  });

  it("never for the loopback URL chosen at login with the emulator's printed command (--base-url), recorded on the profile", async () => {
    const k = key();
    const login = await cli(["login", "--with-token", "--base-url", emulator().url], { input: `${k}\n` });
    expect(login.code, login.stderr).toBe(0);
    expect(config.profile()).toMatchObject({ baseUrl: emulator().url, localChosen: true });
    const r = await cli(["status"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(NOT_HTTPS);
    const json = JSON.parse((await cli(["status", "--json"])).stdout) as StatusReportWithExit;
    expect(json.profiles[0]!.warnings).toEqual([]);
    // a later login to the same profile without naming the URL keeps the choice
    const again = await cli(["login", "--with-token"], { input: `${key()}\n` });
    expect(again.code, again.stderr).toBe(0);
    expect(config.profile()).toMatchObject({ baseUrl: emulator().url, localChosen: true });
    // nor for --base-url named on status itself; the environment's URL still gets it
    await storeKey(key(), "plain");
    const flag = await cli(["status", "--profile", "plain", "--base-url", emulator().url]);
    expect(flag.stdout).not.toContain(NOT_HTTPS);
    const env = await cli(["status", "--profile", "plain"], { env: { GIGAREELS_BASE_URL: emulator().url } });
    expect(env.stdout).toContain(NOT_HTTPS);
  });

  it("--local at login is recorded the same way (in-process: nothing listens on port 3000 here)", async () => {
    const { login } = await import("../../src/lib/auth/login.js");
    const k = key();
    await login({
      method: "token",
      profile: "default",
      baseUrl: "http://localhost:3000",
      timeoutMs: 10_000,
      readToken: async () => k,
      stdinIsTerminal: false,
      ui: { notice: () => {}, progress: () => {}, warn: () => {} },
      env: { GIGAREELS_CREDENTIAL_STORE: "file" },
      configDir: config.dir,
      // the answer of /api/me (the one request a pasted key makes) without a server on port 3000
      services: { me: async () => ({ id: "acct_1", email: "local@example.com" }) },
    });
    expect(config.profile()).toMatchObject({ baseUrl: "http://localhost:3000", localChosen: true });
  });
});
