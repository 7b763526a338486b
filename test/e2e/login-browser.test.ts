/**
 * End to end: the built `gigareels login --web` with BROWSER pointing at a script that drives
 * Debian's headless Chromium (playwright-core) to the emulator's page and clicks Approve.
 * Then the key is in the OS keychain (`secret-tool`, with GIGAREELS_TEST_KEYRING=1) or in
 * credentials.json, `gigareels status` (or the SDK's me()) works, and `gigareels logout`
 * leaves the key revoked on the emulator and gone locally. No key in any output, log, URL or
 * argv. Needs `npm run build` and /usr/bin/chromium.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GigaReels } from "../../src/lib/sdk/client.js";
import { expectNoFullKey, ROOT, runCli, tempConfigDir } from "../helpers/cli.js";
import { type EmulatorHandle, startEmulator } from "../helpers/emulator.js";
import { KEYRING_WANTED, secretToolClear, secretToolLookup, uniqueProfile } from "../helpers/keyring.js";

const BROWSER_SCRIPT = join(ROOT, "test/helpers/browser.mjs");
const CHROMIUM = "/usr/bin/chromium";

let emu: EmulatorHandle;
let config: { dir: string; cleanup: () => void };
const profile = uniqueProfile("e2e-login");

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  config = tempConfigDir();
});
afterAll(async () => {
  if (KEYRING_WANTED) secretToolClear(profile);
  await emu?.stop();
  config?.cleanup();
});

describe.skipIf(!existsSync(CHROMIUM))("gigareels login --web with a real headless Chromium", () => {
  it("logs in through the emulator's page, works, and logs out leaving the key revoked", async () => {
    const report = join(config.dir, "browser-report.json");
    const env = {
      GIGAREELS_CONFIG_DIR: config.dir,
      // Without a usable keyring the key goes to the file (as the CLI does by itself, with a warning).
      GIGAREELS_CREDENTIAL_STORE: KEYRING_WANTED ? undefined : "file",
      BROWSER: BROWSER_SCRIPT,
      GIGAREELS_E2E_BROWSER_REPORT: report,
    };
    const loginRun = await runCli(["login", "--web", "--profile", profile, "--base-url", emu.url], {
      env,
      timeoutMs: 90_000,
    });
    expect(loginRun.stderr).not.toContain("Error:");
    expect(loginRun.code).toBe(0);

    const seen = JSON.parse(readFileSync(report, "utf8"));
    expect(seen.ok).toBe(true);
    expect(seen.argv).toHaveLength(1);
    expect(seen.argv[0]).toMatch(new RegExp(`^${emu.url}/oauth/authorize\\?`));
    expect(seen.steps[1]).toMatchObject({ path: "/callback", headingId: "login-ok", heading: "Logged in" });
    expect(seen.steps[1].origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Where the key is, seen from outside our code.
    const credentials = JSON.parse(readFileSync(join(config.dir, "credentials.json"), "utf8"));
    let key: string;
    if (KEYRING_WANTED) {
      key = secretToolLookup(profile) ?? "";
      expect(credentials.profiles[profile].keyLocation, loginRun.stderr).toBe("keychain");
      expect(credentials.profiles[profile].apiKey).toBeUndefined();
      expect(loginRun.stdout).toContain("stored in the OS keychain.");
    } else {
      key = credentials.profiles[profile].apiKey;
      expect(loginRun.stdout).toContain(`stored in ${join(config.dir, "credentials.json")}.`);
    }
    expect(key).toMatch(/^giga_[A-Za-z0-9]{32}$/);
    expect(emu.keyInfo(key)?.revoked).toBe(false);
    expect(loginRun.stdout).toBe(
      `Logged in to ${new URL(emu.url).host} as ${emu.keyInfo(key)!.account.email} (profile ${profile}); key giga_****${key.slice(-4)} stored in ${KEYRING_WANTED ? "the OS keychain" : join(config.dir, "credentials.json")}.\n`,
    );

    // The stored credentials work.
    const statusCmd = join(ROOT, "dist/commands/status.js");
    let statusOutput = "";
    if (existsSync(statusCmd)) {
      const status = await runCli(["status", "--profile", profile], { env });
      statusOutput = status.stdout + status.stderr;
      expect(status.code).toBe(0);
    } else {
      const me = await new GigaReels({ apiKey: key, baseUrl: emu.url, env: {} }).me();
      expect(me.email).toBe(emu.keyInfo(key)!.account.email);
    }

    const logoutRun = await runCli(["logout", "--profile", profile], { env });
    expect(logoutRun.code).toBe(0);
    expect(emu.keyInfo(key)?.revoked).toBe(true);
    if (KEYRING_WANTED) expect(secretToolLookup(profile)).toBeNull();
    expect(existsSync(join(config.dir, "credentials.json"))).toBe(false);

    // No key anywhere: outputs, the browser's argv and pages, the emulator's request log (URLs, bodies, headers).
    expectNoFullKey(
      [
        loginRun.stdout,
        loginRun.stderr,
        statusOutput,
        logoutRun.stdout,
        logoutRun.stderr,
        readFileSync(report, "utf8"),
        JSON.stringify(emu.requests),
      ].join("\n"),
      key,
    );
  });
});
