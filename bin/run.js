#!/usr/bin/env node
// The npm bin. Runs the CLI bundle made by `npm run build` (dist/bundle/cli.cjs: oclif with an
// embedded manifest and a lazily loaded command map, see src/lib/cli/bundle/launch.ts) through a
// V8 code cache, because compiling the bundle is most of what start-up costs:
// - dist/bundle/cli.<node version>-<arch>.v8cache, made at build time by running the CLI once,
//   is used when this Node is the one that built the package;
// - otherwise a per-user cache in GIGAREELS_CACHE_DIR (default: the user's cache folder,
//   e.g. ~/.cache/gigareels) is made on first run; GIGAREELS_NO_COMPILE_CACHE=1 turns it off.
// Without a bundle (only `tsc` was run) it falls back to oclif's usual discovery.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const root = fileURLToPath(new URL("..", import.meta.url));
const bundle = join(root, "dist/bundle/cli.cjs");
const env = process.env;

const tryRead = (file, encoding) => {
  try {
    return readFileSync(file, encoding);
  } catch {
    return undefined;
  }
};

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

function writeCache(file, data) {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // A cache that cannot be written only costs start-up time.
  }
}

const source = tryRead(bundle, "utf8");
if (source === undefined) {
  const { execute } = await import("@oclif/core");
  await execute({ dir: import.meta.url });
} else {
  // The first line is "// gigareels-bundle <hash of the rest>" (scripts/bundle.mjs).
  const hash = /^\/\/ gigareels-bundle ([0-9a-f]+)/.exec(source)?.[1] ?? "unknown";
  const train = env.GIGAREELS_TRAIN_CODE_CACHE; // build time: where to write the shipped cache
  const shipped = join(root, `dist/bundle/cli.${process.version}-${process.arch}.v8cache`);
  const userFile = train ? undefined : userCacheFile(hash);
  // A user cache exists only because the shipped one was missing or rejected: try it first.
  const cachedData = train ? undefined : ((userFile && tryRead(userFile)) ?? tryRead(shipped));
  // The same wrapper and file name at training and at run time, or V8 rejects the cache.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    cachedData,
  });
  if (env.GIGAREELS_DEBUG_CODE_CACHE) {
    process.stderr.write(
      `code cache: ${cachedData ? (script.cachedDataRejected ? "rejected" : "accepted") : "none"}\n`,
    );
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
  if (train) {
    // Each argv of the JSON list in turn, so the cache holds what they all compile.
    for (const argv of JSON.parse(env.GIGAREELS_TRAIN_ARGS || "[[]]")) await mod.exports.main(root, argv);
    writeCache(train, script.createCachedData());
  } else {
    if (userFile && (!cachedData || script.cachedDataRejected)) {
      process.once("exit", () => writeCache(userFile, script.createCachedData()));
    }
    await mod.exports.main(root);
  }
}
