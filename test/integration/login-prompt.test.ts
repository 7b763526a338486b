/**
 * The interactive login of the built CLI in a pseudo-terminal (util-linux `script`): the
 * method menu, the masked paste prompt, and the question before replacing a key.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BIN, cleanEnv, expectNoFullKey, ROOT, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator();
const hasScript = spawnSync("script", ["--version"]).status === 0;
const config = useTempConfig();

const credentialsFile = config.credentialsFile;
const stored = () => config.profile();

const DOWN = "\u001b[B";

/**
 * Runs `gigareels <args>` in a pty; `steps` are [text to wait for, keys to type] pairs.
 * Returns the exit code and everything the terminal showed.
 */
function inTerminal(
  args: string[],
  steps: Array<[string, string]>,
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", command, "/dev/null"], {
      cwd: ROOT,
      env: cleanEnv({
        GIGAREELS_CONFIG_DIR: config.dir,
        GIGAREELS_CREDENTIAL_STORE: "file",
        CI: undefined,
        TERM: "xterm",
        DISPLAY: ":0",
        SSH_CONNECTION: undefined,
        SSH_TTY: undefined,
        SSH_CLIENT: undefined,
      }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    let step = 0;
    let typedAt = 0;
    const onData = (d: Buffer) => {
      screen += d.toString();
      while (step < steps.length && screen.indexOf(steps[step]![0], typedAt) !== -1) {
        typedAt = screen.length;
        child.stdin.write(steps[step]![1]);
        step++;
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
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

  it("asks before replacing the profile's key, then revokes the replaced one", async () => {
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
    expect(emulator().keyInfo(first)?.revoked).toBe(true);
    expectNoFullKey(r.screen, first, second);
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
