#!/usr/bin/env node
// Runs the CLI from the compiled output after a fresh `npm run build`; for TypeScript
// sources without a build use `npx tsx bin/dev.js` (not a dependency).
import { execute } from "@oclif/core";

await execute({ development: true, dir: import.meta.url });
