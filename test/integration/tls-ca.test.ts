/**
 * NODE_EXTRA_CA_CERTS: the emulator over HTTPS with a certificate from a test CA that only
 * that variable makes trusted (as a corporate TLS-inspecting proxy's CA). With it, the CLI
 * and the SDK's download work; without it, the request fails before the key is sent. No
 * command has a flag that switches verification off.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoFullKey, ROOT, runCli, tempConfigDir } from "../helpers/cli.js";
import { type EmulatorHandle, startEmulator } from "../helpers/emulator.js";
import { runSdkScript } from "../helpers/sdk-script.js";
import { createTestCa, type TestCa } from "../helpers/tls-ca.js";

let ca: TestCa;
let emu: EmulatorHandle;
let cfg: { dir: string; cleanup: () => void };

beforeAll(async () => {
  ca = createTestCa();
  emu = await startEmulator({
    port: 0,
    tls: ca.tls,
    renderDurationMs: 100,
    rateLimits: false,
    outputSizeBytes: 128 * 1024,
  });
  cfg = tempConfigDir();
});
afterAll(async () => {
  await emu?.stop();
  cfg?.cleanup();
  ca?.cleanup();
});

const env = (extra: Record<string, string | undefined>) => ({
  GIGAREELS_CONFIG_DIR: cfg.dir,
  GIGAREELS_API_KEY: emu.keys[0],
  GIGAREELS_BASE_URL: `https://localhost:${emu.port}`,
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  HTTP_PROXY: undefined,
  http_proxy: undefined,
  ...extra,
});

describe("NODE_EXTRA_CA_CERTS", () => {
  it("trusts the test CA for CLI requests", async () => {
    const r = await runCli(["api", "/api/me"], { env: env({ NODE_EXTRA_CA_CERTS: ca.caFile }) });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ email: "demo@gigareels.local" });
  });

  it("without it the certificate is refused: exit 5, one line that names the fix, the key never sent", async () => {
    const served = emu.requests.length;
    const r = await runCli(["api", "/api/me"], { env: env({ NODE_EXTRA_CA_CERTS: undefined }) });
    expect(r.code).toBe(5);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^Error: Could not reach localhost:\d+ \(GET \/api\/me\): the TLS handshake failed \(certificate problem\)\. .*set NODE_EXTRA_CA_CERTS to its CA certificate file$/,
    );
    expect(emu.requests.length).toBe(served);
    expectNoFullKey(r.stdout + r.stderr, emu.keys[0]!);
  });

  it("trusts it for the SDK's streamed download too (the SDK's socket fetch, no injected fetch)", async () => {
    const out = join(cfg.dir, "video.mp4");
    const script = `
      const c = new sdk.GigaReels();
      const { renderId } = await c.render({ type: "educational-brainrot", prompt: "p", characterPack: "rick-and-morty", backgroundVideoPack: "minecraft-parkour" });
      await c.waitForRender(renderId, { timeoutMs: 20000 });
      const o = await c.download(renderId, { path: process.env.GR_OUT });
      console.log(JSON.stringify({ bytes: o.bytes, url: o.url }));`;
    const r = await runSdkScript(script, { ...env({ NODE_EXTRA_CA_CERTS: ca.caFile }), GR_OUT: out });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toMatchObject({
      bytes: 128 * 1024,
      url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:/),
    });
    expect(statSync(out).size).toBe(128 * 1024);
  });

  it("no command has a flag to switch TLS verification off", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "oclif.manifest.json"), "utf8")) as {
      commands: Record<string, { flags: Record<string, unknown> }>;
    };
    const suspicious: string[] = [];
    for (const [id, c] of Object.entries(manifest.commands)) {
      for (const name of Object.keys(c.flags)) {
        if (name === "insecure-storage") continue; // the credential store, not TLS
        if (/insecure|verify|reject|unauthori[sz]ed|no-?tls|skip-?(tls|cert)|cacert|^ca$|^k$/i.test(name))
          suspicious.push(`${id} --${name}`);
      }
    }
    expect(Object.keys(manifest.commands)).toEqual(expect.arrayContaining(["api", "doctor", "login"]));
    expect(suspicious).toEqual([]);
  });
});
