/**
 * What the runtime tests install, once per run, into the gitignored `.cache/runtimes/`:
 * - `installedConsumer()`: the package as a user gets it — `npm pack` of the built tree, then
 *   `npm install <tarball>` into a fresh project (keyed by a hash of what the package exports, so a
 *   rebuild gets a new one). It lives in the system's temporary folder, not under the repo, so
 *   nothing resolves from the repo's node_modules (no @types/node, no second copy of the SDK).
 * - `ensureRuntime(name)`: a runtime from npm at the version pinned in RUNTIMES (one folder per
 *   package and version, reused across runs).
 * Test files run in parallel forks: a folder lock (mkdir) makes the second one wait for the first.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { ROOT } from "../helpers/cli.js";

export const CACHE = join(ROOT, ".cache/runtimes");
const CONSUMERS = tmpdir();

const nodePackage = `node-${process.platform}-${process.arch}`;

/** Pinned versions (`npm view <pkg> version`, December 2026). */
export const RUNTIMES = {
  node22: { pkg: nodePackage, version: "22.23.5", bin: `node_modules/${nodePackage}/bin/node` },
  node24: { pkg: nodePackage, version: "24.22.3", bin: `node_modules/${nodePackage}/bin/node` },
  bun: { pkg: "bun", version: "1.4.5", bin: "node_modules/.bin/bun" },
  deno: { pkg: "deno", version: "2.9.6", bin: "node_modules/.bin/deno" },
  miniflare: { pkg: "miniflare", version: "4.20260730.0", bin: "node_modules/miniflare" },
  edge: { pkg: "@edge-runtime/vm", version: "5.0.0", bin: "node_modules/@edge-runtime/vm" },
} as const;
export type RuntimeName = keyof typeof RUNTIMES;

/** Node's official binaries are on npm only for these (the `node-<os>-<arch>` packages). */
export const NODE_PACKAGE_PLATFORMS = ["linux-x64", "linux-arm64", "darwin-x64", "win-x64"];

function npmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("VITEST")) delete env[k];
  return env;
}

function npm(args: string[], cwd: string): void {
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    env: npmEnv(),
    stdio: ["ignore", "ignore", "pipe"],
    shell: process.platform === "win32",
    timeout: 240_000,
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` holding `<dir>.lock` (a folder: mkdir is atomic). A lock older than 5 min is stale. */
async function withLock<T>(dir: string, fn: () => T): Promise<T> {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(dir), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      await sleep(250);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The runtime's folder, installed if missing; its entry (binary or package folder) is `bin`. */
export async function ensureRuntime(name: RuntimeName): Promise<{ dir: string; bin: string }> {
  const r = RUNTIMES[name];
  const dir = join(CACHE, `${r.pkg.replace("/", "+")}@${r.version}`);
  const done = join(dir, ".installed");
  if (!existsSync(done)) {
    await withLock(dir, () => {
      if (existsSync(done)) return;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "package.json"), '{ "private": true }\n');
      npm(["install", "--no-package-lock", `${r.pkg}@${r.version}`], dir);
      writeFileSync(done, "");
    });
  }
  return { dir, bin: join(dir, r.bin) };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** What consumers of the SDK get: package.json, dist/sdk and the declarations. */
function exportedHash(): string {
  const h = createHash("sha256");
  const files = [
    join(ROOT, "package.json"),
    ...filesUnder(join(ROOT, "dist/sdk")),
    ...filesUnder(join(ROOT, "dist/types-cjs")),
    ...filesUnder(join(ROOT, "dist"))
      .filter((f) => f.endsWith(".d.ts"))
      .filter((f) => !f.includes("types-cjs")),
  ];
  for (const f of files) h.update(relative(ROOT, f)).update("\0").update(readFileSync(f)).update("\0");
  return h.digest("hex").slice(0, 16);
}

/**
 * A project with the packed package installed from its tarball (`npm install <tgz>`, optional
 * dependencies left out: keytar would build from source). Returns the project folder.
 */
export async function installedConsumer(): Promise<string> {
  if (!existsSync(join(ROOT, "dist/sdk/index.cjs"))) throw new Error("run `npm run build` first");
  const dir = join(CONSUMERS, `gigareels-consumer-${exportedHash()}`);
  const done = join(dir, ".installed");
  if (existsSync(done)) return dir;
  await withLock(dir, () => {
    if (existsSync(done)) return;
    // Older ones (other builds; never one a parallel run may be using).
    for (const old of readdirSync(CONSUMERS)) {
      const p = join(CONSUMERS, old);
      if (old.startsWith("gigareels-consumer-") && !old.endsWith(".lock") && p !== dir) {
        try {
          if (Date.now() - statSync(p).mtimeMs > 2 * 3600_000) rmSync(p, { recursive: true, force: true });
        } catch {}
      }
    }
    const packDir = mkdtempSync(join(tmpdir(), "gigareels-pack-"));
    try {
      const out = execFileSync(
        "npm",
        ["pack", "--ignore-scripts", "--silent", "--pack-destination", packDir],
        {
          cwd: ROOT,
          env: npmEnv(),
          encoding: "utf8",
          shell: process.platform === "win32",
        },
      );
      const tgz = join(packDir, out.trim().split("\n").at(-1) as string);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "package.json"), '{ "name": "consumer", "private": true }\n');
      npm(["install", "--no-package-lock", "--omit=optional", "--prefer-offline", tgz], dir);
      writeFileSync(done, "");
    } finally {
      rmSync(packDir, { recursive: true, force: true });
    }
  });
  return dir;
}
