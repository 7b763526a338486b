/** The emulator over HTTPS (`tls` option) with a throwaway self-signed certificate. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempConfigDir } from "../helpers/cli.js";
import { startEmulator } from "../helpers/emulator.js";

function selfSigned(): { key: string; cert: string; cleanup: () => void } {
  const { dir, cleanup } = tempConfigDir();
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return {
    key: readFileSync(join(dir, "key.pem"), "utf8"),
    cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    cleanup,
  };
}

describe("emulator: HTTPS", () => {
  it("serves the API over TLS with an https URL", async () => {
    const tls = selfSigned();
    const emu = await startEmulator({ port: 0, tls: { key: tls.key, cert: tls.cert } });
    try {
      expect(emu.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${emu.url}/api/me`,
          { ca: tls.cert, headers: { authorization: `Bearer ${emu.keys[0]}` } },
          (res) => {
            let body = "";
            res.setEncoding("utf8").on("data", (d: string) => {
              body += d;
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ email: "demo@gigareels.local", plan: "pro" });
    } finally {
      await emu.stop();
      tls.cleanup();
    }
  });
});
