/**
 * `npm run demo` (scripts/demo.mjs), not in a terminal, as a fresh clone runs it after the build:
 * emulator, browser login through the loopback flow, render --wait --output, the video's path;
 * a valid MP4, exit 0, nothing left of the private config folder, the emulator stopped.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoFullKey, ROOT, runCli, tempConfigDir } from "../helpers/cli.js";

const hasFfprobe = spawnSync("ffprobe", ["-version"]).status === 0;

let work: { dir: string; cleanup: () => void };
beforeAll(() => {
  work = tempConfigDir();
});
afterAll(() => work.cleanup());

/** `node scripts/demo.mjs ARGS`, not in a terminal. */
function runDemo(args: string[]) {
  return runCli(args, {
    command: [process.execPath, join(ROOT, "scripts/demo.mjs")],
    timeoutMs: 110_000,
    // a key in the environment would not reach it anyway: the demo cleans its environment
    env: { GIGAREELS_API_KEY: `giga_${"x".repeat(32)}`, NODE_ENV: undefined },
  });
}

describe("npm run demo", () => {
  it("logs in through the browser flow, renders, downloads a valid MP4 and says where it is", async () => {
    const out = join(work.dir, "demo.mp4");
    const r = await runDemo([out]);
    expect(r.code, r.stderr).toBe(0);
    // the CLI's own results (login, render) come first, on the terminal's stdout
    expect(r.stdout.endsWith(`\nYour video: ${out} (${statSync(out).size} bytes)\n`)).toBe(true);
    const video = readFileSync(out);
    expect(video.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(video.length).toBeGreaterThan(1000);
    // a video that plays: the demo ran ffprobe on it (CI installs ffmpeg)
    if (spawnSync("ffprobe", ["-version"]).status === 0 || process.env.CI) {
      expect(r.stderr).toContain("ffprobe: h264 320x180, 2 s");
    }

    // the real loopback flow, not a pasted key
    expect(r.stderr).toContain("Opening it with $BROWSER");
    expect(r.stderr).toMatch(/Waiting for the browser on http:\/\/127\.0\.0\.1:\d+\/callback/);
    const stored = /stored in (\S+)credentials\.json\./.exec(r.stdout);
    expect(stored, r.stdout).not.toBeNull();
    // the private config folder (key, credentials) is gone; the emulator was stopped
    expect(existsSync(stored![1]!)).toBe(false);
    expect(r.stderr).toMatch(/Render rnd_\w+: done/);
    expect(r.stderr).toContain(`Saved ${out} (`);
    expect(r.stdout).toContain(`\n${out}\n`); // piped: render --wait --output prints the path alone
    const url = /Emulator listening on (\S+)/.exec(r.stderr)![1]!;
    await expect(fetch(url)).rejects.toThrow();
    expectNoFullKey(r.stdout + r.stderr);
  }, 120_000);

  it.skipIf(!hasFfprobe && !process.env.CI)(
    "the README's Set up, top to bottom on a fresh clone, ends with a video ffprobe reads (H.264, a duration)",
    async () => {
      // The README's first command, as it is written there.
      const readme = readFileSync(join(ROOT, "README.md"), "utf8");
      const setUp = readme.slice(readme.indexOf("## Set up"), readme.indexOf("## Contents"));
      expect(setUp).toContain("npm ci && npm run demo");
      // A fresh clone of this commit: no dist/, no oclif build output; its node_modules stands
      // for `npm ci` (the same lock file; CI's own checkout runs the real npm ci).
      const clone = join(work.dir, "clone");
      const git = spawnSync("git", ["clone", "--quiet", "--no-hardlinks", ROOT, clone], { encoding: "utf8" });
      expect(git.status, git.stderr).toBe(0);
      expect(existsSync(join(clone, "dist"))).toBe(false);
      symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"));
      const out = join(work.dir, "fresh.mp4");
      const r = await runCli(["run", "demo", "--", out], {
        command: ["npm"],
        cwd: clone,
        timeoutMs: 170_000,
        env: { NODE_ENV: undefined, npm_config_update_notifier: "false" },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Your video: ${out} (`);
      const probe = spawnSync(
        "ffprobe",
        ["-v", "error", "-show_entries", "stream=codec_type,codec_name:format=duration", "-of", "json", out],
        { encoding: "utf8" },
      );
      expect(probe.status, probe.stderr).toBe(0);
      const info = JSON.parse(probe.stdout) as {
        streams: Array<{ codec_type: string; codec_name: string }>;
        format: { duration: string };
      };
      expect(info.streams).toContainEqual({ codec_type: "video", codec_name: "h264" });
      expect(Number(info.format.duration)).toBeGreaterThan(0);
      expectNoFullKey(r.stdout + r.stderr);
    },
    180_000,
  );

  it("a failing step fails the demo (non-zero exit) and still stops the emulator", async () => {
    const out = join(work.dir, "no-such-folder", "demo.mp4");
    const r = await runDemo([out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("does not exist");
    expect(r.stderr).toContain("Demo failed: gigareels render exited with code 2");
    const url = /Emulator listening on (\S+)/.exec(r.stderr)![1]!;
    await expect(fetch(url)).rejects.toThrow();
  }, 120_000);
});
