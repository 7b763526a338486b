/**
 * What `gigareels version` and `--version` report: the version, the commit and date of the build
 * (stamped by scripts/bundle.mjs), how this copy was installed, the platform and the Node version
 * running it (the embedded one, in the standalone binary).
 */
import { existsSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { posix } from "node:path";
import { SDK_VERSION } from "../sdk/version.js";

/** Defined by scripts/bundle.mjs (esbuild `define`); absent when running from tsc output or src/. */
declare const __GIGAREELS_BUILD__:
  | { commit: string | null; date: string; kind: "npm" | "binary" }
  | undefined;

export type InstallMethod = "npm" | "binary" | "homebrew" | "deb" | "source";

export interface VersionInfo {
  version: string;
  /** Full commit hash of the build, or null when it was not built from a git checkout. */
  commit: string | null;
  /** ISO 8601 (UTC) time of the build, or null for an unbundled run. */
  buildDate: string | null;
  installMethod: InstallMethod;
  /** `<os>-<arch>`, as in the release archives' names (linux-x64, darwin-arm64, win-x64). */
  platform: string;
  /** The Node version running the CLI (for the binary: the one inside it). */
  node: string;
}

export interface InstallContext {
  kind?: "npm" | "binary";
  execPath: string;
  /** The script Node was started with (process.argv[1]), for the npm bin. */
  script?: string;
  exists?: (path: string) => boolean;
}

const realpath = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/**
 * binary: the standalone file, unless Homebrew's Cellar holds it (a formula installed it) or
 * it is /usr/bin/gigareels owned by the Debian package; npm: the npm bin's bundle; source:
 * neither (tsc output or a test).
 */
export function detectInstallMethod(ctx: InstallContext): InstallMethod {
  const exists = ctx.exists ?? existsSync;
  if (ctx.kind === "binary") {
    const exe = realpath(ctx.execPath).split("\\").join("/");
    if (/\/Cellar\/gigareels\//.test(exe)) return "homebrew";
    if (exe === "/usr/bin/gigareels" && exists("/var/lib/dpkg/info/gigareels.list")) return "deb";
    return "binary";
  }
  if (ctx.kind === "npm") return "npm";
  return "source";
}

export const platformName = (platform: string = process.platform, arch: string = process.arch) =>
  `${platform === "win32" ? "win" : platform}-${arch}`;

export function versionInfo(): VersionInfo {
  const build = typeof __GIGAREELS_BUILD__ === "object" ? __GIGAREELS_BUILD__ : undefined;
  return {
    version: SDK_VERSION,
    commit: build?.commit ?? null,
    buildDate: build?.date ?? null,
    installMethod: detectInstallMethod({
      kind: build?.kind,
      execPath: process.execPath,
      script: process.argv[1],
    }),
    platform: platformName(),
    node: process.versions.node,
  };
}

const METHOD_LABEL: Record<InstallMethod, string> = {
  npm: "npm",
  binary: "standalone binary",
  homebrew: "Homebrew",
  deb: "Debian package",
  source: "source checkout",
};

/** Two lines: `gigareels 0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-05T01:40:00Z)` and how/where it runs. */
export function formatVersion(info: VersionInfo): string {
  const build = [
    `commit ${info.commit ? info.commit.slice(0, 12) : "unknown"}`,
    `built ${info.buildDate ?? "unknown"}`,
  ].join(", ");
  return `gigareels ${info.version} (${build})\n${METHOD_LABEL[info.installMethod]}, ${info.platform}, Node ${info.node}`;
}

/**
 * The command that upgrades this copy, for the update notice. For the standalone binary, the
 * install script with the folder it runs from when that is not the script's default
 * (`<prefix>/bin/gigareels` -> `--prefix <prefix>`).
 */
export function upgradeCommand(
  method: InstallMethod,
  platform: string = process.platform,
  execPath: string = process.execPath,
  home: string = homedir(),
): string {
  switch (method) {
    case "npm":
      return "npm install --global @gigareels/sdk@latest";
    case "homebrew":
      return "brew upgrade gigareels";
    case "deb":
      return "download the new .deb from the release page and run: sudo apt install ./gigareels_<version>_<arch>.deb";
    case "binary":
      if (platform === "win32") return `irm ${INSTALL_SCRIPT_BASE}/install.ps1 | iex`;
      return `curl -fsSL ${INSTALL_SCRIPT_BASE}/install.sh | sh${prefixArgument(execPath, home)}`;
    default:
      return "git pull && npm run build";
  }
}

/** ` -s -- --prefix DIR`, DIR quoted for sh as src/lib/cli/output.ts's shellQuote does (doctor imports this module and must not import src/lib/cli). */
function prefixArgument(execPath: string, home: string): string {
  const p = posix.dirname(execPath.split("\\").join("/"));
  if (posix.basename(p) !== "bin") return "";
  const prefix = posix.dirname(p);
  if (prefix === posix.join(home, ".local")) return "";
  return ` -s -- --prefix ${/^[\w@%+=:,./-]+$/.test(prefix) ? prefix : `'${prefix.replace(/'/g, "'\\''")}'`}`;
}

/** Where the release's assets are downloaded from (install.sh's default GIGAREELS_DOWNLOAD_BASE). */
export const RELEASES_URL = "https://github.com/gigareels/gigareels-cli/releases";
/** install.sh and install.ps1 are attached to every release; `latest` always has them. */
const INSTALL_SCRIPT_BASE = `${RELEASES_URL}/latest/download`;
