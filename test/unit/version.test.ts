/**
 * `gigareels version`, `--version` and `-v` (issue 18, issue 17's `-v`): version, the commit and
 * date stamped at build time, the install method, platform and Node; and the update notice's
 * pure parts (when it shows, what it says, how versions compare).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { compareVersions, decide, inCI, notifierEnabled } from "../../src/lib/update/notifier.js";
import { detectInstallMethod, formatVersion, upgradeCommand } from "../../src/lib/version/info.js";
import { ROOT, runCli } from "../helpers/cli.js";

const pkg = JSON.parse(
  execFileSync("git", ["show", "HEAD:package.json"], { cwd: ROOT, encoding: "utf8" }),
) as {
  version: string;
};

describe("gigareels version", () => {
  it("--json has the version, the build's commit and date, install method, platform and Node", async () => {
    const r = await runCli(["version", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(Object.keys(info).sort()).toEqual(
      ["buildDate", "commit", "installMethod", "node", "platform", "version"].sort(),
    );
    expect(info.version).toBe(pkg.version);
    // The commit the bundle was built from: a full hash (the build ran in this checkout).
    expect(info.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(info.buildDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(info.installMethod).toBe("npm");
    expect(info.platform).toBe(`${process.platform === "win32" ? "win" : process.platform}-${process.arch}`);
    expect(info.node).toBe(process.versions.node);
    expect(r.stderr).toBe("");
  });

  it("--version and -v print what `version` prints", async () => {
    const v = await runCli(["version"]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(
      new RegExp(
        `^gigareels ${pkg.version.replace(/\./g, "\\.")} \\(commit [0-9a-f]{12}, built \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\)\\nnpm, ${process.platform}-${process.arch}, Node ${process.versions.node}\\n$`,
      ),
    );
    for (const flag of ["--version", "-v"]) {
      const r = await runCli([flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(v.stdout);
      expect(r.stderr).toBe("");
    }
  });
});

describe("--version start-up", () => {
  it("--version and -v are answered by the first stage, without compiling the CLI bundle (oclif)", async () => {
    // GIGAREELS_DEBUG_CODE_CACHE makes the loader say when it compiles dist/bundle/cli.cjs.
    const env = { GIGAREELS_DEBUG_CODE_CACHE: "1" };
    const version = await runCli(["version"], { env });
    expect(version.code, version.stderr).toBe(0);
    // Control: a command compiles the bundle, and says so.
    expect(version.stderr).toMatch(/^code cache: (accepted|rejected|none)\n$/);
    for (const flag of ["--version", "-v"]) {
      const r = await runCli([flag], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(version.stdout);
      expect(r.stderr).toBe("");
    }
  });
});

describe("install method", () => {
  const none = () => false;
  it("tells npm, a standalone binary, Homebrew's Cellar and the Debian package apart", () => {
    expect(detectInstallMethod({ kind: "npm", execPath: "/usr/bin/node" })).toBe("npm");
    expect(
      detectInstallMethod({ kind: "binary", execPath: "/home/u/.local/bin/gigareels", exists: none }),
    ).toBe("binary");
    expect(
      detectInstallMethod({ kind: "binary", execPath: "/opt/homebrew/Cellar/gigareels/0.2.0/bin/gigareels" }),
    ).toBe("homebrew");
    expect(
      detectInstallMethod({
        kind: "binary",
        execPath: "/usr/bin/gigareels",
        exists: (p) => p === "/var/lib/dpkg/info/gigareels.list",
      }),
    ).toBe("deb");
    expect(detectInstallMethod({ kind: "binary", execPath: "/usr/bin/gigareels", exists: none })).toBe(
      "binary",
    );
    expect(detectInstallMethod({ execPath: "/usr/bin/node" })).toBe("source");
  });

  it("names the upgrade command of each install method", () => {
    expect(upgradeCommand("npm")).toBe("npm install --global @gigareels/sdk@latest");
    expect(upgradeCommand("homebrew")).toBe("brew upgrade gigareels");
    expect(upgradeCommand("binary", "linux", "/home/u/.local/bin/gigareels", "/home/u")).toMatch(
      /^curl -fsSL https:\/\/\S+\/install\.sh \| sh$/,
    );
    // Installed with --prefix elsewhere: the same folder again.
    expect(upgradeCommand("binary", "linux", "/opt/tools/bin/gigareels", "/home/u")).toMatch(
      /^curl -fsSL https:\/\/\S+\/install\.sh \| sh -s -- --prefix \/opt\/tools$/,
    );
    expect(upgradeCommand("binary", "darwin", "/Users/a b/bin/gigareels", "/Users/a")).toMatch(
      / \| sh -s -- --prefix '\/Users\/a b'$/,
    );
    expect(upgradeCommand("binary", "win32")).toMatch(/^irm https:\/\/\S+\/install\.ps1 \| iex$/);
    expect(upgradeCommand("deb")).toContain("sudo apt install ./gigareels_");
  });

  it("formats an unstamped build honestly", () => {
    expect(
      formatVersion({
        version: "1.2.3",
        commit: null,
        buildDate: null,
        installMethod: "source",
        platform: "linux-x64",
        node: "24.19.0",
      }),
    ).toBe("gigareels 1.2.3 (commit unknown, built unknown)\nsource checkout, linux-x64, Node 24.19.0");
  });
});

describe("update notice: when", () => {
  const tty = { env: {}, argv: ["status"], stdoutIsTTY: true, stderrIsTTY: true };
  it("only for a person at a terminal: not piped, not in CI, not with --json or the opt-out", () => {
    expect(notifierEnabled(tty)).toBe(true);
    expect(notifierEnabled({ ...tty, stdoutIsTTY: false })).toBe(false);
    expect(notifierEnabled({ ...tty, stderrIsTTY: false })).toBe(false);
    expect(notifierEnabled({ ...tty, env: { CI: "true" } })).toBe(false);
    expect(notifierEnabled({ ...tty, env: { GITHUB_ACTIONS: "true" } })).toBe(false);
    expect(notifierEnabled({ ...tty, env: { CI: "0" } })).toBe(true);
    expect(notifierEnabled({ ...tty, argv: ["status", "--json"] })).toBe(false);
    expect(notifierEnabled({ ...tty, env: { GIGAREELS_CONTENT_TYPE: "json" } })).toBe(false);
    expect(notifierEnabled({ ...tty, env: { GIGAREELS_NO_UPDATE_NOTIFIER: "1" } })).toBe(false);
    expect(inCI({ BUILD_NUMBER: "12" })).toBe(true);
  });

  it("checks at most once a day and notices at most once a day", () => {
    const day = 24 * 3600_000;
    const t = 1_800_000_000_000;
    expect(decide({}, "1.0.0", "npm", t)).toEqual({
      notice: undefined,
      state: { checkedAt: t },
      check: true,
    });
    expect(decide({ checkedAt: t - 1000, latest: "1.0.0" }, "1.0.0", "npm", t)).toEqual({
      notice: undefined,
      state: undefined,
      check: false,
    });
    const shown = decide({ checkedAt: t - 1000, latest: "1.1.0" }, "1.0.0", "homebrew", t);
    expect(shown.check).toBe(false);
    expect(shown.notice).toBe(
      "A new release of gigareels is available: 1.0.0 → 1.1.0\nTo upgrade: brew upgrade gigareels",
    );
    expect(shown.state?.notifiedAt).toBe(t);
    expect(
      decide({ checkedAt: t - 1000, latest: "1.1.0", notifiedAt: t - 1000 }, "1.0.0", "npm", t).notice,
    ).toBe(undefined);
    const nextDay = decide({ checkedAt: t - day, latest: "1.1.0", notifiedAt: t - day }, "1.0.0", "npm", t);
    expect(nextDay.check).toBe(true);
    expect(nextDay.notice).toContain("npm install --global @gigareels/sdk@latest");
  });

  it("compares versions numerically, a pre-release before its release", () => {
    expect(compareVersions("0.10.0", "0.9.9")).toBeGreaterThan(0);
    expect(compareVersions("1.0.0", "1.0.0")).toBe(0);
    expect(compareVersions("1.0.0-rc.1", "1.0.0")).toBeLessThan(0);
    expect(compareVersions("v2.0.0", "1.99.0")).toBeGreaterThan(0);
  });
});
