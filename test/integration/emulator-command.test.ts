/** `gigareels emulator` as a process (the built CLI): start-up output, key file, Ctrl-C, errors. */
import type { ChildProcess } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BIN, type CliResult, expectNoFullKey, runCli, tempConfigDir } from "../helpers/cli.js";
import { startEmulator } from "../helpers/emulator.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function configDir(): string {
  const t = tempConfigDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Runs the emulator command; calls `whenReady(stdout, child)` once the ready text appears. */
function runEmulator(
  args: string[],
  dir: string,
  ready: RegExp,
  whenReady: (stdout: string) => Promise<void>,
) {
  return runCli(["emulator", ...args], {
    env: { GIGAREELS_CONFIG_DIR: dir },
    timeoutMs: 20_000,
    onSpawn: (child: ChildProcess) => {
      let out = "";
      let fired = false;
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (!fired && ready.test(out)) {
          fired = true;
          whenReady(out)
            .catch((err: unknown) => {
              out += `\nTEST ERROR: ${String(err)}`;
            })
            .finally(() => child.kill("SIGINT"));
        }
      });
    },
  });
}

describe("gigareels emulator", () => {
  it("prints the URL and the masked key, writes the full key to a 0600 file, and stops with 0 on Ctrl-C", async () => {
    const dir = configDir();
    const userDir = configDir();
    let status = 0;
    let key = "";
    let url = "";
    let login: CliResult | undefined;
    let whoami: CliResult | undefined;
    const result = await runEmulator(
      ["--port", "0", "--render-duration", "1s"],
      dir,
      /Ctrl-C|login/,
      async (out) => {
        url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
        key = readFileSync(join(dir, "emulator-keys.txt"), "utf8").trim();
        const res = await fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${key}` } });
        status = res.status;
        // The printed login command, run as printed (in a shell), logs in to this emulator.
        const printed = /Log the CLI in to it: (gigareels .*)/.exec(out)![1]!;
        const shell = printed.replace(/^gigareels /, `${process.execPath} ${BIN} `);
        login = await runCli(["-c", shell], { command: ["/bin/sh"], env: { GIGAREELS_CONFIG_DIR: userDir } });
        whoami = await runCli(["whoami"], { env: { GIGAREELS_CONFIG_DIR: userDir } });
      },
    );
    expect(result.code).toBe(0);
    expect(status).toBe(200);
    expect(key).toMatch(/^giga_[A-Za-z0-9]{32}$/);
    expect(statSync(join(dir, "emulator-keys.txt")).mode & 0o777).toBe(0o600);
    expect(result.stdout).toContain(`giga_****${key.slice(-4)}`);
    // Off port 3000 the hint names this emulator's URL: --local would mean http://localhost:3000.
    expect(result.stdout).toContain(
      `Log the CLI in to it: gigareels login --base-url ${url} --with-token < ${join(dir, "emulator-keys.txt")}\n`,
    );
    expect(result.stdout).not.toContain("--local");
    expect(login?.code, login?.stderr).toBe(0);
    expect(whoami?.code, whoami?.stderr).toBe(0);
    expect(result.stderr).toContain("Emulator stopped.");
    expectNoFullKey(result.stdout + result.stderr, key);
  });

  it("--json prints one ready document; --key @FILE and --verbose", async () => {
    const dir = configDir();
    const keys = [`giga_${"a".repeat(28)}Key1`, `giga_${"b".repeat(28)}Key2`];
    const file = join(dir, "mine.txt");
    writeFileSync(file, `${keys.join("\n")}\n`);
    let status = 0;
    const result = await runEmulator(
      ["--port", "0", "--json", "--verbose", "--key", `@${file}`],
      dir,
      /\}\s*$/,
      async (out) => {
        const doc = JSON.parse(out) as { url: string };
        status = (await fetch(`${doc.url}/api/me`, { headers: { authorization: `Bearer ${keys[1]}` } }))
          .status;
      },
    );
    expect(result.code).toBe(0);
    expect(status).toBe(200);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      keys: ["giga_****Key1", "giga_****Key2"],
      keysFile: join(dir, "emulator-keys.txt"),
    });
    expect(readFileSync(join(dir, "emulator-keys.txt"), "utf8")).toBe(`${keys[0]}\n`);
    expect(result.stderr).toMatch(/GET \/api\/me 200 \d+ms giga_\*\*\*\*Key2/);
    expectNoFullKey(result.stdout + result.stderr, ...keys);
  });

  it("exits 2 with one line when the port is taken", async () => {
    const other = await startEmulator({ port: 0 });
    try {
      const result = await runCli(["emulator", "--port", String(other.port)], {
        env: { GIGAREELS_CONFIG_DIR: configDir() },
      });
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe(
        `Error: Port ${other.port} on 127.0.0.1 is already in use. Stop the other server or pick another port with --port.`,
      );
    } finally {
      await other.stop();
    }
  });

  it("exits 2 for a malformed --key without echoing it", async () => {
    const bad = `giga_${"x".repeat(30)}!!`;
    const result = await runCli(["emulator", "--port", "0", "--key", bad], {
      env: { GIGAREELS_CONFIG_DIR: configDir() },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not a GigaReels API key");
    expect(result.stderr).not.toContain(bad);
  });
});
