import { describe, expect, it } from "vitest";
import { parseContentRange } from "../../src/lib/sdk/download/stream.js";
import { defaultFileName } from "../../src/lib/sdk/download/client.js";
import { DownloadError, GigaReelsError } from "../../src/index.js";

describe("download helpers", () => {
  it("reads Content-Range", () => {
    expect(parseContentRange("bytes 100-199/1000")).toEqual({ start: 100, end: 199, total: 1000 });
    expect(parseContentRange("bytes 0-9/*")).toEqual({ start: 0, end: 9, total: null });
    expect(parseContentRange("bytes */1000")).toEqual({ unsatisfied: true, total: 1000 });
    expect(parseContentRange("items 0-9/10")).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });

  it("names the file after the render, else after the URL, never with path tricks", () => {
    expect(defaultFileName("rnd_abc", "https://cdn.example/x/y.mp4?sig=1")).toBe("rnd_abc.mp4");
    expect(defaultFileName("../etc/passwd", "https://x")).toBe("_etc_passwd.mp4");
    expect(defaultFileName(undefined, "https://cdn.example/videos/final%20cut.mp4?sig=secret")).toBe(
      "final_cut.mp4",
    );
    expect(defaultFileName(undefined, "https://cdn.example/videos/clip")).toBe("clip.mp4");
    expect(defaultFileName(undefined, "https://cdn.example/")).toBe("video.mp4");
    expect(defaultFileName(undefined, "https://cdn.example/..")).toBe("video.mp4");
  });

  it("DownloadError belongs to the SDK's one error hierarchy, and its message never holds a key", () => {
    const key = `giga_${"a1B2".repeat(8)}`;
    const err = new DownloadError(
      "download_failed",
      `Download of https://cdn.example/v.mp4?k=${key} failed`,
      ["Try again later"],
    );
    expect(err).toBeInstanceOf(GigaReelsError);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.name).toBe("DownloadError");
    expect(err.code).toBe("download_failed");
    expect(err.suggestions).toEqual(["Try again later"]);
    expect(err.message).not.toContain(key);
    expect(err.message).toContain("giga_****a1B2");
  });
});
