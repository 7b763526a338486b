/**
 * The standalone binary (issue 8), run with no `node` on PATH: --version, --help, an unknown
 * command (oclif's not-found hook, bundled), and the smoke flow against the emulator: login with
 * a key on stdin, status, whoami, render --wait --output.
 *
 * The binary is built here (scripts/build-binary.mjs --no-build, about 15 s once Node 22 is in
 * build/cache) when it is missing or older than a file under src/ or scripts/.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../src/lib/emulator/index.js";
import type { EmulatorHandle } from "../../src/lib/emulator/types.js";
// @ts-expect-error: a plain .mjs script without types
import { alignedCacheStart, archiveName, NODE_VERSION } from "../../scripts/build-binary.mjs";
import { expectNoFullKey, ROOT, type RunOptions, runCli, tempConfigDir } from "../helpers/cli.js";
import { skipWithoutKeytar } from "../helpers/keyring.js";
import { startProxy, type TestProxy } from "../helpers/proxy.js";
import { createTestCa, type TestCa } from "../helpers/tls-ca.js";

const target = `${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
const BINARY = join(ROOT, "build", `gigareels-${target}${process.platform === "win32" ? ".exe" : ""}`);
const NPM_BUNDLE = join(ROOT, "dist/bundle/cli.cjs");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; version: string };

// The host binary embeds keytar's native module: where keytar is not built, building it fails.
// Outside CI those tests are skipped, saying why; in CI they run (and fail without keytar).
const noKeytar = skipWithoutKeytar("the host's standalone binary (its build embeds keytar's native module)");

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
  if (noKeytar) return;
  if (!existsSync(NPM_BUNDLE)) throw new Error("run `npm run build` first");
  if (!existsSync(BINARY) || statSync(BINARY).mtimeMs < newestSource()) {
    execFileSync(process.execPath, [join(ROOT, "scripts/build-binary.mjs"), "--no-build"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
}, 600_000);

afterAll(() => rmSync(emptyBinDir, { recursive: true, force: true }));

describe.skipIf(noKeytar)("standalone binary", () => {
  it("really has no node on its PATH in these tests", async () => {
    expect(existsSync(join(emptyBinDir, "node"))).toBe(false);
    const r = await runBinary(["--version"]);
    expect(r.stderr).toBe("");
  });

  it("--version reports the version, the build's commit and date, the install method and the embedded Node", async () => {
    const r = await runBinary(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^gigareels ${pkg.version.replace(/\./g, "\\.")} \\(commit [0-9a-f]{12}, built [\\dT:-]+Z\\)\nstandalone binary, ${target}, Node ${NODE_VERSION.replace(/\./g, "\\.")}\n$`,
      ),
    );
    const json = await runBinary(["version", "--json"]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      version: pkg.version,
      installMethod: "binary",
      platform: target,
      node: NODE_VERSION,
    });
  });

  it("--version and -v are answered by the first stage, without compiling the CLI bundle (oclif)", async () => {
    const env = { GIGAREELS_DEBUG_CODE_CACHE: "1" };
    const version = await runBinary(["version"], { env });
    expect(version.code, version.stderr).toBe(0);
    // Control: a command compiles the bundle through its code cache, and says so.
    expect(version.stderr).toBe("code cache: accepted\n");
    for (const flag of ["--version", "-v"]) {
      const r = await runBinary([flag], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(version.stdout);
      expect(r.stderr).toBe("");
    }
  });

  it("a command line asking for help reads the code cache trained on help, any other the command one; V8 takes both", async () => {
    const env = { GIGAREELS_DEBUG_CODE_CACHE: "1" };
    for (const args of [[], ["--help"], ["help", "status"], ["status", "--help"]]) {
      const r = await runBinary(args, { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr, args.join(" ")).toBe("code cache (help): accepted\n");
    }
    const r = await runBinary(["status", "--offline"], { env });
    expect(r.stderr.split("\n")[0]).toBe("code cache: accepted");
  });

  it("keeps each code cache on an 8-byte boundary in the binary, where V8 reads it without a copy", () => {
    const binary = readFileSync(BINARY);
    for (const asset of ["cli.v8cache", "cli-help.v8cache"]) {
      const padded = readFileSync(join(ROOT, "build/sea", target, asset));
      const { offset } = alignedCacheStart(binary, padded);
      expect(offset % 8, asset).toBe(0);
      // The cache behind the padding is the one training wrote.
      expect(padded.subarray(padded[0], padded[0] + 64)).toEqual(
        readFileSync(join(ROOT, "build/sea", asset)).subarray(0, 64),
      );
    }
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

describe.skipIf(noKeytar)(
  "standalone binary through a proxy (undici, its own SEA asset, loaded on use)",
  () => {
    const HOST = "gigareels.test";
    let ca: TestCa;
    let emulator: EmulatorHandle;
    let proxy: TestProxy;
    let config: { dir: string; cleanup: () => void };
    beforeAll(async () => {
      ca = createTestCa(HOST);
      emulator = await startEmulator({ port: 0, tls: ca.tls, rateLimits: false });
      // Only the proxy resolves gigareels.test: a request that arrives went through it.
      proxy = await startProxy({ hosts: { [HOST]: "127.0.0.1" } });
      config = tempConfigDir();
    });
    afterAll(async () => {
      await Promise.all([emulator?.stop(), proxy?.stop()]);
      config?.cleanup();
      ca?.cleanup();
    });

    it("HTTPS_PROXY carries `api /api/me` in a CONNECT tunnel", async () => {
      const r = await runBinary(["api", "/api/me"], {
        env: {
          GIGAREELS_CONFIG_DIR: config.dir,
          GIGAREELS_API_KEY: emulator.keys[0],
          GIGAREELS_BASE_URL: `https://${HOST}:${emulator.port}`,
          NODE_EXTRA_CA_CERTS: ca.caFile,
          HTTPS_PROXY: proxy.url,
        },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ email: expect.any(String) });
      expect(
        proxy.requests.some((q) => q.method === "CONNECT" && q.target === `${HOST}:${emulator.port}`),
      ).toBe(true);
    });
  },
);

describe.skipIf(noKeytar)("standalone binary against the emulator", () => {
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
// module, shipped as a SEA asset and loaded from a private folder in the per-user cache folder
// (GIGAREELS_CACHE_DIR), not TMPDIR.
describe.runIf(process.env.GIGAREELS_TEST_KEYRING === "1" && !noKeytar)(
  "standalone binary and the OS keychain",
  () => {
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
      const cache = join(config.dir, "cache");
      const env = {
        GIGAREELS_CONFIG_DIR: config.dir,
        TMPDIR: join(config.dir, "no-such-tmp"),
        GIGAREELS_CACHE_DIR: cache,
      };
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
      // Extracted in the cache folder (TMPDIR does not even exist), and removed after loading.
      expect(login.stderr).not.toContain("TMPDIR");
      const leftovers = execFileSync("ls", ["-A", join(cache, "native")], { encoding: "utf8" });
      expect(leftovers).not.toContain("gigareels-keytar-");
      const logout = await runBinary(["logout", "--profile", profile], { env });
      expect(logout.code, logout.stderr).toBe(0);
    });
  },
);

/**
 * The release archive and SHA256SUMS that `npm run build:binary` writes beside the binary, served
 * from build/ by a local server laid out as GitHub's release downloads are, installed by
 * install.sh into an empty prefix, and run from there (no network beyond 127.0.0.1).
 */
describe.runIf(process.platform !== "win32" && !noKeytar)("install.sh from a local release server", () => {
  const ARCHIVE = join(ROOT, "build", archiveName(target, pkg.version) as string);
  const requests: string[] = [];
  let corrupt = false;
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    // Only this version's release exists (and it is the latest).
    const m = /^\/(?:download\/v([^/]+)|latest\/download)\/([\w.-]+)$/.exec(req.url ?? "");
    if (m?.[1] !== undefined && m[1] !== pkg.version) {
      res.writeHead(404).end("Not Found");
      return;
    }
    const file = m ? join(ROOT, "build", m[2]!) : "";
    if (!m || !existsSync(file)) {
      res.writeHead(404).end("Not Found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" });
    if (corrupt && file.endsWith(".tar.gz")) res.end(Buffer.from("not the archive"));
    else createReadStream(file).pipe(res);
  });
  let base = "";
  let prefix = "";
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    prefix = mkdtempSync(join(tmpdir(), "gigareels-prefix-"));
  });
  afterAll(() => {
    server.close();
    rmSync(prefix, { recursive: true, force: true });
  });
  // Asynchronous: the server above runs in this process.
  const install = (args: string[]) =>
    new Promise<{ status: number | null; stderr: string }>((resolvePromise, reject) => {
      const child = spawn("sh", [join(ROOT, "install.sh"), ...args], {
        env: { PATH: "/usr/bin:/bin", HOME: prefix, GIGAREELS_DOWNLOAD_BASE: base },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d) => {
        stderr += d;
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.on("error", reject);
      child.on("close", (status) => {
        clearTimeout(timer);
        resolvePromise({ status, stderr });
      });
    });

  it("build:binary wrote the archive (binary, LICENSE, README) and its line in SHA256SUMS", () => {
    const sums = readFileSync(join(ROOT, "build/SHA256SUMS"), "utf8");
    const digest = createHash("sha256").update(readFileSync(ARCHIVE)).digest("hex");
    expect(sums).toContain(`${digest}  ${archiveName(target, pkg.version)}\n`);
    const listing = execFileSync("tar", ["-tzf", ARCHIVE], { encoding: "utf8" }).trim().split("\n").sort();
    const folder = archiveName(target, pkg.version).replace(/\.tar\.gz$/, "");
    expect(listing.filter((f) => !f.endsWith("/"))).toEqual(
      [`${folder}/LICENSE`, `${folder}/README.md`, `${folder}/bin/gigareels`].sort(),
    );
  });

  it("installs --version into an empty --prefix, checked against SHA256SUMS, and `gigareels version` runs from there", async () => {
    const dir = join(prefix, "pinned");
    const r = await install(["--version", pkg.version, "--prefix", dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Installed gigareels ${pkg.version} to ${dir}/bin/gigareels`);
    expect(r.stderr).toContain("is not on your PATH");
    expect(requests).toContain(`/download/v${pkg.version}/SHA256SUMS`);
    expect(requests).toContain(`/download/v${pkg.version}/${archiveName(target, pkg.version)}`);
    expect(readdirSync(join(dir, "bin"))).toEqual(["gigareels"]);
    const v = await runCli(["version", "--json"], {
      command: [join(dir, "bin/gigareels")],
      cwd: emptyBinDir,
      env: { PATH: emptyBinDir, NODE_OPTIONS: undefined },
    });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({
      version: pkg.version,
      installMethod: "binary",
      node: NODE_VERSION,
    });
  });

  it("without --version installs the latest release (its version read from SHA256SUMS), into ~/.local/bin by default", async () => {
    const r = await install([]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Installed gigareels ${pkg.version} to ${prefix}/.local/bin/gigareels`);
    expect(requests).toContain("/latest/download/SHA256SUMS");
  });

  it("refuses an archive whose checksum does not match, installing nothing", async () => {
    const dir = join(prefix, "corrupt");
    corrupt = true;
    try {
      const r = await install(["--version", pkg.version, "--prefix", dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^install\.sh: checksum mismatch for gigareels_.* \(nothing installed\)$/m);
      expect(existsSync(join(dir, "bin/gigareels"))).toBe(false);
    } finally {
      corrupt = false;
    }
  });

  it("an unknown version is one clear line", async () => {
    const r = await install(["--version", "0.0.0-nope", "--prefix", join(prefix, "nope")]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `install.sh: cannot download ${base}/download/v0.0.0-nope/SHA256SUMS (is 0.0.0-nope a release?)`,
    );
  });
});

/**
 * The Windows binary, cross-built here (--allow-missing-native: no keytar, no code cache): Node's
 * Authenticode signature is removed before injection, so the exe is unsigned but valid (before,
 * `osslsigncode verify` said "The signature seems corrupted!"), with a correct PE checksum; the
 * release signs it when a certificate is configured. And a foreign target without that flag fails.
 */
const hasOsslsigncode = !spawnSync("osslsigncode", ["--version"]).error;
describe.runIf(process.platform === "linux" && hasOsslsigncode)("Windows binary built on Linux", () => {
  const out = mkdtempSync(join(tmpdir(), "gigareels-win-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const build = (args: string[]) =>
    spawnSync(
      process.execPath,
      [join(ROOT, "scripts/build-binary.mjs"), "--no-build", "--out", out, ...args],
      {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 300_000,
      },
    );

  it("a foreign target fails loudly without --allow-missing-native", () => {
    const r = build(["--target", "win-x64"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      "build-binary: win-x64 is not this machine's platform (linux-x64): its binary would have no keytar (OS keychain) and no V8 code cache",
    );
    expect(r.stderr).toContain("(--allow-missing-native builds it anyway)");
    expect(existsSync(join(out, "gigareels-win-x64.exe"))).toBe(false);
  });

  it("with --allow-missing-native: unsigned but valid (no corrupt signature, right checksum), zipped with SHA256SUMS", () => {
    const r = build(["--target", "win-x64", "--allow-missing-native"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("win-x64: removed Node's Authenticode signature");
    const exe = join(out, "gigareels-win-x64.exe");
    const verify = spawnSync("osslsigncode", ["verify", "-in", exe], { encoding: "utf8" });
    const text = verify.stdout + verify.stderr;
    expect(text).toContain("No signature found");
    expect(text).not.toMatch(/corrupt/i);
    expect(text).not.toContain("invalid PE checksum");
    const zip = archiveName("win-x64", pkg.version) as string;
    expect(readFileSync(join(out, "SHA256SUMS"), "utf8")).toContain(`  ${zip}\n`);
    const folder = zip.replace(/\.zip$/, "");
    const listing = execFileSync("unzip", ["-Z1", join(out, zip)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .sort();
    expect(listing).toEqual([`${folder}/LICENSE`, `${folder}/README.md`, `${folder}/bin/gigareels.exe`]);
  }, 300_000);
});

/** The Debian package of the binary (scripts/package-deb.mjs, run by the release), read back with dpkg-deb. */
const hasDpkgDeb = process.platform === "linux" && !spawnSync("dpkg-deb", ["--version"]).error;
describe.runIf(hasDpkgDeb && !noKeytar)("Debian package", () => {
  const out = mkdtempSync(join(tmpdir(), "gigareels-deb-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("installs /usr/bin/gigareels and the licence; the binary inside runs", async () => {
    const arch = process.arch === "x64" ? "amd64" : process.arch;
    const r = spawnSync(
      process.execPath,
      [join(ROOT, "scripts/package-deb.mjs"), "--target", target, "--binary", BINARY, "--out", out],
      { encoding: "utf8", timeout: 300_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const deb = join(out, `gigareels_${pkg.version}_${arch}.deb`);
    const field = (f: string) => execFileSync("dpkg-deb", ["-f", deb, f], { encoding: "utf8" }).trim();
    expect(field("Package")).toBe("gigareels");
    expect(field("Version")).toBe(pkg.version);
    expect(field("Architecture")).toBe(arch);
    const contents = execFileSync("dpkg-deb", ["-c", deb], { encoding: "utf8" });
    expect(contents).toMatch(/^-rwxr-xr-x root\/root .* \.\/usr\/bin\/gigareels$/m);
    expect(contents).toContain("./usr/share/doc/gigareels/copyright");
    const root = join(out, "root");
    execFileSync("dpkg-deb", ["-x", deb, root]);
    const v = await runCli(["version", "--json"], {
      command: [join(root, "usr/bin/gigareels")],
      cwd: emptyBinDir,
      env: { PATH: emptyBinDir, NODE_OPTIONS: undefined },
    });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ version: pkg.version, node: NODE_VERSION });
  }, 300_000);
});
