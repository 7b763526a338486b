#!/usr/bin/env node
// The CLI as an ES module, for whoever runs `node bin/run.js`: package.json's "bin" is
// bin/run.cjs, which Node 20 starts about 10 ms sooner (no ES module loader). Both run the CLI
// bundle (dist/bundle/loader.cjs, see scripts/cli-loader.cjs); without a bundle (only `tsc` was
// run) they fall back to oclif's usual discovery.
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
