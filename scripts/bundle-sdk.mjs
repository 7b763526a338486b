// Builds what `@gigareels/sdk` resolves to (package.json "exports"), from src/index.ts:
//
//   dist/sdk/index.cjs     the SDK, one esbuild CommonJS bundle (ky inside; undici and keytar stay
//                          dependencies). `require` under the `node` condition (Node, Deno, Bun).
//   dist/sdk/index.mjs     `import` under the `node` condition: only re-exports index.cjs's names
//                          (through bridge.cjs), so `require` and `import` share one copy of
//                          every class and `instanceof GigaReelsError` holds whichever way the
//                          error came in. bridge.cjs hands index.cjs over in two lines: Node's
//                          ESM loader scans a CommonJS file it imports for export names, which
//                          for the whole bundle cost about 0.3x of `node -e 0` at start-up.
//   dist/sdk/portable.mjs  everything without the `node` condition (Workers, Vercel Edge, browsers,
//                          bundlers for those): the same sources as one ES module, where node:*
//                          modules, undici and keytar are stubs that throw when used (never when
//                          imported), so a consumer's bundle for platform browser/neutral builds.
//   dist/types-cjs/        the declarations again, under a {"type":"commonjs"} package.json, for
//                          `require` under TypeScript's node16/nodenext (dist/index.d.ts is ESM).
//
// A Node-only part is reached through `await import()`: esbuild keeps such a module lazily
// initialised inside the bundle, so its node:* requires run on first use, not at start-up.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { build } from "esbuild";

const OUT = "dist/sdk";
/** Modules the portable bundle replaces with a stub (see above). */
const NODE_ONLY = /^(node:.*|undici|keytar)$/;
const NODE_BUILTIN_BARE =
  /^(assert|buffer|child_process|crypto|dns|events|fs|fs\/promises|http|http2|https|module|net|os|path|process|stream|stream\/promises|string_decoder|tls|tty|url|util|v8|vm|worker_threads|zlib)$/;

const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));

/** A module whose every property access throws: what a Node-only import is outside Node. */
function stubNodeModules() {
  return {
    name: "stub-node-only",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) =>
        NODE_ONLY.test(args.path) || NODE_BUILTIN_BARE.test(args.path)
          ? { path: args.path, namespace: "node-only" }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: "node-only" }, (args) => ({
        loader: "js",
        contents: `const what = ${JSON.stringify(args.path)};
const fail = {
  get(_target, name) {
    if (typeof name === "symbol" || name === "__esModule" || name === "then" || name === "default") return undefined;
    throw new Error(
      "@gigareels/sdk: " + what + " (" + String(name) + ") is not available in this JavaScript runtime; " +
        "only Node.js, Deno and Bun have it. Pass apiKey (and baseUrl) to new GigaReels() and use the portable methods.",
    );
  },
};
// esbuild copies a CommonJS module's own properties into the namespace it imports and keeps the
// module's prototype: a throwing prototype makes every named import throw when it is used.
const thrower = new Proxy({}, fail);
module.exports = new Proxy({}, { ...fail, getPrototypeOf: () => thrower });
`,
      }));
    },
  };
}

const common = (root, version) => ({
  entryPoints: [join(root, "src/index.ts")],
  bundle: true,
  absWorkingDir: root,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
  // Readable output (users step into it); class and function names as written.
  keepNames: true,
  define: { __GIGAREELS_VERSION__: JSON.stringify(version) },
});

/** Declarations reachable from dist/index.d.ts, copied under a CommonJS package.json. */
function writeCjsTypes(root) {
  const from = join(root, "dist");
  const to = join(root, "dist/types-cjs");
  const seen = new Set();
  const queue = [join(from, "index.d.ts")];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from\s+|import\()\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      queue.push(resolve(dirname(file), m[1].replace(/\.js$/, ".d.ts")));
    }
    const target = join(to, relative(from, file));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
  }
  writeFileSync(join(to, "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
  return seen.size;
}

export async function bundleSdk(root) {
  const { version } = readJson(join(root, "package.json"));
  mkdirSync(join(root, OUT), { recursive: true });

  const cjsFile = join(root, OUT, "index.cjs");
  await build({
    ...common(root, version),
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: cjsFile,
    external: ["undici", "keytar"],
    // import.meta.url in our ESM sources: this file's URL, worked out when first read (only
    // inside functions), not when the SDK is required.
    define: { ...common(root, version).define, "import.meta.url": "__gigareelsImportMeta.url" },
    banner: {
      js: '"use strict";\nvar __gigareelsImportMeta = { get url() { return require("node:url").pathToFileURL(__filename).href; } };',
    },
  });

  // The ESM face of the same bundle: one export per name index.cjs has.
  const names = Object.keys(createRequire(import.meta.url)(cjsFile)).filter(
    (n) => n !== "default" && n !== "__esModule",
  );
  const bad = names.filter((n) => !/^[A-Za-z_$][\w$]*$/.test(n));
  if (bad.length > 0) throw new Error(`index.cjs exports names that are not identifiers: ${bad}`);
  writeFileSync(
    join(root, OUT, "bridge.cjs"),
    [
      "// Generated by scripts/bundle-sdk.mjs: index.cjs for index.mjs, without a scan of its source.",
      '"use strict";',
      'const sdk = require("./index.cjs");',
      "module.exports = sdk;",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(root, OUT, "index.mjs"),
    [
      "// Generated by scripts/bundle-sdk.mjs: the ES module face of index.cjs (one copy of every class).",
      'import sdk from "./bridge.cjs";',
      ...names.map((n) => `export const ${n} = sdk.${n};`),
      "export default sdk.default;",
      "",
    ].join("\n"),
  );

  await build({
    ...common(root, version),
    platform: "neutral",
    format: "esm",
    target: "es2022",
    mainFields: ["module", "main"],
    conditions: ["worker", "browser", "import", "default"],
    outfile: join(root, OUT, "portable.mjs"),
    plugins: [stubNodeModules()],
  });

  const typeFiles = writeCjsTypes(root);
  return { names, typeFiles };
}

// `node scripts/bundle-sdk.mjs` (after tsc) rebuilds only the SDK.
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(dirname(new URL(import.meta.url).pathname), "..");
  const r = await bundleSdk(root);
  process.stdout.write(`sdk: ${r.names.length} exports, ${r.typeFiles} declaration files\n`);
}
