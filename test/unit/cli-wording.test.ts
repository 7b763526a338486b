/** Issue 17 point 7: sizes in binary units, a render's failure said once, a bad flag value named once, the download bar's speed and time left. */
import { describe, expect, it } from "vitest";
import { withoutParsingPrefix } from "../../src/lib/cli/base-command.js";
import type { FollowEvent } from "../../src/lib/cli/follow.js";
import { SpeedMeter, speedAndEta, spinnerText } from "../../src/lib/cli/progress.js";
import { failureReason, formatBytes } from "../../src/lib/text.js";

describe("formatBytes: binary units, labelled as such", () => {
  it("KiB, MiB, GiB, TiB (powers of 1024)", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(65536)).toBe("64.0 KiB");
    expect(formatBytes(1.5 * 1024 * 1024)).toBe("1.5 MiB");
    expect(formatBytes(2 ** 30)).toBe("1.0 GiB");
    expect(formatBytes(3 * 2 ** 40)).toBe("3.0 TiB");
  });
});

describe("a render's failure, said once", () => {
  it("drops the server's own 'Render failed:' before our 'Render rnd_x failed:'", () => {
    expect(failureReason("Render failed: the video could not be generated")).toBe(
      "the video could not be generated",
    );
    expect(failureReason("failed: out of credits")).toBe("out of credits");
    expect(failureReason("Rendering failed - timeout")).toBe("timeout");
    expect(failureReason("The prompt was refused")).toBe("The prompt was refused");
    expect(failureReason("Render failed")).toBe("Render failed");
  });

  it("the spinner's last line", () => {
    const e: FollowEvent = {
      type: "error",
      time: "t",
      renderId: "rnd_1",
      status: "error",
      message: "Render failed: the character pack is unavailable",
      elapsedMs: 1000,
    };
    const text = spinnerText(e, 0, "rnd_1");
    expect(text).toBe("Render rnd_1 failed: the character pack is unavailable");
    expect(text).not.toMatch(/failed: Render failed/);
  });
});

describe("a bad flag value names its flag once", () => {
  it("without oclif's 'Parsing --flag' before it", () => {
    expect(
      withoutParsingPrefix('Parsing --timeout \n\texpects a duration, not "x"\nSee more help with --help'),
    ).toBe('--timeout expects a duration, not "x"\nSee more help with --help');
    expect(withoutParsingPrefix("Parsing --color \n\t--color expects a colour")).toBe(
      "--color expects a colour",
    );
    expect(withoutParsingPrefix("Nonexistent flag: --x")).toBe("Nonexistent flag: --x");
  });
});

describe("download speed and time left (the terminal's bar)", () => {
  it("SpeedMeter: bytes per second over a moving window; a stall slows it; start over resets", () => {
    let t = 0;
    const m = new SpeedMeter(3_000, () => t);
    m.add(0);
    expect(m.bytesPerSecond()).toBeUndefined();
    for (let i = 1; i <= 10; i++) {
      t += 500;
      m.add(i * 512 * 1024); // 1 MiB/s
    }
    expect(m.bytesPerSecond()).toBeCloseTo(1024 * 1024, -3);
    t += 3_000; // nothing for 3 s
    expect(m.bytesPerSecond()!).toBeLessThan(600 * 1024);
    m.add(100); // a download that starts over
    t += 1_000;
    m.add(100 + 2048);
    expect(m.bytesPerSecond()).toBeCloseTo(2048, 0);
    m.reset();
    expect(m.bytesPerSecond()).toBeUndefined();
  });

  it("speedAndEta: the speed, and the time left when the size is known", () => {
    expect(speedAndEta(0, 10, undefined)).toBe("");
    expect(speedAndEta(1024 * 1024, 11 * 1024 * 1024, 1024 * 1024)).toBe(" · 1.0 MiB/s · 10s left");
    expect(speedAndEta(5000, undefined, 2048)).toBe(" · 2.0 KiB/s");
    expect(speedAndEta(10, 10, 2048)).toBe(" · 2.0 KiB/s");
  });

  it("on the bar, during a download only", () => {
    const download = (phase: "progress" | "done"): FollowEvent => ({
      type: "download",
      time: "t",
      renderId: "r",
      phase,
      path: "/a/v.mp4",
      bytes: 2 * 1024 * 1024,
      total: 8 * 1024 * 1024,
      resumedFrom: 0,
    });
    expect(spinnerText(download("progress"), 0, "r", 2 * 1024 * 1024)).toBe(
      "Downloading v.mp4 [#####---------------] 2.0 MiB of 8.0 MiB (25%) · 2.0 MiB/s · 3s left",
    );
    expect(spinnerText(download("progress"), 0, "r")).toBe(
      "Downloading v.mp4 [#####---------------] 2.0 MiB of 8.0 MiB (25%)",
    );
  });
});
