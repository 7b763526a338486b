/** Flags -> request bodies for the render commands, and their checks (pure). */
import { describe, expect, it } from "vitest";
import {
  bodySubmission,
  checkIdempotencyKey,
  parseTextOverlay,
  splitSubmission,
  templateSubmission,
  textSubmission,
} from "../../src/lib/cli/render-request.js";
import { Readable } from "node:stream";

describe("render request bodies", () => {
  it("parseTextOverlay: the text is everything before the last @", () => {
    expect(parseTextOverlay("Hello@50,100")).toEqual({ text: "Hello", position: { x: 50, y: 100 } });
    expect(parseTextOverlay("a@b.c says hi@ 0 , 12.5")).toEqual({
      text: "a@b.c says hi",
      position: { x: 0, y: 12.5 },
    });
    expect(parseTextOverlay("left@-10,5").position).toEqual({ x: -10, y: 5 });
    for (const bad of ["Hello", "@1,2", "Hi@1", "Hi@1,2,3", "Hi@x,2", "Hi@1e3,2"])
      expect(() => parseTextOverlay(bad), bad).toThrow(/--text expects TEXT@X,Y/);
  });

  it("the template: defaults for educational-brainrot only", () => {
    expect(templateSubmission({ prompt: "  p  " }).body).toEqual({
      type: "educational-brainrot",
      prompt: "p",
      characterPack: "rick-and-morty",
      backgroundVideoPack: "minecraft-parkour",
    });
    expect(templateSubmission({ prompt: "p", type: "other-type" }).body).toEqual({
      type: "other-type",
      prompt: "p",
    });
    expect(() => templateSubmission({ prompt: " " })).toThrow(/A prompt is required/);
  });

  it("text: the style only when a style flag is given; colour upper-cased", () => {
    expect(textSubmission({ videoUrl: "https://e.com/v.mp4", texts: ["a@1,2"] }).body).toEqual({
      videoUrl: "https://e.com/v.mp4",
      textOverlays: [{ text: "a", position: { x: 1, y: 2 } }],
    });
    expect(
      textSubmission({ videoUrl: "http://e.com/v", texts: ["a@1,2"], fontSize: "12.5", color: "#a0b0c0" })
        .body.textStyle,
    ).toEqual({ fontSize: 12.5, color: "#A0B0C0" });
    expect(() => textSubmission({ videoUrl: "https://e.com/v", texts: ["a@1,2"], fontFamily: " " })).toThrow(
      "--font-family must not be empty",
    );
  });

  it("split: positions and fits are case-insensitive enums", () => {
    expect(
      splitSubmission({ videoUrl: "https://e.com/v", position: "LEFT", objectFit: "Cover" }).body,
    ).toEqual({
      videoUrl: "https://e.com/v",
      position: "left",
      objectFit: "cover",
    });
    expect(() => splitSubmission({ videoUrl: "https://e.com/v", position: "" })).toThrow(
      "--position is required",
    );
    expect(() => splitSubmission({ videoUrl: "mailto:x@y.z", position: "left" })).toThrow(
      /--video-url expects/,
    );
  });

  it("--body -: any JSON object from stdin, as it is", async () => {
    const s = await bodySubmission(
      "/api/render/split",
      "-",
      Readable.from([Buffer.from('{"a":'), Buffer.from("[1]}")]),
    );
    expect(s).toEqual({ endpoint: "/api/render/split", body: { a: [1] } });
    await expect(bodySubmission("/api/render", "-", Readable.from(["null"]))).rejects.toThrow(
      "--body: stdin must hold a JSON object",
    );
  });

  it("--idempotency-key: 1-255 printable ASCII characters, inner spaces allowed", () => {
    expect(checkIdempotencyKey(undefined)).toBeUndefined();
    expect(checkIdempotencyKey("ci run 42")).toBe("ci run 42");
    expect(checkIdempotencyKey("k".repeat(255))).toBe("k".repeat(255));
    for (const bad of ["", " k", "k ", "k".repeat(256), "clé", "a\nb"])
      expect(() => checkIdempotencyKey(bad), JSON.stringify(bad)).toThrow(/--idempotency-key must be/);
  });
});
