#!/usr/bin/env node
// The npm bin (package.json's "bin"), as CommonJS: an ES module entry (bin/run.js) costs Node 20
// about 10 ms more to start. It runs the CLI through dist/bundle/loader.cjs (see
// scripts/cli-loader.cjs); without a bundle (only `tsc` was run) it falls back to oclif's usual
// discovery.
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
