import { describe, expect, it } from "vitest";
import { type LoginOptions, login } from "../../src/lib/auth/login.js";
import { sleep } from "../../src/lib/sdk/transport.js";
import { AbortedError } from "../../src/lib/sdk/errors.js";
import { expectNoFullKey, useTempConfig } from "../helpers/cli.js";
import { type EmulatorHandle, withEmulator } from "../helpers/emulator.js";

const config = useTempConfig();

const storedKey = (): string | undefined => config.profile()?.apiKey;

/** Starts a device login; `code` resolves with the user code it printed, `uri` with the bare URL. */
function startDevice(emu: EmulatorHandle, extra: Partial<LoginOptions> = {}) {
  const lines: string[] = [];
  let shown!: (v: { uri: string; code: string }) => void;
  const prompt = new Promise<{ uri: string; code: string }>((r) => {
    shown = r;
  });
  const result = login({
    method: "device",
    baseUrl: emu.url,
    profile: "default",
    timeoutMs: 20_000,
    configDir: config.dir,
    env: { GIGAREELS_CREDENTIAL_STORE: "file" },
    ui: {
      notice: (l) => {
        lines.push(l);
        const m = /Open (\S+) in a browser .* code: (\S+)$/.exec(l);
        if (m) shown({ uri: m[1]!, code: m[2]! });
      },
      progress: (l) => lines.push(l),
      warn: (l) => lines.push(l),
    },
    ...extra,
  });
  result.catch(() => {});
  return { result, prompt, lines };
}

/** What a person does on the /device page. */
async function decideOnPage(uri: string, userCode: string, decision: "approve" | "deny") {
  const page = await fetch(uri);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('id="user_code"');
  const res = await fetch(uri, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ user_code: userCode, decision }).toString(),
  });
  expect(res.status).toBe(200);
}

const tokenPolls = (emu: EmulatorHandle) => emu.requests.filter((r) => r.path === "/api/oauth/token");

describe("login --device against the emulator", () => {
  it("prints the bare verification URL and the code, polls, and stores the key once approved", async () => {
    await withEmulator({ deviceIntervalSeconds: 0.05 }, async (emu) => {
      const { result, prompt, lines } = startDevice(emu);
      const { uri, code } = await prompt;
      expect(uri).toBe(`${emu.url}/device`);
      expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
      await decideOnPage(uri, code, "approve");
      const r = await result;
      expect(r.method).toBe("device");
      const key = storedKey()!;
      expect(key).toMatch(/^giga_[A-Za-z0-9]{32}$/);
      expect(emu.keyInfo(key)?.revoked).toBe(false);
      expect(r.key).toBe(`giga_****${key.slice(-4)}`);
      expect(tokenPolls(emu).every((p) => p.status === 200 || p.status === 400)).toBe(true);
      expectNoFullKey(lines.join("\n") + JSON.stringify(r) + JSON.stringify(emu.requests), key);
    });
  });

  it("stops with login_denied when the code is denied", async () => {
    await withEmulator({ deviceIntervalSeconds: 0.05 }, async (emu) => {
      const { result, prompt } = startDevice(emu);
      const { uri, code } = await prompt;
      await decideOnPage(uri, code, "deny");
      const err = await result.catch((e) => e);
      expect(err.code).toBe("login_denied");
      expect(storedKey()).toBeUndefined();
    });
  });

  it("stops with login_expired when the code expires unapproved", async () => {
    await withEmulator({ deviceIntervalSeconds: 0.1, codeTtlSeconds: 1 }, async (emu) => {
      const { result } = startDevice(emu);
      const err = await result.catch((e) => e);
      expect(err.code).toBe("login_expired");
      expect(storedKey()).toBeUndefined();
    });
  });

  it("adds 5 s to the interval after slow_down, and the server stops saying it", async () => {
    await withEmulator({ deviceIntervalSeconds: 0.2 }, async (emu) => {
      const waits: number[] = [];
      let userCode = "";
      const { result, prompt } = startDevice(emu, {
        sleep: async (ms, signal) => {
          waits.push(ms);
          // The second wait is skipped: polling too fast earns a slow_down.
          if (waits.length === 2) return;
          // Once slowed down, approve and wait the full (longer) interval.
          if (waits.length === 3) emu.approveDevice(userCode);
          await sleep(ms, signal);
        },
      });
      userCode = (await prompt).code;
      const r = await result;
      expect(r.method).toBe("device");
      expect(waits).toEqual([200, 200, 5200]);
      expect(tokenPolls(emu).map((p) => p.status)).toEqual([400, 400, 200]);
      expect(storedKey()).toMatch(/^giga_/);
    });
  });

  it("ends with login_timeout when --timeout passes first", async () => {
    await withEmulator({ deviceIntervalSeconds: 0.05 }, async (emu) => {
      const { result } = startDevice(emu, { timeoutMs: 300, timeoutLabel: "300ms" });
      const err = await result.catch((e) => e);
      expect(err.code).toBe("login_timeout");
      expect(err.message).toContain("approval of the device code");
      expect(storedKey()).toBeUndefined();
    });
  });

  it("Ctrl-C during the wait ends at once and stores nothing", async () => {
    await withEmulator({ deviceIntervalSeconds: 3600 }, async (emu) => {
      const ac = new AbortController();
      const { result, prompt } = startDevice(emu, { signal: ac.signal });
      await prompt;
      ac.abort(new AbortedError("Interrupted"));
      const err = await result.catch((e) => e);
      expect(err.code).toBe("aborted");
      expect(tokenPolls(emu)).toHaveLength(0);
      expect(storedKey()).toBeUndefined();
    });
  });
});
