// The standalone binary's main script (CommonJS, as Node's single executable applications
// require). The CLI itself travels as the SEA asset `cli.cjs` with `cli.v8cache`, a V8 code cache
// "trained" at build time by running the CLI once with this same script and the same Node: unlike
// SEA's own useCodeCache (made by compiling without running, so it holds only the top level), it
// also holds every function that start-up runs, so they need no compiling at run time.
//
// Outside a binary (build time only) it runs GIGAREELS_SEA_BUNDLE from disk with each argv of the
// JSON list GIGAREELS_TRAIN_ARGS in turn, then writes the cache to GIGAREELS_TRAIN_CODE_CACHE.
"use strict";
const vm = require("node:vm");
const sea = require("node:sea");
const { dirname } = require("node:path");

const inSea = sea.isSea();
let source;
let cachedData;
let trainOut;
if (inSea) {
  source = sea.getAsset("cli.cjs", "utf8");
  try {
    cachedData = Buffer.from(sea.getRawAsset("cli.v8cache"));
  } catch {}
} else {
  source = require("node:fs").readFileSync(process.env.GIGAREELS_SEA_BUNDLE, "utf8");
  trainOut = process.env.GIGAREELS_TRAIN_CODE_CACHE;
}

// The same wrapper and file name at training and at run time, or V8 rejects the cache.
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: "gigareels-cli.cjs",
  cachedData,
  // import() with a computed specifier (the rest became require() in the bundle).
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (process.env.GIGAREELS_DEBUG_CODE_CACHE) {
  process.stderr.write(
    `code cache: ${cachedData ? (script.cachedDataRejected ? "rejected" : "accepted") : "none"}\n`,
  );
}
const mod = { exports: {} };
script.runInThisContext()(mod.exports, require, mod, process.execPath, dirname(process.execPath));
const root = dirname(process.execPath);
if (trainOut) {
  // Written at exit, since a command that fails ends the process through oclif's error handler.
  process.once("exit", () => require("node:fs").writeFileSync(trainOut, script.createCachedData()));
  (async () => {
    for (const argv of JSON.parse(process.env.GIGAREELS_TRAIN_ARGS || "[[]]"))
      await mod.exports.main(root, argv);
  })();
} else {
  mod.exports.main(root);
}
