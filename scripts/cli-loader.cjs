// Runs the CLI: first dist/bundle/launch.cjs (src/lib/cli/bundle/launch.ts: `--version` and the
// update notice, no oclif), which loads the CLI bundle (dist/bundle/cli.cjs, made by
// scripts/bundle.mjs) only when the command line needs it, through a V8 code cache, because
// reading and compiling the bundle is most of what start-up costs. `npm run build` copies this
// file to dist/bundle/loader.cjs, which the bins (bin/run.cjs, bin/run.js) call with the package
// root.
// - dist/bundle/cli.<node version>-<arch>.v8cache, made at build time by running the CLI once,
//   is used when this Node is the one that built the package;
// - otherwise a per-user cache in GIGAREELS_CACHE_DIR (default: the user's cache folder,
//   e.g. ~/.cache/gigareels) is made on first run; GIGAREELS_NO_COMPILE_CACHE=1 turns it off.
// At build time, GIGAREELS_TRAIN_CODE_CACHE=<file> runs each argv of the JSON list
// GIGAREELS_TRAIN_ARGS in one process and writes the cache there.
"use strict";
const {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeFileSync,
} = require("node:fs");
const { createRequire } = require("node:module");
const { homedir } = require("node:os");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

const env = process.env;

/**
 * A file's bytes, read into `into` when they fit (a view of it), else into a new buffer; undefined
 * when it cannot be read. Fresh memory is dear at start-up (each new page is a page fault: here
 * ~1.5 ms per 100 KB), and the bundle's bytes are no longer needed once decoded, so the code cache
 * reuses their buffer.
 */
function tryRead(file, into) {
  let fd;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    const buf = into && size <= into.length ? into.subarray(0, size) : Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === size ? buf : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function userCacheFile(hash) {
  if (env.GIGAREELS_NO_COMPILE_CACHE === "1") return undefined;
  const home = homedir();
  const base =
    env.GIGAREELS_CACHE_DIR ||
    (process.platform === "darwin"
      ? join(home, "Library/Caches/gigareels")
      : process.platform === "win32"
        ? join(env.LOCALAPPDATA || join(home, "AppData/Local"), "gigareels")
        : join(env.XDG_CACHE_HOME || join(home, ".cache"), "gigareels"));
  return join(base, "compile-cache", `cli-${hash}-${process.version}-${process.arch}.v8cache`);
}

function writeCache(file, data, mode = 0o600) {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs start-up time.
  }
}

/** Compiles the big bundle through the code cache and evaluates it; returns its exports. */
function loadCli(root, train) {
  const bundle = join(root, "dist/bundle/cli.cjs");
  // Read as bytes, then decoded: quicker here than readFileSync(bundle, "utf8"). The bundle is
  // ASCII (scripts/bundle.mjs), so latin1 decodes it exactly, into a one-byte string.
  const bytes = readFileSync(bundle);
  const source = bytes.toString("latin1");
  // The first line is "// gigareels-bundle <hash of the rest>" (scripts/bundle.mjs).
  const hash = /^\/\/ gigareels-bundle ([0-9a-f]+)/.exec(source)?.[1] ?? "unknown";
  const shipped = join(root, `dist/bundle/cli.${process.version}-${process.arch}.v8cache`);
  const userFile = train ? undefined : userCacheFile(hash);
  // A user cache exists only because the shipped one was missing or rejected: try it first.
  const cachedData = train ? undefined : ((userFile && tryRead(userFile, bytes)) ?? tryRead(shipped, bytes));
  // The file is the module already wrapped as a function expression (scripts/bundle.mjs); the same
  // file name at training and at run time, or V8 rejects the cache.
  const script = new vm.Script(source, {
    filename: bundle,
    cachedData,
    // import() with a computed specifier (the rest became require() in the bundle).
    importModuleDynamically:
      vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier)),
  });
  if (env.GIGAREELS_DEBUG_CODE_CACHE) {
    process.stderr.write(
      `code cache: ${cachedData ? (script.cachedDataRejected ? "rejected" : "accepted") : "none"}\n`,
    );
  }
  if (train) {
    // Shipped in the package: readable by everyone who can run it. Written at exit, since a
    // command that fails ends the process through oclif's error handler.
    process.once("exit", () => writeCache(train, script.createCachedData(), 0o644));
  } else if (userFile && (!cachedData || script.cachedDataRejected)) {
    process.once("exit", () => writeCache(userFile, script.createCachedData()));
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  return mod.exports;
}

module.exports = async function runBundle(root) {
  // The first stage (dist/bundle/launch.cjs, src/lib/cli/bundle/launch.ts) answers `--version`
  // alone; the big bundle is compiled only when it calls for it.
  const launcher = require(join(root, "dist/bundle/launch.cjs"));
  const train = env.GIGAREELS_TRAIN_CODE_CACHE; // build time: where to write the shipped cache
  let cli;
  const load = async () => {
    cli ??= loadCli(root, train);
    return cli;
  };
  if (train) {
    // Each entry of the JSON list in turn, so the cache holds what they all compile: an argv, or
    // { argv, env } with environment variables to set from that run on (scripts/bundle.mjs).
    for (const entry of JSON.parse(env.GIGAREELS_TRAIN_ARGS || "[[]]")) {
      const run = Array.isArray(entry) ? { argv: entry } : entry;
      Object.assign(process.env, run.env);
      await launcher.main(root, run.argv, load);
    }
  } else {
    await launcher.main(root, undefined, load);
  }
};
