/**
 * The package version, read from package.json at run time (no JSON import assertions:
 * createRequire works the same from src/ under vitest and from dist/ once built, both
 * three folders below the package root).
 */
import { createRequire } from "node:module";

function readVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require("../../../package.json") as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** A bundler may define this (esbuild `define`) where package.json is not on disk (single executable). */
declare const __GIGAREELS_VERSION__: string | undefined;

export const SDK_VERSION: string =
  typeof __GIGAREELS_VERSION__ === "string" ? __GIGAREELS_VERSION__ : readVersion();

/** `gigareels-sdk/<version> node/<version> <platform>-<arch>`, plus an optional product token. */
export function userAgent(extra?: string): string {
  const base = `gigareels-sdk/${SDK_VERSION} node/${process.versions.node} ${process.platform}-${process.arch}`;
  return extra ? `${base} ${extra}` : base;
}
