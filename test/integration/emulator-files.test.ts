/** The emulator's outputFile: a real MP4 with Content-Length, ETag, ranges, If-Range and HEAD. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MIN_MP4_SIZE, Mp4File } from "../../src/lib/emulator/mp4.js";
import { api, SAMPLE_BODIES, useEmulator, waitForRender } from "../helpers/emulator.js";

// CI installs ffmpeg (.ci/run), so there the ffprobe test never skips.
const HAS_FFPROBE = spawnSync("ffprobe", ["-version"], { stdio: "ignore" }).status === 0;
if (!HAS_FFPROBE && process.env.CI)
  throw new Error("CI is set but ffprobe is missing (.ci/run installs ffmpeg)");
if (!HAS_FFPROBE)
  console.warn("[skipped] the ffprobe test of the emulator's video: ffprobe is not installed");

/** What ffprobe says about a file: its duration and its video stream. */
function probe(bytes: Buffer): { duration: number; codec?: string; width?: number; frames?: number } {
  const dir = mkdtempSync(join(tmpdir(), "gigareels-probe-"));
  try {
    const file = join(dir, "video.mp4");
    writeFileSync(file, bytes);
    const r = spawnSync(
      "ffprobe",
      [
        "-v",
        "error",
        "-show_entries",
        "format=duration:stream=codec_type,codec_name,width,nb_frames",
        "-of",
        "json",
        file,
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const info = JSON.parse(r.stdout) as {
      format: { duration: string };
      streams: Array<{ codec_type: string; codec_name: string; width: number; nb_frames: string }>;
    };
    const video = info.streams.find((s) => s.codec_type === "video");
    return {
      duration: Number(info.format.duration),
      codec: video?.codec_name,
      width: video?.width,
      frames: video ? Number(video.nb_frames) : undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SIZE = 200_000;

describe("emulator: output files", () => {
  const emu = useEmulator({ renderDurationMs: 50, outputSizeBytes: SIZE, rateLimits: false });
  let cached: string | undefined;
  async function outputUrl(): Promise<string> {
    if (cached) return cached;
    const { renderId } = (await (
      await api(emu(), "/api/render", { json: SAMPLE_BODIES["/api/render"] })
    ).json()) as { renderId: string };
    const done = await waitForRender(emu(), renderId);
    cached = String(done.outputFile);
    return cached;
  }

  it("serves the whole file with Content-Length, ETag, Accept-Ranges and an MP4 structure", async () => {
    const res = await fetch(await outputUrl());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("content-length")).toBe(String(SIZE));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("etag")).toMatch(/^"[^"]+"$/);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(SIZE);
    // Top-level boxes: ftyp, moov, then a 64-bit mdat that runs to the end of the file.
    const boxes: string[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      let size = bytes.readUInt32BE(pos);
      const type = bytes.subarray(pos + 4, pos + 8).toString("latin1");
      if (size === 1) size = Number(bytes.readBigUInt64BE(pos + 8));
      boxes.push(type);
      expect(size).toBeGreaterThanOrEqual(8);
      pos += size;
    }
    expect(boxes).toEqual(["ftyp", "moov", "mdat"]);
    expect(pos).toBe(SIZE);
    expect(bytes.includes(Buffer.from("mvhd"))).toBe(true);
  });

  it.skipIf(!HAS_FFPROBE)(
    "is a playable clip: ffprobe reads its duration and an H.264 stream, at any size",
    async () => {
      const served = Buffer.from(await (await fetch(await outputUrl())).arrayBuffer());
      // Decoding every frame proves the samples are where moov says (ffmpeg exits non-zero otherwise).
      for (const bytes of [served, new Mp4File(MIN_MP4_SIZE).bytes()]) {
        expect(probe(bytes)).toEqual({ duration: 2, codec: "h264", width: 320, frames: 24 });
      }
      const dir = mkdtempSync(join(tmpdir(), "gigareels-decode-"));
      try {
        writeFileSync(join(dir, "v.mp4"), served);
        const decode = spawnSync(
          "ffmpeg",
          ["-v", "error", "-xerror", "-i", join(dir, "v.mp4"), "-f", "null", "-"],
          {
            encoding: "utf8",
          },
        );
        expect(decode.stderr).toBe("");
        expect(decode.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it("is deterministic: two downloads are byte-identical", async () => {
    const a = Buffer.from(await (await fetch(await outputUrl())).arrayBuffer());
    const b = Buffer.from(await (await fetch(await outputUrl())).arrayBuffer());
    expect(a.equals(b)).toBe(true);
  });

  it("HEAD answers the headers without a body", async () => {
    const res = await fetch(await outputUrl(), { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(SIZE));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it.each([
    ["bytes=0-99", 0, 99],
    ["bytes=100000-", 100_000, SIZE - 1],
    ["bytes=-500", SIZE - 500, SIZE - 1],
    ["bytes=199990-300000", 199_990, SIZE - 1],
  ])("Range %s answers 206 with the matching bytes", async (range, start, end) => {
    const url = await outputUrl();
    const full = Buffer.from(await (await fetch(url)).arrayBuffer());
    const res = await fetch(url, { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${SIZE}`);
    expect(res.headers.get("content-length")).toBe(String(end - start + 1));
    const part = Buffer.from(await res.arrayBuffer());
    expect(part.equals(full.subarray(start, end + 1))).toBe(true);
  });

  it.each(["bytes=200000-", "bytes=500-100", "bytes=-0", "bytes=abc"])(
    "Range %s answers 416",
    async (range) => {
      const res = await fetch(await outputUrl(), { headers: { range } });
      expect(res.status).toBe(416);
      expect(res.headers.get("content-range")).toBe(`bytes */${SIZE}`);
    },
  );

  it("If-Range with the current ETag honours the range; a stale one sends the whole file", async () => {
    const url = await outputUrl();
    const etag = (await fetch(url, { method: "HEAD" })).headers.get("etag")!;
    const same = await fetch(url, { headers: { range: "bytes=0-9", "if-range": etag } });
    expect(same.status).toBe(206);
    expect((await same.arrayBuffer()).byteLength).toBe(10);
    const stale = await fetch(url, { headers: { range: "bytes=0-9", "if-range": '"stale"' } });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(SIZE);
  });

  it("If-Range with a date honours the range only when the file is not newer", async () => {
    const url = await outputUrl();
    const lastModified = (await fetch(url, { method: "HEAD" })).headers.get("last-modified")!;
    const same = await fetch(url, { headers: { range: "bytes=0-9", "if-range": lastModified } });
    expect(same.status).toBe(206);
    const old = await fetch(url, {
      headers: { range: "bytes=0-9", "if-range": "Mon, 01 Jan 2001 00:00:00 GMT" },
    });
    expect(old.status).toBe(200);
    await old.arrayBuffer();
  });

  it("unfinished or unknown renders have no file (404)", async () => {
    expect((await fetch(`${emu().url}/files/rnd_unknown.mp4`)).status).toBe(404);
    emu().setNextRenderOutcome("never");
    const { renderId } = (await (
      await api(emu(), "/api/render", { json: SAMPLE_BODIES["/api/render"] })
    ).json()) as { renderId: string };
    expect((await fetch(`${emu().url}/files/${renderId}.mp4`)).status).toBe(404);
  });

  it("streams a 1 GiB output without holding it in memory", async () => {
    const big = await (await import("../helpers/emulator.js")).startEmulator({
      port: 0,
      renderDurationMs: 0,
      outputSizeBytes: 1024 ** 3,
    });
    try {
      const { renderId } = (await (
        await api(big, "/api/render", { json: SAMPLE_BODIES["/api/render"] })
      ).json()) as { renderId: string };
      const done = await waitForRender(big, renderId);
      const head = await fetch(String(done.outputFile), { method: "HEAD" });
      expect(head.headers.get("content-length")).toBe(String(1024 ** 3));
      const tail = await fetch(String(done.outputFile), { headers: { range: "bytes=-16" } });
      expect(tail.status).toBe(206);
      expect(tail.headers.get("content-range")).toBe(`bytes ${1024 ** 3 - 16}-${1024 ** 3 - 1}/${1024 ** 3}`);
      expect((await tail.arrayBuffer()).byteLength).toBe(16);
      // Read the first 64 MiB of the full download and check the server process did not buffer it.
      const before = process.memoryUsage().rss;
      const res = await fetch(String(done.outputFile));
      const reader = res.body!.getReader();
      let read = 0;
      while (read < 64 * 1024 * 1024) {
        const { value, done: end } = await reader.read();
        if (end) break;
        read += value.byteLength;
      }
      await reader.cancel();
      expect(read).toBeGreaterThanOrEqual(64 * 1024 * 1024);
      expect(process.memoryUsage().rss - before).toBeLessThan(512 * 1024 * 1024);
    } finally {
      await big.stop();
    }
  });
});
