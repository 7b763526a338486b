/**
 * The standalone binary (issue 8), run with no `node` on PATH: --version, --help, an unknown
 * command (oclif's not-found hook, bundled), and the smoke flow against the emulator: login with
 * a key on stdin, status, whoami, render --wait --output.
 *
 * The binary is built here (scripts/build-binary.mjs --no-build, about 15 s once Node 22 is in
 * build/cache) when it is missing or older than a file under src/ or scripts/.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../src/lib/emulator/index.js";
import type { EmulatorHandle } from "../../src/lib/emulator/types.js";
import { expectNoFullKey, ROOT, type RunOptions, runCli, tempConfigDir } from "../helpers/cli.js";

const target = `${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
const BINARY = join(ROOT, "build", `gigareels-${target}${process.platform === "win32" ? ".exe" : ""}`);
const NPM_BUNDLE = join(ROOT, "dist/bundle/cli.cjs");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };

// A PATH with no node on it: an empty folder of our own.
const emptyBinDir = mkdtempSync(join(tmpdir(), "gigareels-nopath-"));

function runBinary(args: string[], options: RunOptions = {}) {
  return runCli(args, {
    timeoutMs: 60_000,
    ...options,
    command: [BINARY],
    cwd: emptyBinDir,
    env: { PATH: emptyBinDir, NODE_OPTIONS: undefined, ...options.env },
  });
}

/** Newest modification time of the files the binary is built from. */
function newestSource(): number {
  let newest = statSync(join(ROOT, "package.json")).mtimeMs;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(ROOT, "src"));
  walk(join(ROOT, "scripts"));
  return newest;
}

beforeAll(() => {
  if (!existsSync(NPM_BUNDLE)) throw new Error("run `npm run build` first");
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < newestSource()) {
    execFileSync(process.execPath, [join(ROOT, "scripts/build-binary.mjs"), "--no-build"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
}, 600_000);

afterAll(() => rmSync(emptyBinDir, { recursive: true, force: true }));

describe("standalone binary", () => {
  it("really has no node on its PATH in these tests", async () => {
    expect(existsSync(join(emptyBinDir, "node"))).toBe(false);
    const r = await runBinary(["--version"]);
    expect(r.stderr).toBe("");
  });

  it("--version goes through oclif and reports the embedded Node 22", async () => {
    const r = await runBinary(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${pkg.name}/${pkg.version} ${target} node-v22.23.2`);
  });

  it("--help lists every command of the manifest", async () => {
    const r = await runBinary(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("USAGE");
    const manifest = JSON.parse(readFileSync(join(ROOT, "oclif.manifest.json"), "utf8")) as {
      commands: Record<string, { hidden?: boolean }>;
    };
    for (const [id, c] of Object.entries(manifest.commands)) {
      if (c.hidden) continue;
      // Nested commands (render:text) show under their topic (render).
      expect(r.stdout).toContain(id.split(":")[0]);
    }
    expect(r.stdout).toContain("help");
  });

  it("a command's --help comes from the embedded manifest", async () => {
    const r = await runBinary(["help", "help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Display help for gigareels.");
  });

  it("an unknown command runs the bundled not-found hook: a usage error naming the closest command (exit 2)", async () => {
    const r = await runBinary(["statsu"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'Error: "statsu" is not a gigareels command. Did you mean "gigareels status"? Run gigareels --help for the list of commands.\n',
    );
  });
});

describe("standalone binary against the emulator", () => {
  let emulator: EmulatorHandle;
  let config: { dir: string; cleanup: () => void };
  let key: string;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, renderDurationMs: 300 });
    key = emulator.keys[0]!;
    config = tempConfigDir();
  });
  afterAll(async () => {
    await emulator?.stop();
    config?.cleanup();
  });
  const env = () => ({ GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_CREDENTIAL_STORE: "file" });

  it("login --with-token reads the key from stdin", async () => {
    const r = await runBinary(["login", "--with-token", "--base-url", emulator.url], {
      input: `${key}\n`,
      env: env(),
    });
    expect(r.code, r.stderr).toBe(0);
    expectNoFullKey(r.stdout + r.stderr, key);
    const creds = JSON.parse(readFileSync(join(config.dir, "credentials.json"), "utf8"));
    expect(creds.profiles.default.keyLast4).toBe(key.slice(-4));
  });

  it("status --json reports the stored key, masked", async () => {
    const r = await runBinary(["status", "--json"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expectNoFullKey(r.stdout + r.stderr, key);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stdout).toContain(key.slice(-4));
  });

  it("whoami prints the account's email", async () => {
    const r = await runBinary(["whoami"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(emulator.keyInfo(key)!.account.email);
  });

  it("render --wait --output downloads the video", async () => {
    const out = join(config.dir, "video.mp4");
    const r = await runBinary(["render", "a cat on a skateboard", "--wait", "--output", out], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expectNoFullKey(r.stdout + r.stderr, key);
    const video = readFileSync(out);
    expect(video.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(emulator.renders().at(-1)?.status).toBe("done");
  });
});

// CI (.ci/run) runs the tests inside a D-Bus session with an unlocked gnome-keyring and sets
// GIGAREELS_TEST_KEYRING=1: there the binary must reach the keychain through keytar's native
// module, shipped as a SEA asset and loaded from a private temporary folder.
describe.runIf(process.env.GIGAREELS_TEST_KEYRING === "1")("standalone binary and the OS keychain", () => {
  let emulator: EmulatorHandle;
  let config: { dir: string; cleanup: () => void };
  const profile = `binary-test-${process.pid}`;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    config = tempConfigDir();
  });
  afterAll(async () => {
    await emulator?.stop();
    config?.cleanup();
  });

  it("stores the key in the keychain, not in credentials.json, and leaves no temporary folder", async () => {
    const key = emulator.keys[0]!;
    const env = { GIGAREELS_CONFIG_DIR: config.dir, TMPDIR: config.dir };
    const login = await runBinary(
      ["login", "--with-token", "--base-url", emulator.url, "--profile", profile],
      {
        input: `${key}\n`,
        env,
      },
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).not.toContain("plain text");
    const text = readFileSync(join(config.dir, "credentials.json"), "utf8");
    expect(JSON.parse(text).profiles[profile].keyLocation).toBe("keychain");
    expect(text).not.toContain(key);
    const leftovers = execFileSync("ls", ["-A", config.dir], { encoding: "utf8" });
    expect(leftovers).not.toContain("gigareels-keytar-");
    const logout = await runBinary(["logout", "--profile", profile], { env });
    expect(logout.code, logout.stderr).toBe(0);
  });
});
