/**
 * Bad input is reported as what it is (issue 16, point 7), through the built `gigareels`:
 * a duration beyond 24 days and a header that cannot be sent are usage errors (exit 2, one
 * line, no Node warning, nothing sent); a malformed key is blamed on where it came from, with
 * the fix that applies there.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/lib/cli/duration.js";
import { runCli, useTempConfig } from "../helpers/cli.js";
import { stubServer } from "../helpers/stub-server.js";

const config = useTempConfig();
const KEY = `giga_${"k".repeat(28)}Zz90`;

describe("durations", () => {
  it("refuses more than 24 days (what a timer holds) and accepts up to it", () => {
    expect(parseDuration("576h")).toBe(576 * 3_600_000);
    expect(() => parseDuration("577h")).toThrow(/at most 24 days \(576h\)/);
    expect(() => parseDuration("99999999999999h")).toThrow(/at most 24 days/);
    expect(() => parseDuration("9".repeat(400))).toThrow(/at most 24 days/);
  });

  it("--timeout 99999999999999h is a usage error (exit 2), not a TimeoutOverflowWarning and exit 7", async () => {
    const server = await stubServer(200, '{"status":"rendering"}', "application/json");
    try {
      for (const cmd of [
        ["watch", "rnd_1", "--timeout", "99999999999999h"],
        ["render", "text", "--video-url", "https://example.com/v.mp4", "--text", "hi", "--timeout", "1000h"],
      ]) {
        const r = await runCli([...cmd, "--base-url", server.url], {
          env: { GIGAREELS_API_KEY: KEY, GIGAREELS_CONFIG_DIR: config.dir },
        });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/^Error: .*--timeout.*at most 24 days \(576h\).*\n$/);
        expect(r.stderr).not.toContain("TimeoutOverflowWarning");
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
      }
    } finally {
      await server.stop();
    }
  });
});

describe("api -H", () => {
  it("a CR/LF, a control character or a bad name in a header is exit 2 before anything is sent", async () => {
    let requests = 0;
    const { createServer } = await import("node:http");
    const server = createServer((_q, res) => {
      requests++;
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}`;
    try {
      const cases: [string, RegExp][] = [
        ["X-Test: a\r\nInjected: 1", /--header x-test has a line break in its value at position 2/],
        ["X-Test: a\nb", /--header x-test has a line break/],
        ["X-Test: a\u0007b", /--header x-test has a control character/],
        ["X-Test: a\u001b[2Jb", /--header x-test has a control character/],
        ["X-Test: €", /--header x-test has a character outside Latin-1/],
        ["X Test: a", /--header name "x test" has a character that a header name cannot have/],
      ];
      for (const [header, message] of cases) {
        const r = await runCli(["api", "/api/me", "-H", header, "--base-url", url], {
          env: { GIGAREELS_API_KEY: KEY, GIGAREELS_CONFIG_DIR: config.dir },
        });
        expect(r.code, `${JSON.stringify(header)}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
      }
      expect(requests).toBe(0);
      // A good header still goes through.
      const ok = await runCli(["api", "/api/me", "-H", "X-Test: a\tb", "--base-url", url], {
        env: { GIGAREELS_API_KEY: KEY, GIGAREELS_CONFIG_DIR: config.dir },
      });
      expect(ok.code, ok.stderr).toBe(0);
      expect(requests).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe("a malformed key names its real source", () => {
  it("GIGAREELS_API_KEY_FILE: names the file and says to fix it there, not to log in", async () => {
    const file = join(config.dir, "key.txt");
    writeFileSync(file, "giga_tooshort\n");
    const r = await runCli(["whoami"], {
      env: { GIGAREELS_API_KEY_FILE: file, GIGAREELS_CONFIG_DIR: config.dir },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`(from the file named by GIGAREELS_API_KEY_FILE (${file}))`);
    expect(r.stderr).toContain(`in ${file}, or unset GIGAREELS_API_KEY_FILE`);
    expect(r.stderr).not.toContain("stored credentials");
    expect(r.stderr).not.toContain("gigareels login");
  });

  it("GIGAREELS_API_KEY: says to set or unset the variable (login refuses while it is set)", async () => {
    const r = await runCli(["whoami"], {
      env: { GIGAREELS_API_KEY: "giga_tooshort", GIGAREELS_CONFIG_DIR: config.dir },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("(from GIGAREELS_API_KEY)");
    expect(r.stderr).toContain("Set GIGAREELS_API_KEY to a key from the dashboard");
    expect(r.stderr).not.toContain("gigareels login");
  });

  it("credentials.json: names the file and the profile, and says to log in", async () => {
    writeFileSync(
      config.credentialsFile(),
      JSON.stringify({
        version: 2,
        activeProfile: "work",
        profiles: { work: { baseUrl: "http://127.0.0.1:9", keyLocation: "file", apiKey: "giga_bad!" } },
      }),
      { mode: 0o600 },
    );
    const r = await runCli(["whoami"], {
      env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_CREDENTIAL_STORE: "file" },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`(from ${config.credentialsFile()} (profile work))`);
    expect(r.stderr).toContain("Run gigareels login --profile work");
  });
});
