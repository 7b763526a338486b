#!/usr/bin/env node
// The npm bin as an ES module (package.json's "bin" today); bin/run.cjs does the same and starts
// about 5 ms faster. Both run the CLI bundle through a V8 code cache (dist/bundle/loader.cjs, see
// scripts/cli-loader.cjs); without a bundle (only `tsc` was run) they fall back to oclif's usual
// discovery.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

let runBundle;
try {
  runBundle = createRequire(import.meta.url)("../dist/bundle/loader.cjs");
} catch (error) {
  if (error?.code !== "MODULE_NOT_FOUND") throw error;
}
if (runBundle) {
  await runBundle(fileURLToPath(new URL("..", import.meta.url)));
} else {
  const { execute } = await import("@oclif/core");
  await execute({ dir: import.meta.url });
}
