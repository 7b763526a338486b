/**
 * A download onto a full disk (a 2 MiB tmpfs; the video is 4 MiB) and onto a read-only one,
 * with the built CLI: what is on disk is kept, the message says so with the exact resume
 * command, exit 1 (a local failure, not 5); after making room the resume command finishes
 * from the bytes kept. Mounting needs root: the test skips with the reason where mount is
 * refused, except in CI (which runs as root), where that is a failure.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, SAMPLE_BODIES, waitForRender } from "../helpers/emulator.js";
import { ndjson, useRenderCli } from "../helpers/render-cli.js";

const SIZE = 4 * 1024 * 1024 + 99;
const { emulator, key, cli } = useRenderCli({ renderDurationMs: 100, outputSizeBytes: SIZE });

let dir = "";
let refused = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gr-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    refused = String((err as { stderr?: Buffer }).stderr ?? err).trim();
    if (process.env.CI) throw new Error(`CI runs as root and must mount a tmpfs: ${refused}`);
  }
});
afterAll(() => {
  if (!refused) execFileSync("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
});

describe("local write errors while downloading", () => {
  it("disk full: the bytes written are kept and the message says so with the resume command (exit 1); the resume finishes", async (ctx) => {
    if (refused) return ctx.skip(`cannot mount a small tmpfs here (needs root): ${refused}`);
    const res = await api(emulator(), "/api/render", { json: SAMPLE_BODIES["/api/render"], key: key() });
    const { renderId: id } = (await res.json()) as { renderId: string };
    const { outputFile } = await waitForRender(emulator(), id, key());
    const source = Buffer.from(await (await fetch(outputFile as string)).arrayBuffer());
    const out = join(dir, "v.mp4");
    const part = `${out}.part`;

    const full = await cli(["watch", id, "--output", out]);
    expect(full.code, full.stderr).toBe(1);
    const kept = statSync(part).size;
    expect(kept).toBeGreaterThan(1024 * 1024);
    expect(kept).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(readFileSync(part).equals(source.subarray(0, kept))).toBe(true);
    const resume = `gigareels watch ${id} --output ${out} --base-url ${emulator().url}`;
    const errorLine = full.stderr.split("\n").find((l) => l.startsWith("Error:"));
    expect(errorLine).toMatch(
      new RegExp(
        `^Error: Cannot write ${part}: the disk is full \\(ENOSPC\\); the [0-9.]+ MiB downloaded so far are kept in ${part}\\. Resume with: ${resume.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\. Free some space on that disk`,
      ),
    );
    expect(full.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(existsSync(out)).toBe(false);

    // a read-only file system: the same truth, exit 1, the .part untouched
    execFileSync("mount", ["-o", "remount,ro", dir]);
    const ro = await cli(["watch", id, "--output", out, "--json"]);
    expect(ro.code, ro.stderr).toBe(1);
    expect(ndjson(ro.stdout).at(-1)).toMatchObject({ error: { code: "download_write_failed" } });
    expect(ro.stderr + ro.stdout).toContain("the file system is read-only (EROFS)");
    expect(statSync(part).size).toBe(kept);

    // room again: the printed command resumes from the bytes kept
    execFileSync("mount", ["-o", "remount,rw,size=16m", dir]);
    const before = emulator().requests.length;
    const again = await cli(resume.split(" ").slice(1, -2));
    expect(again.code, again.stderr).toBe(0);
    const ranged = emulator()
      .requests.slice(before)
      .filter((q) => q.path === `/files/${id}.mp4`);
    expect(ranged.map((q) => [q.status, q.headers.range])).toEqual([[206, `bytes=${kept}-`]]);
    expect(readFileSync(out).equals(source)).toBe(true);
    expect(existsSync(part)).toBe(false);
  }, 90_000);
});
