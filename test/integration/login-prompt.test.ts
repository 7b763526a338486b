/**
 * The interactive login of the built CLI in a pseudo-terminal (util-linux `script`): the
 * method menu, the masked paste prompt, and the question before replacing a key.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expectNoFullKey, runCli, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";
import { hasScript, inTerminal as runInTerminal } from "../helpers/terminal.js";

const emulator = useEmulator();
const config = useTempConfig();

const credentialsFile = config.credentialsFile;
const stored = () => config.profile();

const DOWN = "\u001b[B";

/** The built CLI in a pty, logging in to a private config folder's file store. */
function inTerminal(
  args: string[],
  steps: Array<[string, string]>,
  extraEnv: Record<string, string | undefined> = {},
) {
  return runInTerminal(args, steps, {
    env: {
      ...extraEnv,
      GIGAREELS_CONFIG_DIR: config.dir,
      GIGAREELS_CREDENTIAL_STORE: "file",
      DISPLAY: ":0",
      SSH_CONNECTION: undefined,
      SSH_TTY: undefined,
      SSH_CLIENT: undefined,
    },
  });
}

describe.skipIf(!hasScript)("gigareels login in a terminal", () => {
  it("offers the three methods and stores a pasted key, shown only as stars", async () => {
    const key = emulator().createKey({ email: "tty@example.com" });
    const r = await inTerminal(
      ["login", "--base-url", emulator().url],
      [
        ["How do you want to log in?", `${DOWN}${DOWN}`],
        ["Paste an API key", "\r"],
        ["Paste your API key", `${key}\r`],
      ],
    );
    expect(r.screen).toContain("Log in with a web browser");
    expect(r.screen).toContain("Log in with a device code");
    expect(r.code).toBe(0);
    expect(r.screen).toContain(`as tty@example.com (profile default); key giga_****${key.slice(-4)}`);
    expect(stored()?.apiKey).toBe(key);
    expectNoFullKey(r.screen, key);
  });

  it("asks before replacing the profile's key; a replaced pasted key is not revoked", async () => {
    const first = emulator().createKey();
    const second = emulator().createKey();
    const seed = await inTerminal(
      ["login", "--base-url", emulator().url],
      [
        ["How do you want to log in?", `${DOWN}${DOWN}\r`],
        ["Paste your API key", `${first}\r`],
      ],
    );
    expect(seed.code).toBe(0);
    const r = await inTerminal(
      ["login", "--base-url", emulator().url],
      [
        ["Replace it", "y\r"],
        ["How do you want to log in?", `${DOWN}${DOWN}\r`],
        ["Paste your API key", `${second}\r`],
      ],
    );
    expect(r.screen).toContain(`already has key giga_****${first.slice(-4)}`);
    expect(r.code).toBe(0);
    expect(stored()?.apiKey).toBe(second);
    expect(r.screen).toContain(`The replaced key giga_****${first.slice(-4)} was not revoked: it was pasted`);
    expect(emulator().keyInfo(first)?.revoked).toBe(false);
    expectNoFullKey(r.screen, first, second);
  });

  it("answering no to replacing the key is not an error: one note, exit 0, nothing changed", async () => {
    const first = emulator().createKey();
    const seed = await inTerminal(
      ["login", "--base-url", emulator().url],
      [
        ["How do you want to log in?", `${DOWN}${DOWN}\r`],
        ["Paste your API key", `${first}\r`],
      ],
    );
    expect(seed.code).toBe(0);
    const before = readFileSync(credentialsFile(), "utf8");
    const r = await inTerminal(["login", "--base-url", emulator().url], [["Replace it", "n\r"]]);
    expect(r.screen).toContain("Replace it (the old key is forgotten here, not revoked)?");
    expect(r.code).toBe(0);
    expect(r.screen).toContain(
      `Kept the existing key giga_****${first.slice(-4)} for profile default; nothing was changed.`,
    );
    expect(r.screen).not.toContain("Error");
    expect(readFileSync(credentialsFile(), "utf8")).toBe(before);
    expectNoFullKey(r.screen, first);
  });

  it("a successful login starts with a green ✓ in a terminal; not when piped, not with NO_COLOR", async () => {
    const key = emulator().createKey({ email: "tick@example.com" });
    const steps: Array<[string, string]> = [
      ["How do you want to log in?", `${DOWN}${DOWN}\r`],
      ["Paste your API key", `${key}\r`],
    ];
    const r = await inTerminal(["login", "--base-url", emulator().url, "--profile", "tick"], steps, {
      NO_COLOR: undefined,
    });
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain(
      `\u001b[32m✓\u001b[39m Logged in to 127.0.0.1:${emulator().port} as tick@example.com`,
    );
    const noColor = await inTerminal(
      ["login", "--base-url", emulator().url, "--profile", "tick2"],
      [...steps, ["Make tick2 the active profile", "n\r"]],
    );
    expect(noColor.code, noColor.screen).toBe(0);
    expect(noColor.screen).toContain("Logged in to");
    expect(noColor.screen).not.toContain("✓");
    const piped = await runCli(
      ["login", "--with-token", "--base-url", emulator().url, "--profile", "tick3"],
      {
        input: `${key}\n`,
        env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_CREDENTIAL_STORE: "file", NO_COLOR: undefined },
      },
    );
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toMatch(/^Logged in to /);
    expectNoFullKey(r.screen + noColor.screen + piped.stdout + piped.stderr, key);
  });

  it("login --profile X, another profile active: asks whether to make X active; yes switches, no keeps it and says how", async () => {
    const first = emulator().createKey({ email: "first@example.com" });
    const seed = await inTerminal(
      ["login", "--base-url", emulator().url],
      [
        ["How do you want to log in?", `${DOWN}${DOWN}\r`],
        ["Paste your API key", `${first}\r`],
      ],
    );
    expect(seed.code, seed.screen).toBe(0);
    expect(seed.screen).not.toContain("active profile"); // the first profile is active without asking
    expect(config.credentials()?.activeProfile).toBe("default");

    const work = emulator().createKey({ email: "work@example.com" });
    const no = await inTerminal(
      ["login", "--base-url", emulator().url, "--profile", "work"],
      [
        ["How do you want to log in?", `${DOWN}${DOWN}\r`],
        ["Paste your API key", `${work}\r`],
        ["Make work the active profile (now default)?", "n\r"],
      ],
    );
    expect(no.code, no.screen).toBe(0);
    expect(no.screen).toContain("Make work the active profile (now default)?");
    expect(no.screen).toContain(
      "Profile default is still the active one: use this one with --profile work, or make it active with gigareels profiles use work.",
    );
    expect(config.credentials()?.activeProfile).toBe("default");
    expect(config.credentials()?.profiles.work.keyLast4).toBe(work.slice(-4));

    const home = emulator().createKey({ email: "home@example.com" });
    const yes = await inTerminal(
      ["login", "--base-url", emulator().url, "--profile", "home"],
      [
        ["How do you want to log in?", `${DOWN}${DOWN}\r`],
        ["Paste your API key", `${home}\r`],
        ["Make home the active profile (now default)?", "y\r"],
      ],
    );
    expect(yes.code, yes.screen).toBe(0);
    expect(yes.screen).not.toContain("is still the active one");
    expect(config.credentials()?.activeProfile).toBe("home");
    expectNoFullKey(seed.screen + no.screen + yes.screen, first, work, home);
  });

  it("--with-token with stdin a terminal asks in the masked prompt instead of echoing the key", async () => {
    const key = emulator().createKey({ email: "ttytoken@example.com" });
    const r = await inTerminal(
      ["login", "--with-token", "--base-url", emulator().url],
      [["Paste your API key", `${key}\r`]],
    );
    expect(r.code).toBe(0);
    expect(r.screen).toContain(`as ttytoken@example.com (profile default); key giga_****${key.slice(-4)}`);
    expect(stored()?.apiKey).toBe(key);
    expectNoFullKey(r.screen, key);
  });

  it("--with-token with stdin a terminal where it may not ask (CI): exit 2 at once, saying to pipe the key", async () => {
    const r = await runInTerminal(["login", "--with-token", "--base-url", emulator().url], [], {
      env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_CREDENTIAL_STORE: "file", CI: "1" },
    });
    expect(r.code).toBe(2);
    expect(r.screen).toContain(
      "--with-token reads the key from stdin, but stdin is a terminal (the key would show as you type it)",
    );
    expect(r.screen).toContain("printenv MY_KEY | gigareels login --with-token");
    expect(existsSync(credentialsFile())).toBe(false);
  });

  it("Ctrl-C at the menu exits 130 and stores nothing", async () => {
    const r = await inTerminal(
      ["login", "--base-url", emulator().url],
      [["How do you want to log in?", "\u0003"]],
    );
    expect(r.code).toBe(130);
    expect(existsSync(credentialsFile())).toBe(false);
  });
});
