/**
 * The browser flow against the emulator, in-process: the `open` seam captures the authorize
 * URL and the test plays the browser over HTTP.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { beforeEach, describe, expect, it } from "vitest";
import { type LoginOptions, type LoginResult, login } from "../../src/lib/auth/login.js";
import { TOKEN_PATH } from "../../src/lib/auth/oauth.js";
import { defaultAuthServices } from "../../src/lib/auth/services.js";
import { AbortedError } from "../../src/lib/sdk/errors.js";
import { decide, playBrowser, visit } from "../helpers/browser.js";
import { expectNoFullKey, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator();
const config = useTempConfig();
let lines: string[];

beforeEach(() => {
  lines = [];
});

const credentialsFile = config.credentialsFile;
const storedKey = (profile = "default"): string | undefined => config.profile(profile)?.apiKey;

/** Starts a browser login; resolves `url` with the authorize URL it would open. */
function startLogin(extra: Partial<LoginOptions> = {}) {
  let capture!: (u: string) => void;
  const url = new Promise<string>((r) => {
    capture = r;
  });
  const result: Promise<LoginResult> = login({
    method: "web",
    baseUrl: emulator().url,
    profile: "default",
    timeoutMs: 20_000,
    configDir: config.dir,
    env: { GIGAREELS_CREDENTIAL_STORE: "file" },
    ui: {
      notice: (l) => lines.push(l),
      progress: (l) => lines.push(l),
      warn: (l) => lines.push(`Warning: ${l}`),
    },
    open: async (u) => {
      capture(u);
      return { opened: true, via: "open" };
    },
    ...extra,
  });
  result.catch(() => {});
  return { url, result };
}

async function expectClosed(redirectUri: string) {
  await expect(fetch(redirectUri)).rejects.toThrow();
}

describe("login --web against the emulator", () => {
  it("approves in the browser, stores the key, shows a success page and closes the server", async () => {
    const { url, result } = startLogin();
    const authorizeUrl = await url;
    const params = new URL(authorizeUrl).searchParams;
    expect(params.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(params.get("code_challenge_method")).toBe("S256");
    expect(Buffer.from(params.get("state")!, "base64url").length).toBeGreaterThanOrEqual(16);
    const [page, r] = await Promise.all([playBrowser(authorizeUrl), result]);

    expect(page.status).toBe(200);
    expect(page.html).toContain("Logged in");
    expect(r.method).toBe("web");
    expect(r.profile).toBe("default");
    expect(r.host).toBe(new URL(emulator().url).host);
    expect(r.account.email).toContain("@");
    expect(r.keyLocation).toBe("file");
    expect(r.credentialsPath).toBe(credentialsFile());
    const key = storedKey()!;
    expect(key).toMatch(/^giga_[A-Za-z0-9]{32}$/);
    expect(r.key).toBe(`giga_****${key.slice(-4)}`);
    expect(emulator().keyInfo(key)?.revoked).toBe(false);
    expect(emulator().keyInfo(key)?.account.email).toBe(r.account.email);
    await expectClosed(params.get("redirect_uri")!);

    // The URL was printed even though a browser "opened", and no key went anywhere it should not.
    expect(lines.join("\n")).toContain(authorizeUrl);
    expectNoFullKey(JSON.stringify(r), key);
    expectNoFullKey(lines.join("\n"), key);
    expectNoFullKey(JSON.stringify(emulator().requests), key);
    expectNoFullKey(page.html + page.callbackUrl.toString(), key);
  });

  it("prints the URL and keeps waiting when no browser can be opened", async () => {
    let tried = "";
    const { result } = startLogin({
      open: async (u) => {
        tried = u;
        setImmediate(() => void playBrowser(u));
        return { opened: false, via: "none", reason: "no display" };
      },
    });
    const r = await result;
    expect(r.account.email).toContain("@");
    expect(lines.some((l) => l.includes("Could not open a browser (no display)"))).toBe(true);
    expect(tried).toContain("/oauth/authorize?");
    expect(lines.join("\n")).toContain(tried);
  });

  it("never opens a browser with --no-browser", async () => {
    let opened = 0;
    let printed = "";
    const r = login({
      method: "web",
      baseUrl: emulator().url,
      profile: "default",
      timeoutMs: 20_000,
      noBrowser: true,
      configDir: config.dir,
      env: { GIGAREELS_CREDENTIAL_STORE: "file" },
      ui: {
        notice: (l) => {
          if (l.trim().startsWith("http")) {
            printed = l.trim();
            void playBrowser(printed);
          }
        },
        progress: () => {},
        warn: () => {},
      },
      open: async () => {
        opened++;
        return { opened: true, via: "open" };
      },
    });
    await expect(r).resolves.toMatchObject({ method: "web" });
    expect(opened).toBe(0);
    expect(printed).toContain("/oauth/authorize?");
  });

  it("a denial ends with login_denied and stores nothing", async () => {
    const { url, result } = startLogin();
    const [page, err] = await Promise.all([playBrowser(await url, "deny"), result.catch((e) => e)]);
    expect(page.html).toContain("Login denied");
    expect(err.code).toBe("login_denied");
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("times out with login_timeout, closes the server and stores nothing", async () => {
    const { url, result } = startLogin({ timeoutMs: 300, timeoutLabel: "300ms" });
    const redirectUri = new URL(await url).searchParams.get("redirect_uri")!;
    const err = await result.catch((e) => e);
    expect(err.code).toBe("login_timeout");
    expect(err.message).toContain("within 300ms");
    await expectClosed(redirectUri);
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("refuses a callback with a wrong state, says so, and still completes with the real one", async () => {
    const { url, result } = startLogin();
    const authorizeUrl = await url;
    const callback = await decide(authorizeUrl);
    const forged = new URL(callback);
    forged.searchParams.set("state", "forged-state-value-forged-state-value-12345");
    forged.searchParams.set("code", "forged-code");
    const page = await visit(forged);
    expect(page.status).toBe(400);
    expect(page.html).toContain("Login refused");
    // The forged code was never exchanged, and the login goes on.
    expect(
      emulator().requests.some((r) => r.path === "/api/oauth/token" && r.body?.includes("forged-code")),
    ).toBe(false);
    expect(lines.join("\n")).toContain("Refused a callback");
    const real = await visit(callback);
    expect(real.html).toContain("Logged in");
    await expect(result).resolves.toMatchObject({ method: "web" });
  });

  it("a forged callback does not end the wait: the login times out and names it", async () => {
    const { url, result } = startLogin({ timeoutMs: 600 });
    const callback = await decide(await url);
    callback.searchParams.set("state", "forged-state-value-forged-state-value-12345");
    expect((await visit(callback)).status).toBe(400);
    const err = await result.catch((e) => e);
    expect(err.code).toBe("login_timeout");
    expect(err.message).toContain("1 callback with another login's state refused");
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("refuses a replayed code: the exchange fails, the page says so, nothing is stored", async () => {
    const first = startLogin({ profile: "first" });
    const firstVisit = await playBrowser(await first.url);
    await first.result;
    const usedCode = firstVisit.callbackUrl.searchParams.get("code")!;

    const second = startLogin({ profile: "second" });
    const redirectUri = new URL(await second.url).searchParams.get("redirect_uri")!;
    const state = new URL(await second.url).searchParams.get("state")!;
    const page = await visit(`${redirectUri}?${new URLSearchParams({ code: usedCode, state })}`);
    const err = await second.result.catch((e) => e);
    expect(err.code).toBe("token_exchange_failed");
    expect(err.message).toContain("invalid_grant");
    expect(page.html).toContain("Login failed");
    expect(storedKey("second")).toBeUndefined();
  });

  it("refuses a second callback while the first is being exchanged", async () => {
    const removeFault = emulator().addFault({
      route: "/api/oauth/token",
      times: 1,
      fault: { kind: "latency", ms: 1500 },
    });
    try {
      const before = emulator().requests.length;
      const { url, result } = startLogin();
      const callback = await decide(await url);
      const firstVisit = visit(callback);
      // Wait until the CLI is exchanging the first code, then send another callback.
      while (
        !emulator()
          .requests.slice(before)
          .some((r) => r.path === "/api/oauth/token")
      ) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const second = await visit(callback);
      expect(second.status).toBe(409);
      expect(second.html).toContain("Already used");
      expect((await firstVisit).html).toContain("Logged in");
      await expect(result).resolves.toMatchObject({ method: "web" });
    } finally {
      removeFault();
    }
  });

  it("answers 404 on other paths and still completes", async () => {
    const { url, result } = startLogin();
    const authorizeUrl = await url;
    const origin = new URL(new URL(authorizeUrl).searchParams.get("redirect_uri")!).origin;
    expect((await visit(`${origin}/`)).status).toBe(404);
    expect((await visit(`${origin}/favicon.ico`)).status).toBe(404);
    expect((await visit(`${origin}/callbackx?code=a&state=b`)).status).toBe(404);
    const page = await playBrowser(authorizeUrl);
    expect(page.status).toBe(200);
    await expect(result).resolves.toMatchObject({ method: "web" });
  });

  it("Ctrl-C while waiting closes the server and stores nothing", async () => {
    const ac = new AbortController();
    const { url, result } = startLogin({ signal: ac.signal });
    const redirectUri = new URL(await url).searchParams.get("redirect_uri")!;
    ac.abort(new AbortedError("Interrupted"));
    const err = await result.catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err.code).toBe("aborted");
    await expectClosed(redirectUri);
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("a key issued but not storable (the config folder cannot be created) is revoked, not left live", async () => {
    const blocker = join(config.dir, "a-file");
    writeFileSync(blocker, "not a folder");
    const real = defaultAuthServices();
    const issued: string[] = [];
    const { url, result } = startLogin({
      configDir: join(blocker, "cfg"),
      services: {
        oauthPost: (base) => {
          const post = real.oauthPost(base);
          return async (path, form, signal) => {
            const res = await post(path, form, signal);
            const token = (res.body as { access_token?: unknown } | undefined)?.access_token;
            if (path === TOKEN_PATH && typeof token === "string") issued.push(token);
            return res;
          };
        },
      },
    });
    const [page, err] = await Promise.all([playBrowser(await url), result.catch((e) => e)]);
    expect(err.code).toBe("credentials_unwritable");
    expect(page.html).toContain("Login failed");
    expect(issued).toHaveLength(1);
    expect(emulator().keyInfo(issued[0]!)?.revoked).toBe(true);
    expectNoFullKey(lines.join("\n") + err.message + page.html, issued[0]!);
  });

  it("says clearly when --port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startLogin({ port }).result.catch((e) => e);
      expect(err.code).toBe("port_in_use");
      expect(err.message).toContain(`Port ${port} is in use`);
    } finally {
      blocker.close();
    }
  });

  it("listens on the port asked for", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { url, result } = startLogin({ port });
    const authorizeUrl = await url;
    expect(new URL(authorizeUrl).searchParams.get("redirect_uri")).toBe(`http://127.0.0.1:${port}/callback`);
    await playBrowser(authorizeUrl);
    await result;
  });
});
