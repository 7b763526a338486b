/**
 * The package version: `__GIGAREELS_VERSION__` where a bundler defined it (the SDK bundles,
 * the single executable), else read from package.json at run time through Node's
 * `process.getBuiltinModule("node:module")` (no top-level node:* import, so the module loads
 * on any runtime; src/ under vitest and dist/ are both three folders below the package root).
 */

/** A bundler may define this (esbuild `define`) where package.json is not on disk (single executable). */
declare const __GIGAREELS_VERSION__: string | undefined;

interface NodeLikeProcess {
  versions?: { node?: string };
  platform?: string;
  arch?: string;
  getBuiltinModule?: (id: string) => unknown;
}

const proc = (): NodeLikeProcess | undefined => (globalThis as { process?: NodeLikeProcess }).process;

function readVersion(): string {
  try {
    const mod = proc()?.getBuiltinModule?.("node:module") as typeof import("node:module") | undefined;
    if (!mod) return "0.0.0";
    // `require("../../../package.json")` as written: the CLI bundles inline it (scripts/bundle.mjs).
    const require = mod.createRequire(import.meta.url);
    const pkg = require("../../../package.json") as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export const SDK_VERSION: string =
  typeof __GIGAREELS_VERSION__ === "string" ? __GIGAREELS_VERSION__ : readVersion();

/** The runtime, for the User-Agent: `node/22.1.0 linux-x64`, or the runtime's own name elsewhere. */
function runtimeToken(): string {
  const p = proc();
  if (p?.versions?.node) return `node/${p.versions.node} ${p.platform}-${p.arch}`;
  const ua = (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent;
  return typeof ua === "string" && ua !== "" ? ua.replace(/[^\x20-\x7e]/g, "").slice(0, 80) : "js";
}

/** `gigareels-sdk/<version> node/<version> <platform>-<arch>`, plus an optional product token. */
export function userAgent(extra?: string): string {
  const base = `gigareels-sdk/${SDK_VERSION} ${runtimeToken()}`;
  return extra ? `${base} ${extra}` : base;
}
