#!/usr/bin/env node
// Compiles src/ to dist/ (everything tests and the CLI import), bundles the SDK that the package
// exports (dist/sdk/, see scripts/bundle-sdk.mjs), regenerates
// oclif.manifest.json (so it is never stale; written with sorted keys, so it is deterministic),
// then bundles the CLI for the npm bin into dist/bundle/cli.cjs with a V8 code cache for this
// Node (see scripts/bundle.mjs and bin/run.js).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleNpm, trainCodeCache } from "./bundle.mjs";
import { bundleSdk } from "./bundle-sdk.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

rmSync(join(root, "dist"), { recursive: true, force: true });
run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
await bundleSdk(root);
run(process.execPath, [join(root, "node_modules/oclif/bin/run.js"), "manifest"]);

// Command order in the manifest follows the file system's listing; sort it.
const manifestPath = join(root, "oclif.manifest.json");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
manifest.commands = Object.fromEntries(
  Object.keys(manifest.commands)
    .sort()
    .map((id) => [id, manifest.commands[id]]),
);
writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

await bundleNpm(root);
await trainCodeCache(root);
