import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  browserArgv,
  browserLikelyAvailable,
  openBrowser,
  parseBrowserEnv,
  preferDeviceFlow,
} from "../../src/lib/auth/browser.js";

const dir = mkdtempSync(join(tmpdir(), "gigareels-browser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A BROWSER command that writes its argv (one per line) to a file. */
function recorder(name: string, exitCode = 0): { path: string; out: string } {
  const path = join(dir, name);
  const out = join(dir, `${name}.out`);
  writeFileSync(
    path,
    `#!/usr/bin/env node\nrequire("node:fs").writeFileSync(${JSON.stringify(out)}, process.argv.slice(2).join("\\n"));\nprocess.exit(${exitCode});\n`,
  );
  chmodSync(path, 0o755);
  return { path, out };
}

async function waitForFile(path: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    try {
      return readFileSync(path, "utf8");
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`${path} never appeared`);
}

const URL_WITH_SHELL_CHARS = "http://127.0.0.1:1/oauth/authorize?a=1&b=$(touch /tmp/pwned)&c='x' ;`id`";

describe("BROWSER parsing", () => {
  it("splits commands on colons and words on spaces", () => {
    expect(parseBrowserEnv("firefox:w3m -N")).toEqual([["firefox"], ["w3m", "-N"]]);
    expect(parseBrowserEnv("")).toEqual([]);
    expect(parseBrowserEnv(undefined)).toEqual([]);
  });

  it("appends the URL as one argument, or puts it where %s is", () => {
    expect(browserArgv(["b", "-x"], "u v")).toEqual(["b", "-x", "u v"]);
    expect(browserArgv(["b", "--url=%s", "100%%"], "U")).toEqual(["b", "--url=U", "100%"]);
  });
});

describe("where a browser can run", () => {
  it("prefers the device flow over SSH and on a Linux without a display", () => {
    expect(preferDeviceFlow({ SSH_CONNECTION: "1 2 3 4", DISPLAY: ":0" }, "linux")).toBe(true);
    expect(preferDeviceFlow({ SSH_TTY: "/dev/pts/1" }, "darwin")).toBe(true);
    expect(preferDeviceFlow({}, "linux")).toBe(true);
    expect(preferDeviceFlow({ DISPLAY: ":0" }, "linux")).toBe(false);
    expect(preferDeviceFlow({ WAYLAND_DISPLAY: "wayland-0" }, "linux")).toBe(false);
    expect(preferDeviceFlow({ BROWSER: "lynx" }, "linux")).toBe(false);
    expect(preferDeviceFlow({}, "darwin")).toBe(false);
    expect(browserLikelyAvailable({}, "win32")).toBe(true);
  });
});

describe("openBrowser", () => {
  it("runs BROWSER with the URL as a single argument, with no shell in between", async () => {
    const r = recorder("rec");
    const result = await openBrowser(URL_WITH_SHELL_CHARS, { env: { ...process.env, BROWSER: r.path } });
    expect(result).toEqual({ opened: true, via: "BROWSER" });
    expect(await waitForFile(r.out)).toBe(URL_WITH_SHELL_CHARS);
  });

  it("tries the next BROWSER command when one cannot start", async () => {
    const r = recorder("second");
    const result = await openBrowser("http://x/", {
      env: { ...process.env, BROWSER: `${join(dir, "missing")}:${r.path} --flag %s` },
    });
    expect(result.opened).toBe(true);
    expect(await waitForFile(r.out)).toBe("--flag\nhttp://x/");
  });

  it("says why when no BROWSER command starts, and never falls back to open", async () => {
    let openCalled = false;
    const result = await openBrowser("http://x/", {
      env: { BROWSER: join(dir, "missing") },
      openImpl: async () => {
        openCalled = true;
        throw new Error("unused");
      },
    });
    expect(result.opened).toBe(false);
    expect(result.reason).toContain("ENOENT");
    expect(openCalled).toBe(false);
  });

  it("reports a BROWSER command that exits non-zero", async () => {
    const r = recorder("failing", 3);
    const late = await new Promise<string>((resolve) => {
      void openBrowser("http://x/", { env: { ...process.env, BROWSER: r.path }, onLateFailure: resolve });
    });
    expect(late).toContain("exited with code 3");
  });

  it("uses the open package without BROWSER", async () => {
    const seen: string[] = [];
    const { spawn } = await import("node:child_process");
    const result = await openBrowser("http://x/", {
      env: {},
      openImpl: async (url) => {
        seen.push(url);
        return spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
      },
    });
    expect(result).toEqual({ opened: true, via: "open" });
    expect(seen).toEqual(["http://x/"]);
  });

  it("returns opened=false when open throws", async () => {
    const result = await openBrowser("http://x/", {
      env: {},
      openImpl: async () => {
        throw new Error("no xdg-open");
      },
    });
    expect(result).toEqual({ opened: false, via: "none", reason: "no xdg-open" });
  });
});
