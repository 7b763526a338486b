/**
 * `gigareels doctor`, the built CLI: each check passing and failing against the emulator
 * (plain http and HTTPS with a test CA), a loopback forward proxy, a server whose clock is
 * off, a taken port, broken credential files and an absent or silent keychain.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  CheckWithExit as Check,
  DoctorResultWithExit as DoctorResult,
} from "../../src/lib/cli/report-codes.js";
import { stubServer } from "../helpers/stub-server.js";
import { type CliResult, expectNoFullKey, runCli, tempConfigDir } from "../helpers/cli.js";
import { type EmulatorHandle, startEmulator } from "../helpers/emulator.js";
import { describeKeyring, skipWithoutKeytar } from "../helpers/keyring.js";
import { hasScript, inTerminal } from "../helpers/terminal.js";
import { closedPort, startProxy, type TestProxy } from "../helpers/proxy.js";
import { createTestCa, type TestCa } from "../helpers/tls-ca.js";

const ORDER = ["key", "credentials", "keychain", "dns", "tcp", "tls", "proxy", "api", "clock", "login-port"];
const NO_DBUS = {
  DBUS_SESSION_BUS_ADDRESS: undefined,
  DISPLAY: undefined,
  WAYLAND_DISPLAY: undefined,
  XDG_RUNTIME_DIR: undefined,
};
const NO_PROXY_VARS = {
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  HTTP_PROXY: undefined,
  http_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
};

let ca: TestCa;
let emu: EmulatorHandle;
let tlsEmu: EmulatorHandle;
let proxy: TestProxy;
let authProxy: TestProxy;
let skewed: Server;
let skewedUrl: string;
let tmp: { dir: string; cleanup: () => void };
const outputs: string[] = [];

beforeAll(async () => {
  ca = createTestCa();
  emu = await startEmulator({ port: 0, rateLimits: false });
  tlsEmu = await startEmulator({ port: 0, rateLimits: false, tls: ca.tls });
  const hosts = { "gigareels.test": "127.0.0.1" };
  proxy = await startProxy({ hosts });
  authProxy = await startProxy({ hosts, auth: { user: "u", password: "p" } });
  // An API whose clock is 10 minutes ahead of ours.
  skewed = createServer((_req, res) => {
    res.setHeader("date", new Date(Date.now() + 10 * 60_000).toUTCString());
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: "acct_1", email: "skew@example.com", plan: "pro", key: { name: "k" } }));
  });
  await new Promise<void>((r) => skewed.listen(0, "127.0.0.1", () => r()));
  skewedUrl = `http://127.0.0.1:${(skewed.address() as AddressInfo).port}`;
  tmp = tempConfigDir();
});

afterAll(async () => {
  await Promise.all([emu?.stop(), tlsEmu?.stop(), proxy?.stop(), authProxy?.stop()]);
  await new Promise((r) => skewed?.close(r));
  expectNoFullKey(outputs.join("\n"), ...(emu?.keys ?? []), ...(tlsEmu?.keys ?? []));
  tmp?.cleanup();
  ca?.cleanup();
});

let n = 0;
/** A fresh config folder per run, unless given. */
function configDir(): string {
  const d = join(tmp.dir, `c${n++}`);
  mkdirSync(d, { mode: 0o700 });
  return d;
}

async function doctor(
  extra: Record<string, string | undefined>,
  args: string[] = [],
): Promise<CliResult & { doc: DoctorResult; by: (id: string) => Check }> {
  const r = await runCli(["doctor", "--json", ...args], {
    env: {
      GIGAREELS_CONFIG_DIR: configDir(),
      GIGAREELS_API_KEY: emu.keys[0],
      GIGAREELS_BASE_URL: emu.url,
      ...NO_PROXY_VARS,
      ...extra,
    },
    timeoutMs: 60_000,
  });
  outputs.push(r.stdout, r.stderr);
  let doc: DoctorResult;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  const by = (id: string) => {
    const c = doc.checks.find((x) => x.id === id);
    if (!c) throw new Error(`no check ${id}`);
    return c;
  };
  return { ...r, doc, by };
}

const statuses = (doc: DoctorResult) => Object.fromEntries(doc.checks.map((c) => [c.id, c.status]));

describe("gigareels doctor: everything fine", () => {
  it("against the emulator by host name: every check in order, exit 0, one line each for people", async () => {
    const base = `http://localhost:${emu.port}`;
    const r = await doctor({ GIGAREELS_BASE_URL: base, ...NO_DBUS });
    expect(r.code).toBe(0);
    expect(r.doc.checks.map((c) => c.id)).toEqual(ORDER);
    expect(statuses(r.doc)).toEqual({
      key: "pass",
      credentials: "pass",
      keychain: "warn", // no D-Bus here: worth knowing, not a failure while the key is elsewhere
      dns: "pass",
      tcp: "pass",
      tls: "skip",
      proxy: "pass",
      api: "pass",
      clock: "pass",
      "login-port": "pass",
    });
    expect(r.doc).toMatchObject({ ok: true, exitCode: 0, baseUrl: base });
    expect(r.by("key").detail).toBe(`giga_****${emu.keys[0]!.slice(-4)} from GIGAREELS_API_KEY`);
    expect(r.by("dns").data?.addresses).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(127\.0\.0\.1|::1)$/)]),
    );
    expect(r.by("tcp").data).toMatchObject({ address: "127.0.0.1", port: emu.port });
    expect(r.by("tls").detail).toMatch(/plain http/);
    expect(r.by("proxy").detail).toMatch(/^None: /);
    expect(r.by("api").detail).toMatch(/^200 in \d+ ms: demo@gigareels\.local \(plan pro\)/);
    expect(r.by("clock").data?.skewMs).toEqual(expect.any(Number));
    expect(r.by("login-port").detail).toMatch(/^127\.0\.0\.1:\d+ can be bound/);

    const human = await runCli(["doctor"], {
      env: {
        GIGAREELS_CONFIG_DIR: configDir(),
        GIGAREELS_API_KEY: emu.keys[0],
        GIGAREELS_BASE_URL: base,
        ...NO_PROXY_VARS,
        ...NO_DBUS,
      },
    });
    outputs.push(human.stdout, human.stderr);
    expect(human.code).toBe(0);
    const lines = human.stdout.trim().split("\n");
    expect(lines).toHaveLength(ORDER.length + 1);
    expect(lines[0]).toMatch(/^ok {4}API key {13}giga_\*{4}\w{4} from GIGAREELS_API_KEY$/);
    expect(lines[2]).toMatch(/^warn {2}OS keychain .*\. Fix: /);
    expect(lines.at(-1)).toBe(`All checks passed for ${base} (1 warning).`);
  });

  it.skipIf(!hasScript)(
    "in a terminal: a green ✓ for each passed check and on the summary; none when piped or with NO_COLOR",
    async () => {
      const base = `http://localhost:${emu.port}`;
      const env = {
        GIGAREELS_CONFIG_DIR: configDir(),
        GIGAREELS_API_KEY: emu.keys[0],
        GIGAREELS_BASE_URL: base,
        ...NO_PROXY_VARS,
        ...NO_DBUS,
      };
      const tty = await inTerminal(["doctor"], [], { env: { ...env, NO_COLOR: undefined } });
      outputs.push(tty.screen);
      expect(tty.code, tty.screen).toBe(0);
      const plain = tty.screen.replace(/\u001b\[[0-9;]*m/g, "").replace(/\r/g, "");
      expect(plain).toMatch(/^✓ {5}API key {13}giga_\*{4}\w{4} from GIGAREELS_API_KEY$/m);
      expect(plain).toMatch(/^✓ {5}API \(\/api\/me\) +200 in/m);
      expect(plain).toMatch(/^warn {2}OS keychain /m);
      expect(plain).toContain(`✓ All checks passed for ${base} (1 warning).`);
      expect(tty.screen).toContain("\u001b[32m✓\u001b[39m");
      const noColor = await inTerminal(["doctor"], [], { env: { ...env, NO_COLOR: "1" } });
      expect(noColor.code).toBe(0);
      expect(noColor.screen).not.toContain("✓");
      expect(noColor.screen).toMatch(/^ok {4}API key/m);
      const piped = await runCli(["doctor"], { env });
      expect(piped.stdout).not.toContain("✓");
    },
  );

  it("HTTPS with NODE_EXTRA_CA_CERTS: TLS passes and names the CA and where it came from", async () => {
    const r = await doctor({
      GIGAREELS_BASE_URL: `https://localhost:${tlsEmu.port}`,
      GIGAREELS_API_KEY: tlsEmu.keys[0],
      NODE_EXTRA_CA_CERTS: ca.caFile,
    });
    expect(r.code).toBe(0);
    expect(r.by("tls").status).toBe("pass");
    expect(r.by("tls").detail).toMatch(
      new RegExp(
        `^TLSv1\\.[23], certificate for gigareels\\.test valid until .+, verified by "GigaReels Test CA" from NODE_EXTRA_CA_CERTS \\(${ca.caFile}\\)$`,
      ),
    );
    expect(r.by("tls").data).toMatchObject({ ca: "GigaReels Test CA", caStore: "extra", caFile: ca.caFile });
    expect(r.by("api").status).toBe("pass");
  });

  it("through a proxy: DNS and TCP are the proxy's, TLS goes through its tunnel, the proxy check names it", async () => {
    const before = proxy.requests.length;
    const r = await doctor({
      GIGAREELS_BASE_URL: `https://gigareels.test:${tlsEmu.port}`,
      GIGAREELS_API_KEY: tlsEmu.keys[0],
      NODE_EXTRA_CA_CERTS: ca.caFile,
      HTTPS_PROXY: proxy.url,
    });
    expect(r.code).toBe(0);
    expect(r.by("dns").detail).toBe(
      "127.0.0.1 (the proxy from HTTPS_PROXY) is an IP address: nothing to resolve; the proxy resolves gigareels.test",
    );
    expect(r.by("tcp").detail).toMatch(
      new RegExp(`^Connected to the proxy at 127\\.0\\.0\\.1:${proxy.port} in \\d+ ms$`),
    );
    expect(r.by("tls").detail).toContain('verified by "GigaReels Test CA" from NODE_EXTRA_CA_CERTS');
    expect(r.by("proxy").detail).toBe(
      `${proxy.url} (from HTTPS_PROXY) opened a tunnel to gigareels.test:${tlsEmu.port}`,
    );
    expect(r.by("api").status).toBe("pass");
    const tunnels = proxy.requests.slice(before).filter((q) => q.method === "CONNECT" && q.status === 200);
    expect(tunnels.length).toBe(2); // the doctor's own look at TLS, then the API request
  });

  it("NO_PROXY and loopback: the proxy check says why none is used", async () => {
    const loop = await doctor({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
    expect(loop.by("proxy")).toMatchObject({
      status: "pass",
      detail: "Not used for 127.0.0.1: loopback is never proxied",
    });
    const bypass = await doctor({
      GIGAREELS_BASE_URL: `https://gigareels.test:${tlsEmu.port}`,
      HTTPS_PROXY: proxy.url,
      no_proxy: "gigareels.test",
    });
    expect(bypass.by("dns").status).toBe("fail"); // direct, so the name does not resolve
    expect(bypass.code).toBe(5);
  });
});

describe("gigareels doctor: each failure, its fix and its exit code", () => {
  it("key: none (exit 4), malformed (exit 4); the API check is skipped, the clock still checked", async () => {
    // (no D-Bus: a keyring of the machine running the tests may hold a "default" item)
    const none = await doctor({ GIGAREELS_API_KEY: undefined, ...NO_DBUS });
    expect(none.code).toBe(4);
    expect(none.by("key")).toMatchObject({
      status: "fail",
      exitCode: 4,
      fix: "Run gigareels login, or set GIGAREELS_API_KEY",
    });
    expect(none.by("api").status).toBe("skip");
    expect(none.by("clock").status).toBe("pass");
    expect(none.doc).toMatchObject({ ok: false, exitCode: 4 });

    const bad = await doctor({ GIGAREELS_API_KEY: "giga_tooShort" });
    expect(bad.code).toBe(4);
    expect(bad.by("key").detail).toMatch(/^The key from GIGAREELS_API_KEY is malformed: /);
    expect(bad.by("key").fix).toMatch(/copy it again from the dashboard/);
  });

  it("credentials file: a valid one passes; readable by others fails (exit 1, tightened); corrupt JSON fails (exit 1)", async () => {
    const key = emu.keys[0]!;
    const file = (dir: string, mode: number) => {
      const path = join(dir, "credentials.json");
      writeFileSync(
        path,
        JSON.stringify({
          version: 2,
          activeProfile: "default",
          profiles: {
            default: { baseUrl: emu.url, keyLocation: "file", apiKey: key, keyLast4: key.slice(-4) },
          },
        }),
      );
      chmodSync(path, mode);
      return path;
    };
    const good = configDir();
    file(good, 0o600);
    const ok = await doctor({
      GIGAREELS_CONFIG_DIR: good,
      GIGAREELS_API_KEY: undefined,
      GIGAREELS_BASE_URL: undefined,
    });
    expect(ok.code).toBe(0);
    expect(ok.by("key").detail).toBe(`giga_****${key.slice(-4)} from credentials.json (profile default)`);
    expect(ok.by("credentials").detail).toMatch(
      /credentials\.json: format v2, mode 0600, 1 profile, 1 key in the file$/,
    );
    expect(ok.doc.baseUrl).toBe(emu.url); // the profile's base URL

    const loose = configDir();
    const path = file(loose, 0o644);
    const r = await doctor({
      GIGAREELS_CONFIG_DIR: loose,
      GIGAREELS_API_KEY: undefined,
      GIGAREELS_BASE_URL: undefined,
    });
    expect(r.code).toBe(1);
    expect(r.by("credentials")).toMatchObject({ status: "fail", exitCode: 1 });
    expect(r.by("credentials").detail).toBe(
      `${path} has mode 0644: other users can read it (gigareels has now tightened it to 0600)`,
    );
    expect(r.by("credentials").fix).toMatch(/revoke the key \(gigareels logout --revoke\)/);

    const broken = configDir();
    writeFileSync(join(broken, "credentials.json"), "{ not json", { mode: 0o600 });
    const c = await doctor({ GIGAREELS_CONFIG_DIR: broken });
    expect(c.code).toBe(1);
    expect(c.by("key").status).toBe("pass"); // GIGAREELS_API_KEY still works
    expect(c.by("credentials")).toMatchObject({ status: "fail", exitCode: 1 });
    expect(c.by("credentials").detail).toMatch(/is not valid JSON/);
  });

  it("keychain: the key is said to be there but no keychain answers -> fail (and the key check fails first, exit 4)", async () => {
    const dir = configDir();
    writeFileSync(
      join(dir, "credentials.json"),
      JSON.stringify({
        version: 2,
        activeProfile: "default",
        profiles: { default: { baseUrl: emu.url, keyLocation: "keychain", keyLast4: "abcd" } },
      }),
      { mode: 0o600 },
    );
    const r = await doctor({ GIGAREELS_CONFIG_DIR: dir, GIGAREELS_API_KEY: undefined, ...NO_DBUS });
    expect(r.code).toBe(4);
    expect(r.by("key").detail).toMatch(/Could not read the key of profile "default" from the OS keychain/);
    expect(r.by("keychain")).toMatchObject({ status: "fail", exitCode: 1 });
    expect(r.by("keychain").detail).toMatch(/^Not available \(/);
    expect(r.by("keychain").fix).toMatch(/gigareels login --insecure-storage/);
  });

  // keytar must load to reach the silent peer (without it the check says keytar is missing).
  it.skipIf(skipWithoutKeytar("doctor's keychain time-out test"))(
    "keychain: a D-Bus peer that never answers -> 'did not answer' (a locked or stuck keyring)",
    async () => {
      const sock = join(tmp.dir, "silent.sock");
      const silent = createNetServer(() => {}).listen(sock);
      await new Promise((r) => silent.once("listening", r));
      try {
        const r = await doctor({ ...NO_DBUS, DBUS_SESSION_BUS_ADDRESS: `unix:path=${sock}` });
        expect(r.by("keychain").status).toBe("warn"); // the key in use is GIGAREELS_API_KEY
        expect(r.by("keychain").detail).toMatch(
          /^Did not answer \(the keychain listing did not answer within 3000 ms\): the keyring may be locked/,
        );
        expect(r.by("keychain").fix).toMatch(/^Unlock the keyring/);
        expect(r.code).toBe(0);
      } finally {
        silent.close();
      }
    },
  );

  it("DNS: a name that does not resolve -> exit 5, later network checks skipped, the login port still checked", async () => {
    const r = await doctor({ GIGAREELS_BASE_URL: "https://gigareels.test" });
    expect(r.code).toBe(5);
    expect(r.by("dns")).toMatchObject({
      status: "fail",
      exitCode: 5,
      detail: "gigareels.test could not be resolved (no such host)",
    });
    expect(r.by("dns").fix).toMatch(/Check the host in GIGAREELS_BASE_URL/);
    for (const id of ["tcp", "tls", "proxy", "api", "clock"]) expect(r.by(id).status, id).toBe("skip");
    expect(r.by("login-port").status).toBe("pass");
  });

  it("TCP: nothing listening -> exit 5", async () => {
    const port = await closedPort();
    const r = await doctor({ GIGAREELS_BASE_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(5);
    expect(r.by("tcp")).toMatchObject({
      status: "fail",
      detail: `Could not connect to 127.0.0.1:${port}: the connection was refused`,
    });
    expect(r.by("tcp").fix).toBe(
      `Check that the server at http://127.0.0.1:${port} is running (and the port in GIGAREELS_BASE_URL)`,
    );
  });

  it("TLS: a certificate from an unknown CA -> exit 5 with the NODE_EXTRA_CA_CERTS fix; a missing CA file is named", async () => {
    const base = {
      GIGAREELS_BASE_URL: `https://localhost:${tlsEmu.port}`,
      GIGAREELS_API_KEY: tlsEmu.keys[0],
    };
    const r = await doctor({ ...base, NODE_EXTRA_CA_CERTS: undefined });
    expect(r.code).toBe(5);
    expect(r.by("tls")).toMatchObject({
      status: "fail",
      exitCode: 5,
      data: { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
    });
    expect(r.by("tls").fix).toMatch(
      /set NODE_EXTRA_CA_CERTS to its CA certificate \(PEM\) file; verification is never switched off/,
    );
    expect(r.by("api").status).toBe("skip");
    const missing = await doctor({ ...base, NODE_EXTRA_CA_CERTS: join(tmp.dir, "nope.pem") });
    expect(missing.by("tls").fix).toMatch(
      /NODE_EXTRA_CA_CERTS=.*nope\.pem cannot be read \(no such file\), so Node ignored it/,
    );
  });

  it("proxy: asks for credentials -> exit 5 naming the proxy, TLS skipped; a proxy that is down fails at TCP", async () => {
    const base = {
      GIGAREELS_BASE_URL: `https://gigareels.test:${tlsEmu.port}`,
      GIGAREELS_API_KEY: tlsEmu.keys[0],
      NODE_EXTRA_CA_CERTS: ca.caFile,
    };
    const r = await doctor({ ...base, HTTPS_PROXY: authProxy.url });
    expect(r.code).toBe(5);
    expect(r.by("tls").status).toBe("skip");
    expect(r.by("proxy")).toMatchObject({ status: "fail", exitCode: 5 });
    expect(r.by("proxy").detail).toContain(
      "the proxy asks for a user name and password (407 Proxy Authentication Required)",
    );
    expect(r.by("proxy").fix).toBe("Put them in HTTPS_PROXY (http://USER:PASSWORD@HOST:PORT)");
    const ok = await doctor({ ...base, HTTPS_PROXY: authProxy.url.replace("http://", "http://u:p@") });
    expect(ok.code).toBe(0);
    expect(ok.by("proxy").detail).toMatch(
      /^http:\/\/u:\*\*\*\*@127\.0\.0\.1:\d+ \(from HTTPS_PROXY\) opened a tunnel/,
    );

    const port = await closedPort();
    const down = await doctor({ ...base, HTTPS_PROXY: `http://127.0.0.1:${port}` });
    expect(down.code).toBe(5);
    expect(down.by("tcp")).toMatchObject({
      status: "fail",
      detail: `Could not connect to the proxy at 127.0.0.1:${port}: the connection was refused`,
    });
    expect(down.by("tcp").fix).toBe("Check that the proxy in HTTPS_PROXY is running");
  });

  it("API: a revoked key -> exit 4; a server error -> exit 5", async () => {
    const key = emu.createKey();
    emu.revokeKey(key);
    const r = await doctor({ GIGAREELS_API_KEY: key });
    expect(r.code).toBe(4);
    expect(r.by("key").status).toBe("pass"); // well-formed; the server is the one that refuses it
    expect(r.by("api")).toMatchObject({
      status: "fail",
      exitCode: 4,
      detail: "401 Invalid API key",
      fix: "Run gigareels login",
    });
    expect(r.by("clock").status).toBe("pass"); // a 401 still carries a Date
    outputs.push(key); // (the revoked key is in no output: checked below by expectNoFullKey)
    expectNoFullKey(r.stdout + r.stderr, key);
    outputs.pop();

    emu.addFault({ route: "/api/me", times: 1, fault: { kind: "status", status: 503 } });
    const s = await doctor({});
    expect(s.code).toBe(5);
    expect(s.by("api")).toMatchObject({ status: "fail", exitCode: 5 });
    expect(s.by("api").detail).toMatch(/^503 /);
  });

  it("API: a web server's 200 page (a captive portal) -> exit 5 with the same base-URL fix", async () => {
    const web = await stubServer(200, "<html><body>Sign in to the Wi-Fi</body></html>");
    const url = web.url;
    try {
      const r = await doctor({ GIGAREELS_BASE_URL: url });
      expect(r.code).toBe(5);
      expect(r.by("api")).toMatchObject({
        status: "fail",
        exitCode: 5,
        detail: "200 but the answer to GET /api/me is not JSON",
        fix: expect.stringContaining(`Check the base URL ${url} `),
      });
    } finally {
      await web.stop();
    }
  });

  it("API: a web server's 404 page (the base URL is not the API) -> exit 5 with the base-URL fix", async () => {
    const web = await stubServer(404, "<html><body>404 Not Found</body></html>");
    const url = web.url;
    try {
      const r = await doctor({ GIGAREELS_BASE_URL: url });
      expect(r.code).toBe(5);
      expect(r.doc.exitCode).toBe(5);
      expect(r.by("tcp").status).toBe("pass");
      expect(r.by("api")).toMatchObject({
        status: "fail",
        exitCode: 5,
        fix: expect.stringContaining(`Check the base URL ${url} `),
      });
      expect(r.by("api").detail).toMatch(
        /does not look like the GigaReels API: it answered GET \/api\/me with 404 .*text\/html/,
      );
    } finally {
      await web.stop();
    }
  });

  it("clock: 10 minutes off the server's Date -> exit 1 with the fix", async () => {
    const r = await doctor({ GIGAREELS_BASE_URL: skewedUrl });
    expect(r.code).toBe(1);
    expect(r.by("api").status).toBe("pass");
    expect(r.by("clock")).toMatchObject({ status: "fail", exitCode: 1 });
    expect(r.by("clock").detail).toMatch(/^This machine's clock is 10 min behind the server's \(/);
    expect(r.by("clock").fix).toMatch(/automatic time synchronisation/);
    expect(r.by("clock").data?.skewMs).toBeLessThan(-9 * 60_000);
  });

  it("login port: --port that is taken -> exit 2; a free one passes", async () => {
    const taken = createNetServer().listen(0, "127.0.0.1");
    await new Promise((r) => taken.once("listening", r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = await doctor({}, ["--port", String(port)]);
      expect(r.code).toBe(2);
      expect(r.by("login-port")).toMatchObject({
        status: "fail",
        exitCode: 2,
        detail: `Port ${port} is in use, so the login callback cannot listen on it`,
      });
      expect(r.by("login-port").fix).toMatch(/Pass another --port to gigareels login --web/);
    } finally {
      taken.close();
    }
    const free = await closedPort();
    const ok = await doctor({}, ["--port", String(free)]);
    expect(ok.by("login-port")).toMatchObject({ status: "pass", data: { port: free } });
  });
});

describeKeyring("gigareels doctor with a Secret Service", () => {
  it("keychain: available -> pass", async () => {
    const r = await doctor({});
    expect(r.by("keychain")).toMatchObject({ status: "pass" });
    expect(r.by("keychain").detail).toMatch(/^Available \(\d+ gigareels items?\)$/);
  });
});
