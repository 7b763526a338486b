/**
 * `status --offline` loads neither ky nor keytar (nor the SDK client, nor oclif's debug module and
 * node:tty, nor node:perf_hooks, nor node:fs/promises): checked by recording, inside the CLI process,
 * what was loaded, for the bundled CLI an npm install runs (bin/run.cjs -> dist/bundle/cli.cjs)
 * and for the unbundled compiled output (bin/dev.js -> dist/). Each detector is proven by a
 * positive control (a run that must load ky, and one that must reach keytar), so a detector
 * that stopped working fails the test instead of passing it silently.
 *
 * What "loaded" means, and how it is seen:
 * - The bundle (scripts/bundle.mjs) is one CommonJS file made by esbuild with dynamic import()
 *   turned off: each `import()` becomes a lazily initialised module inside the file, whose
 *   top-level code runs the first time that import() runs. So ky is loaded when ky's top-level
 *   code has run. ky's top level feature-tests the runtime with
 *   `new globalThis.Request("https://empty.invalid", ...)` (ky/distribution/core/constants.js);
 *   a preload wraps globalThis.Request and records that call. It sees the same thing in the
 *   unbundled ES modules, where the ESM loader hooks also list every module URL evaluated.
 * - keytar is external to the npm bundle and, under plain Node, runs only in a helper child
 *   process (src/lib/credentials/keychain.ts); in a single executable it is dlopen()ed. The
 *   preload records every require() of a package, every child process and every dlopen().
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, runCli, tempConfigDir } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const PROBE = String.raw`"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const cp = require("node:child_process");
const { pathToFileURL } = require("node:url");
const out = process.env.GIGAREELS_PROBE_OUT;
const seen = { kyEvaluated: false, required: [], builtins: [], spawned: [], dlopened: [], esm: [] };
const RealRequest = globalThis.Request;
globalThis.Request = new Proxy(RealRequest, {
  construct(target, args, newTarget) {
    if (String(args[0]) === "https://empty.invalid") seen.kyEvaluated = true;
    return Reflect.construct(target, args, newTarget);
  },
});
const load = Module._load;
Module._load = function (request, ...rest) {
  if (!Module.isBuiltin(request)) seen.required.push(request);
  else seen.builtins.push(request.replace(/^node:/, ""));
  return load.call(this, request, ...rest);
};
for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) {
  const original = cp[name];
  cp[name] = function (file, ...rest) {
    seen.spawned.push([String(file), ...(Array.isArray(rest[0]) ? rest[0].map(String) : [])]);
    return original.call(this, file, ...rest);
  };
}
Module.syncBuiltinESMExports();
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  seen.dlopened.push(String(filename));
  return dlopen.call(this, module, filename, ...rest);
};
Module.register(pathToFileURL(process.env.GIGAREELS_PROBE_HOOKS), { data: { out: out + ".esm" } });
process.on("exit", () => {
  try {
    seen.esm = [...new Set(fs.readFileSync(out + ".esm", "utf8").split("\n").filter(Boolean))];
  } catch {}
  fs.writeFileSync(out, JSON.stringify(seen));
});
`;

const HOOKS = `import { appendFileSync } from "node:fs";
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) {
  appendFileSync(out, url + "\\n");
  return next(url, context);
}
`;

interface Seen {
  kyEvaluated: boolean;
  required: string[];
  /** Node built-ins required (without the node: prefix). */
  builtins: string[];
  spawned: string[][];
  dlopened: string[];
  esm: string[];
}

const emulator = useEmulator();
let config: { dir: string; cleanup: () => void };
let probeDir: string;
let runs = 0;

beforeAll(() => {
  for (const f of ["bin/run.cjs", "dist/bundle/cli.cjs", "dist/commands/status.js"]) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }
  config = tempConfigDir();
  probeDir = join(config.dir, "probe");
  mkdirSync(probeDir);
  writeFileSync(join(probeDir, "probe.cjs"), PROBE);
  writeFileSync(join(probeDir, "hooks.mjs"), HOOKS);
  // The active profile keeps its key in the keychain (the item need not exist): online, status
  // must ask the keychain; offline, it must not.
  const profile = {
    baseUrl: emulator().url,
    keyLocation: "keychain",
    keyLast4: "chn1",
    createdAt: new Date().toISOString(),
  };
  writeFileSync(
    join(config.dir, "credentials.json"),
    JSON.stringify({ version: 2, activeProfile: "default", profiles: { default: profile } }),
    { mode: 0o600 },
  );
});
afterAll(() => config?.cleanup());

/** Runs the CLI with the probe preloaded; returns its exit code and what it loaded. */
async function probe(
  entry: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string } & Seen> {
  const out = join(probeDir, `run-${++runs}.json`);
  const r = await runCli(args, {
    command: [process.execPath, "--require", join(probeDir, "probe.cjs"), join(ROOT, entry)],
    env: {
      GIGAREELS_CONFIG_DIR: config.dir,
      GIGAREELS_CACHE_DIR: join(config.dir, "cache"),
      GIGAREELS_PROBE_OUT: out,
      GIGAREELS_PROBE_HOOKS: join(probeDir, "hooks.mjs"),
      ...env,
    },
  });
  if (!existsSync(out)) throw new Error(`the probe wrote nothing (exit ${r.code}): ${r.stderr}`);
  const seen = JSON.parse(readFileSync(out, "utf8")) as Seen;
  rmSync(out, { force: true });
  rmSync(`${out}.esm`, { force: true });
  return { code: r.code, stderr: r.stderr, ...seen };
}

const keytarTouched = (s: Seen) =>
  s.required.some((r) => /(^|[\\/])keytar([\\/]|$)/.test(r)) ||
  s.spawned.length > 0 ||
  s.dlopened.some((f) => /keytar/i.test(f));
const kyInEsm = (s: Seen) => s.esm.some((u) => /\/node_modules\/ky\//.test(u));
const keytarInEsm = (s: Seen) => s.esm.some((u) => /\/node_modules\/keytar\//.test(u));
const ENV_KEY = `giga_${"e".repeat(28)}env1`;

describe("status --offline loads neither ky nor keytar: the bundled CLI (bin/run.cjs)", () => {
  it("with the key in the keychain (per credentials.json): neither", async () => {
    const s = await probe("bin/run.cjs", ["status", "--offline"]);
    expect(s.code).toBe(0);
    expect(s.kyEvaluated).toBe(false);
    expect(keytarTouched(s), JSON.stringify(s.spawned)).toBe(false);
  });

  it("with GIGAREELS_API_KEY, and with --all: neither", async () => {
    for (const [args, env] of [
      [["status", "--offline"], { GIGAREELS_API_KEY: ENV_KEY }],
      [["status", "--offline", "--all", "--json"], {}],
    ] as const) {
      const s = await probe("bin/run.cjs", [...args], env);
      expect(s.code, args.join(" ")).toBe(0);
      expect(s.kyEvaluated, args.join(" ")).toBe(false);
      expect(keytarTouched(s), args.join(" ")).toBe(false);
    }
  });

  it("loads neither node:child_process nor node:readline, slow to load and unused offline", async () => {
    const s = await probe("bin/run.cjs", ["status", "--offline"]);
    expect(s.code).toBe(0);
    // The probe does see built-ins: the loader's own.
    expect(s.builtins).toContain("vm");
    expect(s.builtins).not.toContain("child_process");
    expect(s.builtins).not.toContain("readline");
  });

  it("loads neither node:tty nor node:perf_hooks without DEBUG (oclif's debug output and performance marks)", async () => {
    const s = await probe("bin/run.cjs", ["status", "--offline"]);
    expect(s.code).toBe(0);
    expect(s.builtins).toContain("vm");
    expect(s.builtins).not.toContain("tty");
    expect(s.builtins).not.toContain("perf_hooks");
    expect(s.stderr).not.toMatch(/oclif/);
  });

  it("loads no node:fs/promises (so libuv's thread pool never starts): oclif and the credentials file read synchronously", async () => {
    const s = await probe("bin/run.cjs", ["status", "--offline"]);
    expect(s.code).toBe(0);
    expect(s.builtins).not.toContain("fs/promises");
  });

  it("control: reading GIGAREELS_API_KEY_FILE loads node:fs/promises", async () => {
    const keyFile = join(probeDir, "key.txt");
    writeFileSync(keyFile, `${ENV_KEY}\n`, { mode: 0o600 });
    const s = await probe("bin/run.cjs", ["status", "--offline"], { GIGAREELS_API_KEY_FILE: keyFile });
    expect(s.code).toBe(0);
    expect(s.builtins).toContain("fs/promises");
  });

  it("still applies the user's theme.json (read by oclif through the bundle's node:fs/promises stand-in)", async () => {
    const help = () =>
      runCli(["--help"], {
        env: { GIGAREELS_CONFIG_DIR: config.dir, FORCE_COLOR: "1", NO_COLOR: undefined },
      });
    const plain = await help();
    writeFileSync(join(config.dir, "theme.json"), JSON.stringify({ sectionHeader: "red" }));
    try {
      const themed = await help();
      expect(plain.code).toBe(0);
      expect(themed.code).toBe(0);
      expect(plain.stdout).not.toContain("\u001b[31m");
      expect(themed.stdout).toContain("\u001b[31m");
    } finally {
      rmSync(join(config.dir, "theme.json"), { force: true });
    }
  });

  it("control: with DEBUG=oclif:* oclif's debug output appears (debug, and node:tty with it, loaded)", async () => {
    const s = await probe("bin/run.cjs", ["status", "--offline"], { DEBUG: "oclif:*" });
    expect(s.code).toBe(0);
    expect(s.builtins).toContain("tty");
    expect(s.stderr).toMatch(/oclif:config/);
  });

  it("control: an online check evaluates ky", async () => {
    const s = await probe("bin/run.cjs", ["status"], {
      GIGAREELS_API_KEY: ENV_KEY,
      GIGAREELS_BASE_URL: emulator().url,
    });
    expect(s.code).toBe(4); // the emulator does not know this key
    expect(s.kyEvaluated).toBe(true);
  });

  it("control: without --offline, a keychain profile reaches keytar (its helper process)", async () => {
    const s = await probe("bin/run.cjs", ["status"]);
    expect(keytarTouched(s)).toBe(true);
    expect(s.builtins).toContain("child_process");
    expect(s.spawned.some(([file, flag]) => file === process.execPath && flag === "-e")).toBe(true);
  });
});

describe("status --offline loads neither ky nor keytar: the unbundled output (bin/dev.js -> dist/)", () => {
  it("with the key in the keychain (per credentials.json): neither", async () => {
    const s = await probe("bin/dev.js", ["status", "--offline"]);
    expect(s.code).toBe(0);
    // It ran the compiled modules one by one, not the bundle.
    expect(s.esm.some((u) => u.endsWith("/dist/lib/account/status.js"))).toBe(true);
    // Not even the SDK client (its transport and polling code): only an online check needs it.
    expect(s.esm.some((u) => u.endsWith("/dist/lib/sdk/client.js"))).toBe(false);
    expect(kyInEsm(s)).toBe(false);
    expect(keytarInEsm(s)).toBe(false);
    expect(s.kyEvaluated).toBe(false);
    expect(keytarTouched(s)).toBe(false);
  });

  it("control: an online check imports ky", async () => {
    const s = await probe("bin/dev.js", ["status"], {
      GIGAREELS_API_KEY: ENV_KEY,
      GIGAREELS_BASE_URL: emulator().url,
    });
    expect(s.esm.some((u) => u.endsWith("/dist/lib/sdk/client.js"))).toBe(true);
    expect(kyInEsm(s)).toBe(true);
    expect(s.kyEvaluated).toBe(true);
  });

  it("control: without --offline, a keychain profile reaches keytar", async () => {
    const s = await probe("bin/dev.js", ["status"]);
    expect(keytarTouched(s)).toBe(true);
  });
});
