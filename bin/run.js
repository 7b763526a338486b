#!/usr/bin/env node
// The npm bin. Runs the esbuild bundle made by `npm run build` (dist/bundle/cli: oclif with an
// embedded manifest and a lazily loaded command map, see src/lib/cli/bundle/launch.ts); without
// a bundle (only `tsc` was run) it falls back to oclif's usual discovery from package.json.
let bundle;
try {
  bundle = await import("../dist/bundle/cli/main.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist/bundle/cli/main.js"))
    throw error;
}
if (bundle) {
  const { fileURLToPath } = await import("node:url");
  await bundle.main(fileURLToPath(new URL("..", import.meta.url)));
} else {
  const { execute } = await import("@oclif/core");
  await execute({ dir: import.meta.url });
}
