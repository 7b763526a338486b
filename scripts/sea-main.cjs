// The standalone binary's main script (CommonJS, as Node's single executable applications
// require). The CLI travels as SEA assets: `launch.cjs`, the small first stage
// (src/lib/cli/bundle/launch.ts: `--version` and the update notice, no oclif), and `cli.cjs`, the
// big bundle, loaded only when the first stage calls for it, with `cli.v8cache`, a V8 code cache
// "trained" at build time by running the CLI once with this same script and the same Node: unlike
// SEA's own useCodeCache (made by compiling without running, so it holds only the top level), it
// also holds every function that start-up runs, so they need no compiling at run time (two of
// them: `cli-help.v8cache`, trained on help, for a command line that asks for help, and
// `cli.v8cache`, trained on a command, for the rest: V8 reads a whole cache before running
// anything, and one cache for both cost a command 10% more reading); and
// `undici.cjs`, loaded when a proxy is used. The binary starts with the Node options of
// scripts/build-binary.mjs's SEA_EXEC_ARGV, which the training uses too.
//
// Outside a binary (build time only) it runs GIGAREELS_SEA_BUNDLE (and launch.cjs beside it) from
// disk with each entry of the JSON list GIGAREELS_TRAIN_ARGS in turn (an argv, or { argv, env }),
// then writes the cache to GIGAREELS_TRAIN_CODE_CACHE.
"use strict";
const vm = require("node:vm");
const sea = require("node:sea");
const { dirname, join } = require("node:path");

const inSea = sea.isSea();
const trainOut = inSea ? undefined : process.env.GIGAREELS_TRAIN_CODE_CACHE;
/** An asset's text (ASCII: scripts/bundle.mjs), or a file beside GIGAREELS_SEA_BUNDLE at build time. */
function source(asset) {
  if (inSea) return Buffer.from(sea.getRawAsset(asset)).toString("latin1");
  const bundle = process.env.GIGAREELS_SEA_BUNDLE;
  const file = asset === "cli.cjs" ? bundle : join(dirname(bundle), asset);
  return require("node:fs").readFileSync(file).toString("latin1");
}

// Packages shipped as assets of their own (scripts/bundle.mjs, SEA_SIDE_BUNDLES), evaluated when
// first required: the bundle's `require` serves them, and Node's built-ins.
const SIDE_BUNDLES = { undici: "undici.cjs" };
const sideLoaded = new Map();
function bundleRequire(id) {
  const asset = SIDE_BUNDLES[id];
  if (!asset) return require(id);
  if (!sideLoaded.has(id)) sideLoaded.set(id, evaluate(source(asset), `gigareels-${asset}`).exports);
  return sideLoaded.get(id);
}

/**
 * Evaluates a CommonJS bundle, `wrapped` already as a function expression (cli.cjs, see
 * scripts/bundle.mjs) or not; the same file name at training and at run time, or V8 rejects the
 * cache.
 */
function evaluate(code, filename, cachedData, wrapped = false) {
  const script = new vm.Script(
    wrapped ? code : `(function (exports, require, module, __filename, __dirname) {${code}\n})`,
    {
      filename,
      cachedData,
      // import() with a computed specifier (the rest became require() in the bundle).
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    },
  );
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, bundleRequire, mod, process.execPath, dirname(process.execPath));
  return { script, exports: mod.exports };
}

/**
 * Whether a command line asks for help (no command, `help` or `--help`), which picks the
 * code cache trained on help. scripts/build-binary.mjs sorts the training command lines with it.
 */
function wantsHelp(argv) {
  return argv.length === 0 || argv[0] === "help" || argv.includes("--help");
}

let cli;
async function loadCli(argv = process.argv.slice(2)) {
  if (cli) return cli;
  const help = wantsHelp(argv);
  let cachedData;
  if (inSea) {
    try {
      // Behind its padding (scripts/build-binary.mjs, cacheAsset): the first byte says where the
      // cache starts, on an 8-byte boundary in memory, which V8 then reads in place.
      const asset = Buffer.from(sea.getRawAsset(help ? "cli-help.v8cache" : "cli.v8cache"));
      cachedData = asset.subarray(asset[0]);
    } catch {}
  }
  const { script, exports } = evaluate(source("cli.cjs"), "gigareels-cli.cjs", cachedData, true);
  if (process.env.GIGAREELS_DEBUG_CODE_CACHE) {
    process.stderr.write(
      `code cache${help ? " (help)" : ""}: ${cachedData ? (script.cachedDataRejected ? "rejected" : "accepted") : "none"}\n`,
    );
  }
  // Written at exit, since a command that fails ends the process through oclif's error handler.
  if (trainOut)
    process.once("exit", () => require("node:fs").writeFileSync(trainOut, script.createCachedData()));
  cli = exports;
  return cli;
}

const launcher = evaluate(source("launch.cjs"), "gigareels-launch.cjs").exports;
const root = dirname(process.execPath);
if (process.env.GIGAREELS_SEA_WANTS_HELP) {
  // For scripts/build-binary.mjs: which of these command lines (a JSON list) pick the help cache.
  process.stdout.write(JSON.stringify(JSON.parse(process.env.GIGAREELS_SEA_WANTS_HELP).map(wantsHelp)));
} else if (trainOut) {
  (async () => {
    // Each entry in turn: an argv, or { argv, env } with environment variables to set from that
    // run on (scripts/bundle.mjs, trainArgs).
    for (const entry of JSON.parse(process.env.GIGAREELS_TRAIN_ARGS || "[[]]")) {
      const run = Array.isArray(entry) ? { argv: entry } : entry;
      Object.assign(process.env, run.env);
      await launcher.main(root, run.argv, () => loadCli(run.argv));
    }
  })();
} else {
  launcher.main(root, undefined, loadCli);
}
