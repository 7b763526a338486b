/** Requests that get no answer: refused, TLS failure, a DNS name that does not resolve. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConnectionError, GigaReels } from "../../src/index.js";
import { connectionReason } from "../../src/lib/sdk/transport.js";
import { expectNoFullKey } from "../helpers/cli.js";
import { withEmulator } from "../helpers/emulator.js";

const KEY = "giga_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const env = { GIGAREELS_CONFIG_DIR: "/nonexistent-gigareels-config" };

function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "gigareels-tls-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"].concat([
        "-keyout",
        join(dir, "k.pem"),
        "-out",
        join(dir, "c.pem"),
      ]),
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "k.pem"), "utf8"), cert: readFileSync(join(dir, "c.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("connection failures", () => {
  it("an untrusted certificate is a ConnectionError(tls), not retried, the key never sent", async () => {
    const tls = selfSigned();
    await withEmulator({ tls, keys: [KEY] }, async (emu) => {
      const url = emu.url.replace(/^http:/, "https:");
      const lines: string[] = [];
      const c = new GigaReels({ apiKey: KEY, baseUrl: url, env, maxRetries: 2, debug: (l) => lines.push(l) });
      const err = await c.me().catch((e) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect(err.reason).toBe("tls");
      expect(err.message).toMatch(/TLS handshake failed/);
      expectNoFullKey(`${err.message} ${err.suggestions.join(" ")}`, KEY);
      expect(emu.requests).toHaveLength(0);
      expect(lines.filter((l) => l.includes("-> GET"))).toHaveLength(1);
      expect(lines.some((l) => l.includes("not retrying: a certificate problem"))).toBe(true);
    });
  });

  it("a name that does not resolve is a ConnectionError(dns)", async () => {
    const c = new GigaReels({ apiKey: KEY, baseUrl: "https://gigareels-test.invalid", env, maxRetries: 0 });
    const err = await c.me().catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.reason).toBe("dns");
    expect(err.code).toBe("connection_error");
  });

  it("a port fetch refuses (Fetch standard's bad ports, e.g. 6000) is said so, with the fix, and not retried", async () => {
    const lines: string[] = [];
    const c = new GigaReels({
      apiKey: KEY,
      baseUrl: "http://127.0.0.1:6000",
      env,
      // a standard fetch, as on Workers, edge and browsers (the SDK's own on Node, socket-fetch,
      // connects to any port, as curl does)
      fetch: (input, init) => globalThis.fetch(input, init),
      maxRetries: 2,
      debug: (l) => lines.push(l),
    });
    const err = await c.me().catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.reason).toBe("blocked-port");
    expect(err.message).toBe(
      "Could not reach 127.0.0.1:6000 (GET /api/me): fetch never connects to this port (it is on the Fetch standard's list of blocked ports)",
    );
    expect(err.suggestions.join(" ")).toMatch(/another port/);
    expect(lines.filter((l) => l.includes("-> GET"))).toHaveLength(1);
    expect(lines.some((l) => l.includes("not retrying: a blocked port"))).toBe(true);
    expectNoFullKey(`${err.message} ${err.suggestions.join(" ")} ${lines.join(" ")}`, KEY);
  });

  it("classifies fetch failures by their cause", () => {
    const wrap = (code: string, message = "x") =>
      Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(message), { code }) });
    expect(connectionReason(wrap("ENOTFOUND"))).toBe("dns");
    expect(connectionReason(wrap("EAI_AGAIN"))).toBe("dns");
    expect(connectionReason(wrap("ECONNREFUSED"))).toBe("refused");
    expect(connectionReason(wrap("ECONNRESET"))).toBe("reset");
    expect(connectionReason(wrap("UND_ERR_SOCKET", "other side closed"))).toBe("reset");
    // socket-fetch: the server closed (FIN) before any answer
    expect(connectionReason(wrap("", "the server closed the connection before answering"))).toBe("reset");
    expect(connectionReason(wrap("DEPTH_ZERO_SELF_SIGNED_CERT"))).toBe("tls");
    expect(connectionReason(wrap("ERR_TLS_CERT_ALTNAME_INVALID"))).toBe("tls");
    expect(connectionReason(wrap("EHOSTUNREACH"))).toBe("network");
    expect(
      connectionReason(Object.assign(new TypeError("fetch failed"), { cause: new Error("bad port") })),
    ).toBe("blocked-port");
  });
});
