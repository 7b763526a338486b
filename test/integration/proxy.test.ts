/**
 * Proxies, end to end: the built CLI and the SDK (in subprocesses, as users run them) against
 * the emulator served over HTTPS with a test CA, under the name `gigareels.test`, which only
 * the test proxy resolves (to 127.0.0.1). A request that reaches the emulator therefore went
 * through the proxy; one that goes direct fails with a DNS error.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoFullKey, runCli, tempConfigDir } from "../helpers/cli.js";
import {
  api,
  type EmulatorHandle,
  SAMPLE_BODIES,
  startEmulator,
  waitForRender,
} from "../helpers/emulator.js";
import { closedPort, startProxy, type TestProxy } from "../helpers/proxy.js";
import { runSdkScript } from "../helpers/sdk-script.js";
import { createTestCa, type TestCa } from "../helpers/tls-ca.js";

const HOST = "gigareels.test";
const OUTPUT_SIZE = 300 * 1024;
const PROXY_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"];

let ca: TestCa;
let emu: EmulatorHandle; // HTTPS, certificate for gigareels.test from the test CA
let plain: EmulatorHandle; // plain http, for HTTP_PROXY
let proxy: TestProxy;
let authProxy: TestProxy;
let refusing: TestProxy;
let cfg: { dir: string; cleanup: () => void };
let base: string;
let key: string;

beforeAll(async () => {
  ca = createTestCa(HOST);
  emu = await startEmulator({
    port: 0,
    tls: ca.tls,
    renderDurationMs: 100,
    rateLimits: false,
    outputSizeBytes: OUTPUT_SIZE,
  });
  plain = await startEmulator({
    port: 0,
    renderDurationMs: 100,
    rateLimits: false,
    outputSizeBytes: OUTPUT_SIZE,
  });
  const hosts = { [HOST]: "127.0.0.1" };
  proxy = await startProxy({ hosts });
  authProxy = await startProxy({ hosts, auth: { user: "alice", password: "pr0xy-s3cret" } });
  refusing = await startProxy({ hosts, refuse: true });
  cfg = tempConfigDir();
  base = `https://${HOST}:${emu.port}`;
  key = emu.keys[0]!;
});

afterAll(async () => {
  await Promise.all([emu?.stop(), plain?.stop(), proxy?.stop(), authProxy?.stop(), refusing?.stop()]);
  cfg?.cleanup();
  ca?.cleanup();
});

/** The CLI's environment: the key, the proxied base URL, the test CA; proxy variables only as given. */
function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = {
    GIGAREELS_CONFIG_DIR: cfg.dir,
    GIGAREELS_API_KEY: key,
    GIGAREELS_BASE_URL: base,
    NODE_EXTRA_CA_CERTS: ca.caFile,
  };
  for (const v of PROXY_VARS) e[v] = undefined;
  return { ...e, ...extra };
}

const tunnelsTo = (p: TestProxy, port: number) =>
  p.requests.filter((r) => r.method === "CONNECT" && r.target === `${HOST}:${port}`);

describe("gigareels api through a proxy", () => {
  it("without a proxy the name does not resolve: the direct route really is closed", async () => {
    const r = await runCli(["api", "/api/me"], { env: env() });
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^Error: Could not reach gigareels\.test:\d+ \(GET \/api\/me\): the host name could not be resolved/,
    );
  });

  it("HTTPS_PROXY carries the request in a CONNECT tunnel, TLS verified end to end with the test CA", async () => {
    const before = tunnelsTo(proxy, emu.port).length;
    const served = emu.requests.length;
    const r = await runCli(["api", "/api/me"], { env: env({ HTTPS_PROXY: proxy.url }) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ email: "demo@gigareels.local" });
    const tunnels = tunnelsTo(proxy, emu.port).slice(before);
    expect(tunnels).toHaveLength(1);
    expect(tunnels[0]).toMatchObject({ status: 200 });
    expect(emu.requests.slice(served).map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual([
      "GET /api/me 200",
    ]);
    expectNoFullKey(r.stdout + r.stderr, key);
  });

  it("lower-case https_proxy works the same, and so does HTTP_PROXY alone (undici's fallback)", async () => {
    for (const v of ["https_proxy", "HTTP_PROXY"]) {
      const before = tunnelsTo(proxy, emu.port).length;
      const r = await runCli(["api", "/api/me", "--json"], { env: env({ [v]: proxy.url }) });
      expect(r.code, `${v}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 200, body: { plan: "pro" } });
      expect(tunnelsTo(proxy, emu.port).length).toBe(before + 1);
    }
  });

  it("NO_PROXY bypasses the proxy (exact name, .suffix, upper or lower case): the request goes direct and fails on DNS", async () => {
    for (const [name, value] of [
      ["NO_PROXY", HOST],
      ["no_proxy", ".test"],
      ["NO_PROXY", `other.example, ${HOST}:${emu.port}`],
    ] as const) {
      const before = proxy.requests.length;
      const r = await runCli(["api", "/api/me"], { env: env({ HTTPS_PROXY: proxy.url, [name]: value }) });
      expect(r.code, `${name}=${value}`).toBe(5);
      expect(r.stderr).toMatch(/the host name could not be resolved/);
      expect(proxy.requests.length, `${name}=${value}: the proxy saw nothing`).toBe(before);
    }
    // A NO_PROXY entry for another port does not apply.
    const r = await runCli(["api", "/api/me"], {
      env: env({ HTTPS_PROXY: proxy.url, NO_PROXY: `${HOST}:1` }),
    });
    expect(r.code).toBe(0);
  });

  it("loopback is never proxied, even with HTTPS_PROXY and HTTP_PROXY set", async () => {
    const before = proxy.requests.length;
    const r = await runCli(["api", "/api/me"], {
      env: env({
        GIGAREELS_BASE_URL: plain.url,
        GIGAREELS_API_KEY: plain.keys[0],
        HTTPS_PROXY: proxy.url,
        HTTP_PROXY: proxy.url,
      }),
    });
    expect(r.code).toBe(0);
    expect(proxy.requests.length).toBe(before);
  });

  it("a proxy that asks for credentials (407): one line naming the proxy and the fix, not retried; credentials in the URL work and never show", async () => {
    const before = authProxy.requests.length;
    const r = await runCli(["api", "/api/me"], { env: env({ HTTPS_PROXY: authProxy.url }) });
    expect(r.code).toBe(5);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `Error: Could not reach ${HOST}:${emu.port} through the proxy ${authProxy.url} (from HTTPS_PROXY): the proxy asks for a user name and password (407 Proxy Authentication Required). Put them in HTTPS_PROXY (http://USER:PASSWORD@HOST:PORT), or add ${HOST} to NO_PROXY if it can be reached directly`,
    );
    expect(authProxy.requests.length - before).toBe(1); // a refusal is final: no retry

    const withCreds = authProxy.url.replace("http://", "http://alice:pr0xy-s3cret@");
    const ok = await runCli(["api", "/api/me"], { env: env({ HTTPS_PROXY: withCreds }) });
    expect(ok.code).toBe(0);
    expect(authProxy.requests.at(-1)).toMatchObject({ method: "CONNECT", authorized: true, status: 200 });

    const wrong = authProxy.url.replace("http://", "http://alice:wrong-pass@");
    const bad = await runCli(["api", "/api/me", "--json"], { env: env({ HTTPS_PROXY: wrong }) });
    expect(bad.code).toBe(5);
    const doc = JSON.parse(bad.stdout);
    expect(doc.error).toMatchObject({ code: "connection_error", exitCode: 5 });
    expect(doc.error.message).toContain("through the proxy http://alice:****@127.0.0.1");
    expect(bad.stdout + bad.stderr + ok.stdout + ok.stderr).not.toMatch(/wrong-pass|pr0xy-s3cret/);
  });

  it("a proxy that refuses the host (403) and a proxy that is down: one line each, exit 5", async () => {
    const r = await runCli(["api", "/api/me"], { env: env({ HTTPS_PROXY: refusing.url }) });
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(
      `the proxy refused to connect to it (403 Forbidden). Ask your network administrator to allow ${HOST}`,
    );

    const port = await closedPort();
    const down = await runCli(["api", "/api/me"], { env: env({ HTTPS_PROXY: `http://127.0.0.1:${port}` }) });
    expect(down.code).toBe(5);
    expect(down.stderr.trim().split("\n")).toHaveLength(1);
    expect(down.stderr).toMatch(
      new RegExp(
        `^Error: Could not reach the proxy http://127\\.0\\.0\\.1:${port} \\(from HTTPS_PROXY\\): the connection was refused\\. Check HTTPS_PROXY and that the proxy is running`,
      ),
    );
  });
});

describe("the SDK and downloads through a proxy", () => {
  const renderAndDownload = `
    const c = new sdk.GigaReels();
    try {
      const { renderId } = await c.render(${JSON.stringify(SAMPLE_BODIES["/api/render"])});
      const done = await c.waitForRender(renderId, { timeoutMs: 20000 });
      // The same file, under the proxied host name (the emulator names itself 127.0.0.1).
      const url = new URL(new URL(done.outputFile).pathname, process.env.GIGAREELS_BASE_URL).href;
      const out = await c.download(url, { path: process.env.GR_OUT, maxRetries: 0 });
      console.log(JSON.stringify({ bytes: out.bytes, url }));
    } catch (e) {
      console.log(JSON.stringify({ error: e.code, message: e.message }));
    }`;

  it("new GigaReels() honours HTTPS_PROXY for API calls and for the download (https, streamed through the tunnel)", async () => {
    const out = join(cfg.dir, "via-proxy.mp4");
    const served = emu.requests.length;
    const r = await runSdkScript(renderAndDownload, { ...env({ HTTPS_PROXY: proxy.url }), GR_OUT: out });
    expect(r.stderr).toBe("");
    const res = JSON.parse(r.stdout);
    expect(res).toEqual({
      bytes: OUTPUT_SIZE,
      url: expect.stringMatching(/^https:\/\/gigareels\.test:\d+\/files\//),
    });
    expect(statSync(out).size).toBe(OUTPUT_SIZE);
    const paths = emu.requests.slice(served).map((q) => `${q.method} ${q.path.replace(/rnd_\w+/, "ID")}`);
    expect(paths).toContain("POST /api/render");
    expect(paths).toContain("GET /files/ID.mp4");
  });

  it("with NO_PROXY for the host the same script goes direct and cannot resolve it", async () => {
    const out = join(cfg.dir, "no-proxy.mp4");
    const before = proxy.requests.length;
    const r = await runSdkScript(renderAndDownload, {
      ...env({ HTTPS_PROXY: proxy.url, NO_PROXY: HOST }),
      GR_OUT: out,
    });
    expect(JSON.parse(r.stdout)).toMatchObject({ error: "connection_error" });
    expect(proxy.requests.length).toBe(before);
    expect(existsSync(out)).toBe(false);
  });

  it("HTTP_PROXY carries a plain-http download through the same undici dispatcher as API calls (a CONNECT tunnel), and its 407 is a final download error", async () => {
    const created = await api(plain, "/api/render", { json: SAMPLE_BODIES["/api/render"] });
    const { renderId } = (await created.json()) as { renderId: string };
    expect(await waitForRender(plain, renderId)).toMatchObject({ status: "done" });
    const url = `http://${HOST}:${plain.port}/files/${renderId}.mp4`;
    const out = join(cfg.dir, "plain.mp4");
    const script = `
      const c = new sdk.GigaReels({ apiKey: process.env.GR_KEY, baseUrl: process.env.GR_BASE });
      try {
        const o = await c.download(process.env.GR_URL, { path: process.env.GR_OUT, maxRetries: 0 });
        console.log(JSON.stringify({ bytes: o.bytes }));
      } catch (e) { console.log(JSON.stringify({ error: e.code, message: e.message })); }`;
    const vars = { GR_KEY: plain.keys[0], GR_BASE: plain.url, GR_URL: url, GR_OUT: out };
    const r = await runSdkScript(script, { ...vars, HTTP_PROXY: proxy.url });
    expect(JSON.parse(r.stdout)).toEqual({ bytes: OUTPUT_SIZE });
    expect(proxy.requests.at(-1)).toEqual({
      method: "CONNECT",
      target: `${HOST}:${plain.port}`,
      status: 200,
      authorized: true,
    });
    expect(plain.requests.at(-1)).toMatchObject({
      method: "GET",
      path: `/files/${renderId}.mp4`,
      status: 200,
    });

    const refused = await runSdkScript(script, { ...vars, GR_OUT: `${out}.2`, HTTP_PROXY: authProxy.url });
    const doc = JSON.parse(refused.stdout);
    expect(doc).toMatchObject({ error: "download_failed" });
    expect(doc.message).toBe(
      `Could not reach ${HOST}:${plain.port} through the proxy ${authProxy.url} (from HTTP_PROXY): the proxy asks for a user name and password (407 Proxy Authentication Required)`,
    );
  });

  it("undici is loaded only when a request needs a proxy", async () => {
    const script = `
      const { createRequire } = await import("node:module");
      const c = new sdk.GigaReels({ apiKey: process.env.GR_KEY, baseUrl: process.env.GR_BASE });
      let ok = true;
      try { await c.me(); } catch (e) { ok = e.code; }
      const cache = createRequire(process.cwd() + "/x.js").cache;
      console.log(JSON.stringify({ ok, undici: Object.keys(cache).some((k) => k.includes("/node_modules/undici/")) }));`;
    const loopback = { GR_KEY: plain.keys[0], GR_BASE: plain.url };
    expect(JSON.parse((await runSdkScript(script, loopback)).stdout)).toEqual({ ok: true, undici: false });
    expect(JSON.parse((await runSdkScript(script, { ...loopback, HTTPS_PROXY: proxy.url })).stdout)).toEqual({
      ok: true,
      undici: false,
    });
    const proxied = { GR_KEY: key, GR_BASE: base, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: ca.caFile };
    expect(JSON.parse((await runSdkScript(script, proxied)).stdout)).toEqual({ ok: true, undici: true });
  });
});
