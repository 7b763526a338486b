// Bundles the CLI with esbuild into one CommonJS file, for the npm bin (dist/bundle/cli.cjs) and
// for the standalone binary. Used by scripts/build.mjs and scripts/build-binary.mjs.
//
// Nothing here is a hand-written list: the command map comes from oclif.manifest.json (which
// `oclif manifest` derives from src/commands at build time), the bundled plugins and hooks from
// package.json's oclif section.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

/** The npm bin's bundle (bin/run.cjs loads it). */
export const NPM_BUNDLE = "dist/bundle/cli.cjs";
/** How the CLI bundle's module is wrapped: evaluated, the file gives this function. */
export const BUNDLE_WRAPPER = "(function (exports, require, module, __filename, __dirname) {";
/** The first stage's file name, beside each bundle (src/lib/cli/bundle/launch.ts). */
export const LAUNCH_FILE = "launch.cjs";
const GEN_DIR = "build/gen";

const readJson = (p) => JSON.parse(readFileSync(p, "utf8"));
const toPosix = (p) => p.split("\\").join("/");

/** package.json, trimmed to what oclif reads at run time, as the bundle inlines it. */
export function runtimePjson(pjson) {
  const oclif = { ...pjson.oclif };
  delete oclif.hooks; // bundled, run by src/lib/cli/bundle/run-oclif.ts
  delete oclif.plugins; // bundled into the root plugin
  delete oclif.devPlugins;
  oclif.commands = { strategy: "explicit", target: `./${NPM_BUNDLE}`, identifier: "COMMANDS" };
  return { name: pjson.name, version: pjson.version, type: pjson.type, oclif };
}

function pluginRoot(root, name) {
  // Resolve from the root's node_modules without going through the package's "exports".
  let dir = root;
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`plugin ${name} not found from ${root}`);
    dir = parent;
  }
}

const castArray = (v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const hookTarget = (h) => (typeof h === "string" ? h : h.target);
/** oclif accepts a hook target with or without an extension, or a folder with index.js. */
function resolveModule(base, target) {
  const p = resolve(base, target);
  for (const c of [p, `${p}.js`, join(p, "index.js")]) if (existsSync(c) && !c.endsWith("/")) return c;
  throw new Error(`cannot find ${target} from ${base}`);
}

/**
 * Everything the bundle embeds: the merged manifest (our commands plus the bundled plugins'),
 * command id -> absolute module path, hook event -> absolute module paths.
 */
export function collectCli(root) {
  const pjson = readJson(join(root, "package.json"));
  const manifestPath = join(root, "oclif.manifest.json");
  if (!existsSync(manifestPath)) throw new Error("oclif.manifest.json is missing: run the build first");
  const own = readJson(manifestPath);
  const manifest = { version: pjson.version, commands: {} };
  const commands = {};
  const hooks = {};
  const addHooks = (base, decl) => {
    for (const [event, list] of Object.entries(decl ?? {})) {
      if (!hooks[event]) hooks[event] = [];
      for (const h of castArray(list)) hooks[event].push(resolveModule(base, hookTarget(h)));
    }
  };
  const addCommands = (base, m, asRoot) => {
    for (const id of Object.keys(m.commands).sort()) {
      const c = m.commands[id];
      if (!c.relativePath) throw new Error(`manifest entry ${id} has no relativePath`);
      if (commands[id]) continue; // the root plugin wins, as in oclif
      commands[id] = join(base, ...c.relativePath);
      manifest.commands[id] = asRoot
        ? c
        : { ...c, pluginName: pjson.name, pluginAlias: pjson.name, pluginType: "core", isESM: true };
    }
  };
  addCommands(root, own, true);
  addHooks(root, pjson.oclif?.hooks);
  for (const name of pjson.oclif?.plugins ?? []) {
    const base = pluginRoot(root, name);
    const ppjson = readJson(join(base, "package.json"));
    addCommands(base, readJson(join(base, "oclif.manifest.json")), false);
    addHooks(base, ppjson.oclif?.hooks);
  }
  for (const p of Object.values(commands)) if (!existsSync(p)) throw new Error(`command module ${p} missing`);
  return { pjson, manifest, commands, hooks };
}

/** Writes the generated entry module (imports are absolute paths, resolved by esbuild). */
export function writeEntry(root, kind) {
  const { pjson, manifest, commands, hooks } = collectCli(root);
  const dir = join(root, GEN_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest)}\n`);
  writeFileSync(join(dir, "pjson.json"), `${JSON.stringify(runtimePjson(pjson))}\n`);
  const q = (p) => JSON.stringify(toPosix(p));
  const lines = [
    "// Generated by scripts/bundle.mjs from oclif.manifest.json and package.json. Do not edit.",
    // First: it must run before @oclif/core's index.js.
    `import { restoreEngineWarningSetting } from ${q(join(root, "dist/lib/cli/bundle/before-oclif.js"))};`,
    `import { runOclif } from ${q(join(root, "dist/lib/cli/bundle/run-oclif.js"))};`,
    `import manifest from ${q(join(dir, "manifest.json"))};`,
    `import pjson from ${q(join(dir, "pjson.json"))};`,
    "export const COMMANDS = {",
    ...Object.entries(commands).map(([id, p]) => `  ${JSON.stringify(id)}: () => import(${q(p)}),`),
    "};",
    "export const HOOKS = {",
    ...Object.entries(hooks).map(
      ([event, ps]) => `  ${JSON.stringify(event)}: [${ps.map((p) => `() => import(${q(p)})`).join(", ")}],`,
    ),
    "};",
    kind === "sea"
      ? `import { installSeaKeytarHook } from ${q(join(root, "dist/lib/cli/bundle/keytar-sea.js"))};`
      : "",
    "export function main(root, argv) {",
    "  restoreEngineWarningSetting();",
    kind === "sea" ? "  installSeaKeytarHook();" : "",
    "  return runOclif({ root, pjson, manifest, commands: COMMANDS, hooks: HOOKS, argv });",
    "}",
  ];
  const file = join(dir, `${kind}-entry.mjs`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return { file, commandIds: Object.keys(commands) };
}

/**
 * The first stage (src/lib/cli/bundle/launch.ts), bundled on its own: `main(root, argv, loadCli)`
 * answers what needs no oclif and otherwise calls `loadCli()` for the big bundle's exports and
 * runs its `main(root, argv)`.
 */
export function writeLaunchEntry(root) {
  const dir = join(root, GEN_DIR);
  mkdirSync(dir, { recursive: true });
  const q = (p) => JSON.stringify(toPosix(p));
  const lines = [
    "// Generated by scripts/bundle.mjs. Do not edit.",
    `import { launch } from ${q(join(root, "dist/lib/cli/bundle/launch.js"))};`,
    "export function main(root, argv, loadCli) {",
    "  return launch({ argv, runCli: async (args) => (await loadCli()).main(root, args) });",
    "}",
  ];
  const file = join(dir, "launch-entry.mjs");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/**
 * sdk/version.ts reads package.json with createRequire("../../../package.json") relative to its
 * own file; in a bundle that file has moved (and a binary has no package.json), so the bundle
 * inlines the name and version instead.
 */
function inlinePackageJson(root) {
  const pjson = readJson(join(root, "package.json"));
  const literal = JSON.stringify({ name: pjson.name, version: pjson.version });
  const target = join(root, "package.json");
  return {
    name: "inline-package-json",
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, (args) => {
        const src = readFileSync(args.path, "utf8");
        if (!src.includes("package.json")) return undefined;
        const out = src.replace(/\b(\w+)\((["'])((?:\.\.\/)+package\.json)\2\)/g, (m, _fn, _q, rel) =>
          resolve(dirname(args.path), rel) === target ? `(${literal})` : m,
        );
        return { contents: out, loader: "js" };
      });
    },
  };
}

/**
 * Dependencies that @oclif/core's modules require when they load but use only inside functions
 * that `status --offline` (and most commands) never call: command discovery by glob (tinyglobby,
 * minimatch; the bundle has an explicit command map), package.json lookup (lilconfig; the bundle
 * passes package.json), templates (ejs), help and error formatting (ansis, wrap-ansi,
 * string-width, widest-line, indent-string, clean-stack, supports-color), spinners
 * (cli-spinners), reading a flag from stdin (node:readline), the Windows/WSL shell lookup
 * (node:child_process), performance marks (node:perf_hooks: only with DEBUG=oclif:perf) and
 * node:fs/promises (tsconfig lookups for .ts sources; util/fs.js gets fs-promises-for-oclif.ts).
 * Evaluating them cost about a tenth of `status --offline`'s start-up. In oclif's compiled CommonJS each is one
 * top-level line, `const x_1 = __importDefault(require("m"));` or `const x_1 = require("m");`,
 * rewritten here to require the module on first use. This is a build-time change of when oclif's
 * modules load, not of what they do; the build fails when a line is no longer found or `x_1` is
 * used outside a function (an oclif upgrade that changed them); test/unit/build.test.ts covers
 * the rewrite and that check, test/integration/status-modules.test.ts that status --offline
 * requires none of node:child_process, node:readline, node:perf_hooks and node:fs/promises.
 */
export const LAZY_OCLIF_REQUIRES = [
  // @oclif/core's own modules that status --offline (and most commands) never use, named from
  // lib/ ("./x"): flag constraints, loading commands and hooks from disk (module-loader, ts-path,
  // find-root, cache-command; the bundle has an explicit command map and bundled hooks), and the
  // help classes for a command and the root (help itself still loads them). Their re-exports
  // (`var x = require(...)` with `Object.defineProperty(exports, ..., { get: ... })`, and
  // `exports.X = __importStar(require(...))`) become getters too.
  "./config/ts-path",
  "./constraints",
  "./help/command",
  "./help/root",
  "./module-loader",
  "./util/cache-command",
  "./util/find-root",
  "ansis",
  "clean-stack",
  "cli-spinners",
  "ejs",
  "indent-string",
  "lilconfig",
  "minimatch",
  "node:child_process",
  "node:fs/promises",
  "node:perf_hooks",
  "node:readline",
  "string-width",
  "supports-color",
  "tinyglobby",
  "widest-line",
  "wrap-ansi",
];

/**
 * The name a require has in LAZY_OCLIF_REQUIRES: a package as it is, one of @oclif/core's own
 * modules as "./<path from lib/>".
 */
function lazyKey(mod, file) {
  if (!mod.startsWith(".")) return mod;
  const posixFile = toPosix(file);
  const at = posixFile.lastIndexOf("/@oclif/core/lib/");
  const dir = posix.dirname(at >= 0 ? posixFile.slice(at + "/@oclif/core/lib/".length) : posixFile);
  return `./${posix.normalize(posix.join(dir, mod)).replace(/\/index$/, "")}`;
}

export function lazyOclifRequire(source, file, lazy = LAZY_OCLIF_REQUIRES) {
  const found = [];
  const lines = source.split("\n");
  /** Whether every other use of `name` is inside a function, or a re-export's getter. */
  const checkUses = (name, mod, line) => {
    const reexport = new RegExp(
      `^Object\\.defineProperty\\(exports, "\\w+", \\{ enumerable: true, get: function \\(\\) \\{ return ${name}\\.\\w+; \\} \\}\\);$`,
    );
    const uses = lines.filter((l) => l !== line && new RegExp(`\\b${name}\\b`).test(l));
    // Every other use must be inside a function (indented): a top-level one would load it anyway.
    const topLevel = uses.filter((l) => !/^\s/.test(l) && !reexport.test(l));
    if (topLevel.length > 0)
      throw new Error(`${file}: ${name} (${mod}) is used at the top level: ${topLevel[0]}`);
  };
  const out = source
    .replace(
      /^(const|var) (\w+) = (__importDefault\()?require\("([^"]+)"\)\)?;$/gm,
      (line, _kind, name, importDefault, mod) => {
        if (!lazy.includes(lazyKey(mod, file))) return line;
        if ((importDefault !== undefined) !== line.endsWith("));")) return line;
        checkUses(name, mod, line);
        found.push(lazyKey(mod, file));
        return importDefault
          ? `const ${name} = { get default() { return __importDefault(require("${mod}")).default; } };`
          : `const ${name} = new Proxy({}, { get: (_, key) => require("${mod}")[key] });`;
      },
    )
    .replace(/^exports\.(\w+) = __importStar\(require\("([^"]+)"\)\);$/gm, (line, name, mod) => {
      if (!lazy.includes(lazyKey(mod, file))) return line;
      found.push(lazyKey(mod, file));
      return `Object.defineProperty(exports, "${name}", { enumerable: true, get: () => __importStar(require("${mod}")) });`;
    });
  return { code: out, found };
}

export function lazyOclifRequires(lazy = LAZY_OCLIF_REQUIRES) {
  const seen = new Set();
  return {
    name: "lazy-oclif-requires",
    setup(b) {
      b.onLoad({ filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/ }, (args) => {
        const { code, found } = lazyOclifRequire(readFileSync(args.path, "utf8"), args.path, lazy);
        for (const m of found) seen.add(m);
        return { contents: code, loader: "js" };
      });
      b.onEnd((result) => {
        if (result.errors.length > 0) return;
        const missing = lazy.filter((m) => !seen.has(m));
        if (missing.length > 0)
          throw new Error(
            `@oclif/core no longer requires ${missing.join(", ")} as expected: update LAZY_OCLIF_REQUIRES`,
          );
      });
    },
  };
}

/** wsl-utils, as @oclif/core imports it -> src/lib/cli/bundle/wsl-utils-for-oclif.ts (see there why). */
function aliasWslUtilsForOclif(root) {
  const stub = join(root, "dist/lib/cli/bundle/wsl-utils-for-oclif.js");
  return {
    name: "wsl-utils-for-oclif",
    setup(b) {
      b.onResolve({ filter: /^wsl-utils$/ }, (args) =>
        /[\\/]@oclif[\\/]core[\\/]/.test(args.importer) ? { path: stub } : undefined,
      );
    },
  };
}

/** debug, as @oclif/core imports it -> src/lib/cli/bundle/debug-for-oclif.ts (see there why). */
function aliasDebugForOclif(root) {
  const shim = join(root, "dist/lib/cli/bundle/debug-for-oclif.js");
  return {
    name: "debug-for-oclif",
    setup(b) {
      b.onResolve({ filter: /^debug$/ }, (args) =>
        /[\\/]@oclif[\\/]core[\\/]/.test(args.importer) ? { path: shim } : undefined,
      );
    },
  };
}

/**
 * node:fs/promises, as @oclif/core's util/fs.js imports it -> src/lib/cli/bundle/fs-promises-for-oclif.ts
 * (see there why).
 */
function aliasFsPromisesForOclif(root) {
  const shim = join(root, "dist/lib/cli/bundle/fs-promises-for-oclif.js");
  return {
    name: "fs-promises-for-oclif",
    setup(b) {
      b.onResolve({ filter: /^node:fs\/promises$/ }, (args) =>
        /[\\/]@oclif[\\/]core[\\/]lib[\\/]util[\\/]fs\.js$/.test(args.importer) ? { path: shim } : undefined,
      );
    },
  };
}

/**
 * Packages on every start-up's path (oclif's platform check: is-wsl and what it imports) whose
 * ES modules import Node built-ins by default import (`import fs from "node:fs"`). esbuild turns
 * each such import into a copy of the built-in's whole namespace, one getter per export (node:fs
 * has ~100): ~175 KB of objects at each start-up, which the young-generation GC then copies.
 * Here their built-in imports resolve to a module whose default export is the built-in itself,
 * which is what Node gives a default import of a built-in. Only default imports are served: a
 * named one fails the build ("No matching export"), so a package that changes is noticed.
 */
export const DEFAULT_IMPORT_BUILTIN_USERS = ["is-docker", "is-inside-container", "is-wsl"];

export function builtinDefaultImports(users = DEFAULT_IMPORT_BUILTIN_USERS) {
  const importer = new RegExp(`[\\\\/]node_modules[\\\\/](${users.join("|")})[\\\\/]`);
  return {
    name: "builtin-default-imports",
    setup(b) {
      b.onResolve({ filter: /^node:[a-z_/]+$/ }, (args) =>
        args.kind === "import-statement" && importer.test(args.importer)
          ? { path: args.path, namespace: "builtin-default" }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: "builtin-default" }, (args) => ({
        contents: `export default require(${JSON.stringify(args.path)});\n`,
        loader: "js",
      }));
    },
  };
}

/** iconv-lite -> src/lib/cli/bundle/iconv-lite-stub.ts (see there why). */
function aliasIconvLite(root) {
  const stub = join(root, "dist/lib/cli/bundle/iconv-lite-stub.js");
  return {
    name: "iconv-lite-stub",
    setup(b) {
      b.onResolve({ filter: /^iconv-lite$/ }, () => ({ path: stub }));
    },
  };
}

/**
 * What `gigareels version` reports about the build (src/lib/version/info.ts): the commit
 * (GIGAREELS_BUILD_COMMIT, else `git rev-parse HEAD`, else null) and the build time
 * (SOURCE_DATE_EPOCH when set, as reproducible builds do; the release sets it to the commit's
 * time, so every target says the same), and which bundle this is.
 */
export function buildStamp(root, kind) {
  let commit = process.env.GIGAREELS_BUILD_COMMIT || null;
  if (!commit) {
    const r = spawnSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" });
    commit = r.status === 0 && /^[0-9a-f]{40}$/.test(r.stdout.trim()) ? r.stdout.trim() : null;
  }
  const epoch = Number.parseInt(process.env.SOURCE_DATE_EPOCH ?? "", 10);
  const date = new Date(Number.isFinite(epoch) ? epoch * 1000 : Date.now())
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");
  return { commit, date, kind };
}

const common = (root) => ({
  bundle: true,
  platform: "node",
  minify: process.env.GIGAREELS_NO_MINIFY !== "1",
  legalComments: "none",
  logLevel: "warning",
  absWorkingDir: root,
  metafile: true,
});

/**
 * One CommonJS file exporting `main(root, argv)`. Dynamic imports (the command map) become
 * lazily initialised modules inside the file, so a command's code runs only when it is used.
 * The first line carries a hash of the rest (`// gigareels-bundle <hash>`), which keys code caches;
 * the rest is the CommonJS module already wrapped as a function expression (BUNDLE_WRAPPER), which
 * the bins compile with vm.Script as it is: wrapping it at run time made V8 copy the whole text
 * (a concatenated string is flattened before compiling), ~4 ms of every start-up here.
 * Beside it, the first stage (launch.cjs, exporting `main(root, argv, loadCli)`) that the bins
 * run first.
 */
async function bundleCjs(root, { kind, outfile, nodeTarget, plugins = [], external }) {
  const { file } = writeEntry(root, kind);
  const options = {
    ...common(root),
    format: "cjs",
    target: nodeTarget,
    external,
    plugins: [
      inlinePackageJson(root),
      aliasIconvLite(root),
      aliasWslUtilsForOclif(root),
      aliasDebugForOclif(root),
      aliasFsPromisesForOclif(root),
      builtinDefaultImports(),
      ...plugins,
    ],
    // import("node:https") and the like become require(): a single executable has no module
    // loader for import(), and the bins compile the bundle with vm.Script.
    supported: { "dynamic-import": false },
    // import.meta.url in our ESM sources: the bundle's own location, worked out when first read
    // (only inside functions: createRequire for keytar and the update check), not at every start.
    define: {
      "import.meta.url": "__gigareelsImportMeta.url",
      __GIGAREELS_BUILD__: JSON.stringify(buildStamp(root, kind === "sea" ? "binary" : "npm")),
      // src/lib/sdk/version.ts: its package.json lookup is relative to its own file, which the
      // bundle moved (and a binary has no package.json).
      __GIGAREELS_VERSION__: JSON.stringify(readJson(join(root, "package.json")).version),
    },
    banner: {
      js: 'var __gigareelsImportMeta={get url(){return require("node:url").pathToFileURL(__filename).href}};',
    },
  };
  const result = await build({
    ...options,
    entryPoints: [file],
    outfile,
    plugins: [...options.plugins, lazyOclifRequires()],
  });
  // The first stage, beside it (launch.cjs): small, so `--version` reads and compiles little.
  const launchFile = join(dirname(outfile), LAUNCH_FILE);
  const launch = await build({ ...options, entryPoints: [writeLaunchEntry(root)], outfile: launchFile });
  const launchCode = readFileSync(launchFile, "utf8");
  if (/require\(["'](?!node:)[^"']+["']\)/.test(launchCode))
    throw new Error(`${launchFile} requires more than Node's built-ins`);
  writeFileSync(launchFile, asciiOnly(launchCode));
  if (kind === "npm")
    copyFileSync(join(root, "scripts/cli-loader.cjs"), join(dirname(outfile), "loader.cjs"));
  const code = `${BUNDLE_WRAPPER}${asciiOnly(readFileSync(outfile, "utf8"))}\n})`;
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 20);
  writeFileSync(outfile, `// gigareels-bundle ${hash}\n${code}`);
  writeFileSync(join(root, GEN_DIR, `${kind}-meta.json`), JSON.stringify(result.metafile));
  writeFileSync(join(root, GEN_DIR, `${kind}-launch-meta.json`), JSON.stringify(launch.metafile));
  return { outfile, launchFile, hash, metafile: result.metafile };
}

/**
 * esbuild leaves some characters outside ASCII as they are (ansis' regular expressions hold a raw
 * U+009B). One such character makes Node decode the whole file as UTF-8 into a two-byte string,
 * slower to read and to hash for the code cache; a \uXXXX escape means the same in a string, a
 * template, a regular expression or an identifier.
 */
export function asciiOnly(code) {
  return code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The npm bin's bundle (dist/bundle/cli.cjs). keytar stays external, loaded from node_modules;
 * so does undici (a dependency, loaded only when a request goes through a proxy,
 * src/lib/net/dispatcher.ts): a third of the bundle's bytes, which every start-up would read.
 */
export function bundleNpm(root) {
  return bundleCjs(root, {
    kind: "npm",
    outfile: join(root, NPM_BUNDLE),
    nodeTarget: "node20",
    // oclif requires typescript only to run .ts sources in development, inside a try.
    external: ["keytar", "typescript", "undici"],
  });
}

/**
 * Packages the binary ships as separate SEA assets (package -> asset file name), loaded only when
 * required (scripts/sea-main.cjs): undici, for proxies only, is a third of the CLI's bytes, which
 * every start-up would otherwise read.
 */
export const SEA_SIDE_BUNDLES = { undici: "undici.cjs" };

/**
 * The single executable's bundle: `keytar` resolves to the loader that dlopens the native module
 * shipped as a SEA asset (src/lib/cli/bundle/keytar-sea.ts); the SEA_SIDE_BUNDLES beside it.
 */
export async function bundleSea(root, outfile) {
  const keytarShim = join(root, "dist/lib/cli/bundle/keytar-sea-module.js");
  const result = await bundleCjs(root, {
    kind: "sea",
    outfile,
    nodeTarget: "node22",
    external: ["typescript", ...Object.keys(SEA_SIDE_BUNDLES)],
    plugins: [
      {
        name: "keytar-from-sea-asset",
        setup(b) {
          b.onResolve({ filter: /^keytar$/ }, () => ({ path: keytarShim }));
        },
      },
    ],
  });
  // Each side bundle: the package alone, as one CommonJS file beside the bundle.
  for (const [name, file] of Object.entries(SEA_SIDE_BUNDLES)) {
    const out = join(dirname(outfile), file);
    await build({
      ...common(root),
      stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: root },
      format: "cjs",
      target: "node22",
      outfile: out,
    });
    writeFileSync(out, asciiOnly(readFileSync(out, "utf8")));
  }
  return result;
}

/** The key the code-cache training uses: syntactically valid, never issued. */
const TRAINING_KEY = `giga_${"0".repeat(28)}test`;

/**
 * What the code-cache training runs, in one process: start-up, help, a command's parse and run
 * (`help help`), and — when the CLI has it — `status --offline`, the one command that is both
 * called in loops and safe to run anywhere (no network, no keychain, a throwaway config folder),
 * twice: with the key of a stored profile (trainCodeCache stores one), as after `login`, and with
 * a key from GIGAREELS_API_KEY, as in CI. Each entry is an argv, or `{ argv, env }` with
 * environment variables set for that run and the ones after it. Last, since a command that fails
 * ends the process.
 */
export function trainArgs(root) {
  const args = [["--version"], ["--help"], ["help", "help"]];
  const { manifest } = collectCli(root);
  if (manifest.commands.status?.flags?.offline)
    args.push(["status", "--offline"], {
      argv: ["status", "--offline"],
      env: { GIGAREELS_API_KEY: TRAINING_KEY },
    });
  return args;
}

/** A training entry's argv (trainArgs). */
export const trainingArgv = (entry) => (Array.isArray(entry) ? entry : entry.argv);

/**
 * Runs the CLI once through `script` (bin/run.cjs, or the binary's main script) with the bundle's
 * training switch, so V8 writes a code cache holding every function start-up compiles. Its
 * config folder holds a stored profile (file store), written with the CLI's own credentials code.
 */
export async function trainCodeCache(
  root,
  { node = process.execPath, script, execArgv = [], env = {}, args = trainArgs(root), out } = {},
) {
  const tmp = mkdtempSync(join(tmpdir(), "gigareels-train-"));
  const target = out ?? join(root, `dist/bundle/cli.${process.version}-${process.arch}.v8cache`);
  // V8 checks a cache against the source's length only: never leave an old one in place.
  rmSync(target, { force: true });
  try {
    const credentials = join(root, "dist/lib/credentials/index.js");
    if (existsSync(credentials)) {
      const { saveCredentials } = await import(pathToFileURL(credentials).href);
      await saveCredentials(
        {
          profile: "default",
          key: TRAINING_KEY,
          baseUrl: "https://gigareels.com",
          keyId: "key_training",
          account: { id: "acct_training", email: "training@example.invalid", name: "Training" },
          createdAt: new Date().toISOString(),
          obtainedBy: "token",
          store: "file",
        },
        { configDir: tmp, store: "file", env: {} },
      );
    }
    const r = spawnSync(node, [...execArgv, script ?? join(root, "bin/run.cjs")], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
      encoding: "utf8",
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        GIGAREELS_CONFIG_DIR: tmp,
        GIGAREELS_CACHE_DIR: tmp,
        XDG_CACHE_HOME: tmp,
        XDG_CONFIG_HOME: tmp,
        XDG_DATA_HOME: tmp,
        NO_COLOR: "1",
        GIGAREELS_CREDENTIAL_STORE: "file",
        GIGAREELS_TRAIN_CODE_CACHE: target,
        GIGAREELS_TRAIN_ARGS: JSON.stringify(args),
        ...env,
      },
    });
    // The status of the last command does not matter (status --offline may well exit 4 here).
    if (r.error || r.signal || !existsSync(target)) {
      throw new Error(`code cache training failed (${r.status}): ${r.stderr}`);
    }
    return target;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
