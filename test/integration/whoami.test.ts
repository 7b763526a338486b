/**
 * `gigareels whoami`: in a terminal the email, name and plan; piped, only the email; --json the
 * whole /api/me answer; exit 4 for no key or a rejected key (with the fix for where the key came
 * from), 5 when the API cannot be reached; the same codes with --json. The built CLI runs in a
 * subprocess (run `npm run build` first); the terminal is a pseudo-terminal made by script(1).
 */
import { chmodSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { formatWhoami, whoami } from "../../src/lib/account/whoami.js";
import { saveCredentials } from "../../src/lib/credentials/index.js";
import {
  BIN,
  type CliResult,
  expectNoFullKey,
  type RunOptions,
  runCli,
  useTempConfig,
} from "../helpers/cli.js";
import { stubServer } from "../helpers/stub-server.js";
import { useEmulator } from "../helpers/emulator.js";
import { closedPort } from "../helpers/proxy.js";

const emulator = useEmulator({ rateLimits: false });
const config = useTempConfig();
let keys: string[];
beforeEach(() => {
  keys = [];
});

function key(options?: Parameters<ReturnType<typeof emulator>["createKey"]>[0]): string {
  const k = emulator().createKey(options);
  keys.push(k);
  return k;
}

async function storeKey(k: string, profile = "default") {
  await saveCredentials(
    { profile, key: k, baseUrl: emulator().url, store: "file", activate: profile === "default" },
    { configDir: config.dir, env: {} },
  );
}

async function cli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const r = await runCli(args, {
    ...options,
    env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_CREDENTIAL_STORE: "file", ...options.env },
  });
  expectNoFullKey(r.stdout + r.stderr, ...keys);
  return r;
}

/** Runs `gigareels <args>` with stdout on a pseudo-terminal (util-linux script). */
function inTerminal(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(" ");
  return cli([], { command: ["script", "-qec", command, "/dev/null"], env });
}

describe("gigareels whoami (built CLI)", () => {
  it("piped: only the email, so $(gigareels whoami) works", async () => {
    await storeKey(key({ email: "ada@example.com", name: "Ada Lovelace" }));
    const r = await cli(["whoami"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("ada@example.com\n");
    expect(r.stderr).toBe("");
  });

  it("in a terminal: email, name and plan", async () => {
    await storeKey(key({ email: "tty@example.com", name: "Terry Teletype", plan: "team" }));
    const r = await inTerminal(["whoami"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.replace(/\r/g, "").trim().split("\n");
    expect(lines).toEqual(["tty@example.com", "  Name: Terry Teletype", "  Plan: team"]);
  });

  it("--json: the whole /api/me answer", async () => {
    const k = key({ email: "json@example.com", name: "Jason" });
    await storeKey(k);
    const r = await cli(["whoami", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const info = emulator().keyInfo(k)!;
    expect(JSON.parse(r.stdout)).toEqual({
      id: info.account.id,
      email: "json@example.com",
      name: "Jason",
      plan: info.plan,
      key: { id: info.id, name: info.name, createdAt: info.createdAt },
    });
  });

  it("--profile picks the profile; GIGAREELS_API_KEY_FILE is a source too", async () => {
    await storeKey(key({ email: "default@example.com" }));
    await storeKey(key({ email: "staging@example.com" }), "staging");
    expect((await cli(["whoami", "--profile", "staging"])).stdout).toBe("staging@example.com\n");
    const path = join(config.dir, "key.txt");
    writeFileSync(path, `${key({ email: "file@example.com" })}\n`);
    const r = await cli(["whoami"], {
      env: { GIGAREELS_API_KEY_FILE: path, GIGAREELS_BASE_URL: emulator().url },
    });
    expect(r.stdout).toBe("file@example.com\n");
  });

  it("no key: exit 4 in both modes, saying how to log in", async () => {
    const human = await cli(["whoami"]);
    expect(human.code).toBe(4);
    expect(human.stdout).toBe("");
    expect(human.stderr).toContain("gigareels login");
    const json = await cli(["whoami", "--json"]);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: "missing_api_key", exitCode: 4 });
  });

  it("a rejected GIGAREELS_API_KEY: exit 4, the masked key and the fix (unset it)", async () => {
    const k = key();
    emulator().revokeKey(k);
    const env = { GIGAREELS_API_KEY: k, GIGAREELS_BASE_URL: emulator().url };
    const human = await cli(["whoami"], { env });
    expect(human.code).toBe(4);
    expect(human.stderr).toContain(
      `401 ${new URL(emulator().url).host} rejected the key giga_****${k.slice(-4)}`,
    );
    expect(human.stderr).toContain("Unset GIGAREELS_API_KEY");
    const json = await cli(["whoami", "--json"], { env });
    expect(json.code).toBe(4);
    const err = JSON.parse(json.stdout).error;
    expect(err).toMatchObject({ code: "authentication_error", exitCode: 4 });
    expect(err.suggestions[0]).toMatch(/^Unset GIGAREELS_API_KEY/);
  });

  it("a rejected stored key: the fix is gigareels login", async () => {
    const k = key();
    await storeKey(k);
    emulator().revokeKey(k);
    const r = await cli(["whoami"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("gigareels login");
  });

  it("the API cannot be reached: exit 5 in both modes", async () => {
    const env = { GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: `http://127.0.0.1:${await closedPort()}` };
    const human = await cli(["whoami"], { env });
    expect(human.code).toBe(5);
    expect(human.stderr).toContain("refused");
    const json = await cli(["whoami", "--json"], { env });
    expect(json.code).toBe(5);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: "connection_error", exitCode: 5 });
  });

  for (const [what, status] of [
    ["a web server's 404 page (the base URL is not the API)", 404],
    ["a captive portal's 200 page", 200],
  ] as const) {
    it(`${what}: exit 5 in both modes, one line saying to check the base URL`, async () => {
      const server = await stubServer(status, "<html><body>Not the API</body></html>");
      const url = server.url;
      try {
        const env = { GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: url };
        const human = await cli(["whoami"], { env });
        expect(human.code).toBe(5);
        expect(human.stdout).toBe("");
        expect(human.stderr.trim().split("\n")).toHaveLength(1);
        expect(human.stderr).toMatch(/^Error: .*text\/html/);
        // the base URL in use, named (it may come from --base-url, GIGAREELS_BASE_URL or the profile)
        expect(human.stderr).toMatch(new RegExp(`Check the base URL \\(?${url.replace(/\./g, "\\.")}`));
        const json = await cli(["whoami", "--json"], { env });
        expect(json.code).toBe(5);
        expect(JSON.parse(json.stdout).error).toMatchObject({ code: "malformed_response", exitCode: 5 });
      } finally {
        await server.stop();
      }
    });
  }
});

describe("an answer to /api/me that is not an account", () => {
  for (const body of ["[]", "{}", '{"email": 5}', '"me"']) {
    it(`${body}: one error line, exit 5, nothing on stdout (was an empty line and exit 0)`, async () => {
      const server = await stubServer(200, body, "application/json");
      try {
        const env = { GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: server.url };
        const human = await cli(["whoami"], { env });
        expect(human.code).toBe(5);
        expect(human.stdout).toBe("");
        const lines = human.stderr.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(
          new RegExp(
            `^Error: 127\\.0\\.0\\.1:\\d+ does not look like the GigaReels API: it answered GET /api/me with .+\\. Check the base URL ${server.url.replace(/\./g, "\\.")}`,
          ),
        );
        const json = await cli(["whoami", "--json"], { env });
        expect(json.code).toBe(5);
        expect(JSON.parse(json.stdout).error).toMatchObject({ code: "malformed_response", exitCode: 5 });
      } finally {
        await server.stop();
      }
    });
  }
});

describe("the credential store's report through the CLI's warning line", () => {
  it("status --offline on a credentials.json others can read: one Warning line on stderr", async () => {
    await storeKey(key());
    chmodSync(config.credentialsFile(), 0o644);
    const r = await cli(["status", "--offline"]);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("readable by other users"));
    expect(warnings).toEqual([
      `Warning: ${config.credentialsFile()} was readable by other users (mode 0644); tightened to 0600. If others could read it, revoke the key and log in again.`,
    ]);
    expect(statSync(config.credentialsFile()).mode & 0o777).toBe(0o600);
  });
});

describe("whoami (in-process)", () => {
  it("a 403 says to check the plan, then how to replace the key", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(403, { "content-type": "application/json" });
      res.end('{"error":"Insufficient permissions for this operation"}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const err = await whoami({ env: { GIGAREELS_API_KEY: key(), GIGAREELS_BASE_URL: url } }).catch(
        (e) => e,
      );
      expect(err).toMatchObject({ code: "permission_denied", status: 403 });
      expect(err.message).toMatch(
        /^403 127\.0\.0\.1:\d+ rejected the key giga_\*{4}\w{4} from GIGAREELS_API_KEY/,
      );
      expect(err.suggestions[0]).toContain("plan");
      expect(err.suggestions[1]).toMatch(/^Unset GIGAREELS_API_KEY/);
      expectNoFullKey(err.message + err.suggestions.join(" "), ...keys);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("formatWhoami: the email alone when not a terminal", () => {
    const me = { id: "acct_1", email: "a@b.c", name: "A", plan: "pro" };
    expect(formatWhoami(me, false)).toBe("a@b.c");
    expect(formatWhoami(me, true)).toBe("a@b.c\n  Name: A\n  Plan: pro");
    expect(formatWhoami({ id: "acct_2", email: "x@y.z" }, true)).toBe("x@y.z");
  });
});
