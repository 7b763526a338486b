#!/usr/bin/env node
// The npm bin, as CommonJS: an ES module entry costs Node 20 about 5 ms more to start, so
// package.json's "bin" should point here. It runs the CLI bundle through a V8 code cache
// (dist/bundle/loader.cjs, see scripts/cli-loader.cjs); without a bundle (only `tsc` was run)
// it falls back to oclif's usual discovery.
"use strict";
const { join } = require("node:path");

let runBundle;
try {
  runBundle = require("../dist/bundle/loader.cjs");
} catch (error) {
  if (error?.code !== "MODULE_NOT_FOUND") throw error;
}
if (runBundle) {
  runBundle(join(__dirname, ".."));
} else {
  import("@oclif/core").then(({ execute }) => execute({ dir: __filename }));
}
