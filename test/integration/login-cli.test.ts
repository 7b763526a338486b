/**
 * The built `gigareels login` / `logout` in a subprocess (run `npm run build` first): exit
 * codes, the one-line result, --json, no terminal, GIGAREELS_API_KEY set, Ctrl-C, port in
 * use, --timeout. The key store is the file (GIGAREELS_CREDENTIAL_STORE=file).
 */
import { existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { type CliResult, expectNoFullKey, type RunOptions, runCli, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator();
const config = useTempConfig();

const credentialsFile = config.credentialsFile;
const stored = config.profile;

function cli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runCli(args, {
    ...options,
    env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_CREDENTIAL_STORE: "file", ...options.env },
  });
}

/** Runs the CLI and calls `onStderr` with the stderr so far each time more arrives. */
function cliWatching(
  args: string[],
  onStderr: (soFar: string, child: import("node:child_process").ChildProcess) => void,
) {
  let soFar = "";
  return cli(args, {
    onSpawn: (child) => {
      child.stderr?.on("data", (d: Buffer | string) => {
        soFar += d.toString();
        onStderr(soFar, child);
      });
    },
  });
}

describe("gigareels login (built CLI)", () => {
  it("without a terminal and without a method: exit 2 at once, saying what to do", async () => {
    const r = await cli(["login", "--base-url", emulator().url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("needs a terminal");
    expect(r.stderr).toContain("GIGAREELS_API_KEY");
    expect(r.stderr).toContain("--with-token");
    const j = await cli(["login", "--json"]);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: "no_terminal", exitCode: 2 });
  });

  it("--with-token stores the key and ends with one line: host, email, profile, where", async () => {
    const key = emulator().createKey({ email: "cli@example.com" });
    const r = await cli(["login", "--with-token", "--base-url", emulator().url], { input: `${key}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `Logged in to ${new URL(emulator().url).host} as cli@example.com (profile default); key giga_****${key.slice(-4)} stored in ${credentialsFile()}.\n`,
    );
    expect(stored()?.apiKey).toBe(key);
    expectNoFullKey(r.stdout + r.stderr, key);
  });

  it("a credentials store login cannot write (newer file, symlink, bad GIGAREELS_CREDENTIAL_STORE) stops it before the browser: one line", async () => {
    const newer = JSON.stringify({ version: 99, profiles: {} });
    writeFileSync(credentialsFile(), newer, { mode: 0o600 });
    const before = emulator().requests.length;
    const r = await cli(["login", "--web", "--no-browser", "--base-url", emulator().url, "--timeout", "5s"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: .*credentials\.json has format version 99/);
    expect(r.stderr).not.toContain("/oauth/authorize");
    expect(
      emulator()
        .requests.slice(before)
        .filter((q) => q.path.includes("/oauth/")),
    ).toEqual([]);
    expect(readFileSync(credentialsFile(), "utf8")).toBe(newer);

    rmSync(credentialsFile());
    const target = join(config.dir, "elsewhere.json");
    writeFileSync(target, "{}", { mode: 0o600 });
    symlinkSync(target, credentialsFile());
    const key = emulator().createKey();
    const link = await cli(["login", "--with-token", "--base-url", emulator().url], { input: key });
    expect(link.code).toBe(1);
    expect(link.stderr.trim().split("\n")).toHaveLength(1);
    expect(link.stderr).toContain("is a symbolic link");
    expect(readFileSync(target, "utf8")).toBe("{}");

    rmSync(credentialsFile());
    const bogus = await cli(["login", "--with-token", "--base-url", emulator().url], {
      input: key,
      env: { GIGAREELS_CREDENTIAL_STORE: "bogus" },
    });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr.trim().split("\n")).toHaveLength(1);
    expect(bogus.stderr).toBe(
      'Error: GIGAREELS_CREDENTIAL_STORE is "bogus"; use "keychain" or "file" (export GIGAREELS_CREDENTIAL_STORE=file), or unset GIGAREELS_CREDENTIAL_STORE.\n',
    );
    expect(existsSync(credentialsFile())).toBe(false);
    expectNoFullKey(r.stderr + link.stderr + bogus.stderr, key);
  });

  it("a 200 that is not JSON to the device flow: exit 5, one line that says to check the base URL", async () => {
    emulator().addFault({ route: "/api/oauth/device/code", times: 1, fault: { kind: "malformed-json" } });
    const r = await cli(["login", "--device", "--base-url", emulator().url]);
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(
      "the answer to POST /api/oauth/device/code was not valid JSON (application/json",
    );
    // the base URL in use, named: it came from --base-url here, not GIGAREELS_BASE_URL
    expect(r.stderr).toContain(
      `Check the base URL (${emulator().url}): it should point at the GigaReels API`,
    );
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("login over a corrupt credentials.json says where the old file was kept", async () => {
    writeFileSync(credentialsFile(), "{oops", { mode: 0o600 });
    const key = emulator().createKey();
    const r = await cli(["login", "--with-token", "--base-url", emulator().url], { input: key });
    expect(r.code).toBe(0);
    const aside = readdirSync(config.dir).find((f) => f.startsWith("credentials.json.corrupt-"));
    expect(aside).toBeDefined();
    expect(readFileSync(join(config.dir, aside!), "utf8")).toBe("{oops");
    expect(r.stderr).toBe(
      `Warning: ${credentialsFile()} was not a valid credentials file; kept as ${join(config.dir, aside!)}.\n`,
    );
    expect(stored()?.apiKey).toBe(key);
  });

  it("--insecure-storage keeps the key in credentials.json without trying the keychain", async () => {
    const key = emulator().createKey();
    const r = await cli(["login", "--with-token", "--insecure-storage", "--base-url", emulator().url], {
      input: key,
      env: { GIGAREELS_CREDENTIAL_STORE: undefined },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("Warning");
    expect(r.stdout).toContain(`stored in ${credentialsFile()}.`);
    expect(stored()).toMatchObject({ keyLocation: "file", apiKey: key });
  });

  it("--local logs in against http://localhost:3000", async () => {
    const r = await cli(["login", "--with-token", "--local", "--json"], { input: `giga_${"L".repeat(32)}` });
    // Nothing listens there in the tests (or something else does): what matters is where it went.
    const doc = JSON.parse(r.stdout);
    if (r.code === 0) expect(doc.baseUrl).toBe("http://localhost:3000");
    else expect(JSON.stringify(doc.error)).toMatch(/localhost:3000|401/);
  });

  it("--json returns the typed result", async () => {
    const key = emulator().createKey({ email: "json@example.com" });
    const r = await cli(
      ["login", "--with-token", "--json", "--profile", "ci", "--base-url", emulator().url],
      {
        input: key,
      },
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      profile: "ci",
      baseUrl: emulator().url,
      method: "token",
      account: { email: "json@example.com" },
      key: `giga_****${key.slice(-4)}`,
      keyLocation: "file",
      credentialsPath: credentialsFile(),
    });
    expectNoFullKey(r.stdout + r.stderr, key);
  });

  it("a malformed key on stdin exits 2; an unknown key exits 4; nothing is stored", async () => {
    const bad = await cli(["login", "--with-token", "--base-url", emulator().url], { input: "not-a-key\n" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('does not start with "giga_"');
    const unknown = `giga_${"Q".repeat(32)}`;
    const rejected = await cli(["login", "--with-token", "--base-url", emulator().url], { input: unknown });
    expect(rejected.code).toBe(4);
    expectNoFullKey(rejected.stdout + rejected.stderr, unknown);
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("refuses to store anything while GIGAREELS_API_KEY is set (exit 1)", async () => {
    const key = emulator().createKey();
    const r = await cli(["login", "--with-token", "--base-url", emulator().url], {
      input: key,
      env: { GIGAREELS_API_KEY: key },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("GIGAREELS_API_KEY is set");
    expect(r.stderr).toContain("Unset GIGAREELS_API_KEY");
    expect(existsSync(credentialsFile())).toBe(false);
    expectNoFullKey(r.stdout + r.stderr, key);
  });

  it("Ctrl-C while waiting for the browser exits 130, closes the callback server and stores nothing", async () => {
    let redirectUri = "";
    const r = await cliWatching(
      ["login", "--web", "--no-browser", "--base-url", emulator().url],
      (soFar, child) => {
        const m = /redirect_uri=([^&\s]+)/.exec(soFar);
        if (m && !redirectUri) {
          redirectUri = decodeURIComponent(m[1]!);
          child.kill("SIGINT");
        }
      },
    );
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("Interrupted");
    expect(existsSync(credentialsFile())).toBe(false);
    await expect(fetch(redirectUri)).rejects.toThrow();
  });

  it("a taken --port exits 2 with a clear message", async () => {
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, "127.0.0.1", res));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await cli([
        "login",
        "--web",
        "--no-browser",
        "--port",
        String(port),
        "--base-url",
        emulator().url,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`Port ${port} is in use`);
      expect(r.stderr).toContain("--port");
    } finally {
      blocker.close();
    }
  });

  it("--timeout ends the wait with exit 7", async () => {
    const r = await cli(["login", "--web", "--no-browser", "--timeout", "1s", "--base-url", emulator().url]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("did not finish within 1s");
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("--device prints the bare URL and the code, and stores the key once approved", async () => {
    let approved = false;
    const r = await cliWatching(["login", "--device", "--base-url", emulator().url], (soFar) => {
      const m = /Open (\S+) in a browser.*code: ([A-Z]{4}-[A-Z]{4})/.exec(soFar);
      if (m && !approved) {
        approved = true;
        expect(m[1]).toBe(`${emulator().url}/device`);
        emulator().approveDevice(m[2]!);
      }
    });
    // The emulator's default interval is 5 s: this test waits one interval.
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Logged in to");
    expect(stored()?.apiKey).toMatch(/^giga_/);
  });
});

describe("gigareels logout (built CLI)", () => {
  it("a stored key it cannot read: the line says NOT revoked, with the mask and the host", async () => {
    const profile = `gone-${process.pid}-${Date.now().toString(36)}`;
    const host = new URL(emulator().url).host;
    writeFileSync(
      credentialsFile(),
      JSON.stringify({
        version: 2,
        activeProfile: profile,
        profiles: {
          [profile]: {
            keyLocation: "keychain",
            keyLast4: "AbCd",
            baseUrl: emulator().url,
            obtainedBy: "web",
          },
        },
      }),
      { mode: 0o600 },
    );
    const r = await cli(["logout"], { env: { GIGAREELS_CREDENTIAL_STORE: undefined } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `Logged out of ${host} (profile ${profile}): giga_****AbCd NOT revoked on the server, removed from credentials.json.\n`,
    );
    expect(r.stderr).toContain(`Warning: giga_****AbCd was NOT revoked on ${host}`);
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("a pasted key is forgotten, not revoked, and the line says why; a second logout has nothing to do", async () => {
    const key = emulator().createKey();
    expect((await cli(["login", "--with-token", "--base-url", emulator().url], { input: key })).code).toBe(0);
    const r = await cli(["logout"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `Logged out of ${new URL(emulator().url).host} (profile default): giga_****${key.slice(-4)} removed from credentials.json; not revoked: it was pasted (login --with-token) and may be in use elsewhere (revoke it in the dashboard, Settings -> API Keys, or log out with --revoke).\n`,
    );
    expect(emulator().keyInfo(key)?.revoked).toBe(false);
    expect(existsSync(credentialsFile())).toBe(false);
    const again = await cli(["logout"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Not logged in");
    expectNoFullKey(r.stdout + r.stderr + again.stdout + again.stderr, key);
  });

  it("--revoke revokes a pasted key; a key another profile holds is only forgotten, saying which", async () => {
    const key = emulator().createKey();
    for (const profile of ["default", "ci"]) {
      const login = await cli(["login", "--with-token", "--base-url", emulator().url, "--profile", profile], {
        input: key,
      });
      expect(login.code).toBe(0);
    }
    const shared = await cli(["logout", "--revoke", "--profile", "default"]);
    expect(shared.code).toBe(0);
    expect(shared.stdout).toContain(
      `giga_****${key.slice(-4)} removed from credentials.json; not revoked: profile ci also uses it.`,
    );
    expect(emulator().keyInfo(key)?.revoked).toBe(false);
    const last = await cli(["logout", "--revoke", "--profile", "ci", "--json"]);
    expect(last.code).toBe(0);
    expect(JSON.parse(last.stdout).profiles[0]).toMatchObject({ obtainedBy: "token", revoked: true });
    expect(emulator().keyInfo(key)?.revoked).toBe(true);
    expectNoFullKey(shared.stdout + shared.stderr + last.stdout + last.stderr, key);
  });

  it("warns that GIGAREELS_API_KEY still authenticates", async () => {
    const key = emulator().createKey();
    const r = await cli(["logout"], { env: { GIGAREELS_API_KEY: key } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("GIGAREELS_API_KEY is still set and still authenticates every command");
    expectNoFullKey(r.stdout + r.stderr, key);
  });
});

describe("the debug log (DEBUG=gigareels*)", () => {
  it("shows the login and logout requests without the key", async () => {
    const key = emulator().createKey();
    const inR = await cli(["login", "--with-token", "--base-url", emulator().url], {
      input: key,
      env: { DEBUG: "gigareels*" },
    });
    const outR = await cli(["logout", "--revoke"], { env: { DEBUG: "gigareels*" } });
    expect(inR.code).toBe(0);
    expect(outR.code).toBe(0);
    expect(inR.stderr).toContain("/api/me");
    expect(outR.stderr).toContain("/api/oauth/revoke");
    expectNoFullKey(inR.stdout + inR.stderr + outR.stdout + outR.stderr, key);
  });
});
