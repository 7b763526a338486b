/** What `watch` and `render --wait` show: events from the SDK's, log lines, spinner text, NDJSON (pure). */
import { describe, expect, it } from "vitest";
import { type FollowEvent, fromWaitEvent, resumeCommand } from "../../src/lib/cli/follow.js";
import {
  HEARTBEAT_MS,
  jsonPresenter,
  linePresenter,
  presenterKind,
  spinnerText,
  statusPhrase,
} from "../../src/lib/cli/progress.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const status = (elapsedMs: number, s: string, progress?: number): FollowEvent =>
  fromWaitEvent(
    { type: "status", renderId: "rnd_1", status: s, progress, elapsedMs, waitMs: 1000 },
    T0,
    T0 + elapsedMs,
  );

describe("follow events", () => {
  it("fromWaitEvent: type first, elapsed from the submission, next poll, ISO time", () => {
    const e = fromWaitEvent(
      {
        type: "status",
        renderId: "rnd_1",
        status: "rendering",
        progress: 40,
        changed: true,
        elapsedMs: 1,
        waitMs: 2500,
      },
      T0 - 3000,
      T0,
    );
    expect(Object.keys(e)[0]).toBe("type");
    expect(e).toEqual({
      type: "status",
      time: "2026-01-01T00:00:00.000Z",
      renderId: "rnd_1",
      elapsedMs: 3000,
      status: "rendering",
      progress: 40,
      changed: true,
      nextPollMs: 2500,
    });
    expect(
      fromWaitEvent(
        {
          type: "retry",
          renderId: "r",
          elapsedMs: 0,
          reason: "server_error",
          message: "502 Bad gateway",
          attempt: 2,
          outageMs: 900,
          waitMs: 700,
        },
        T0,
        T0,
      ),
    ).toMatchObject({ type: "retry", reason: "server_error", attempt: 2, outageMs: 900, waitMs: 700 });
  });

  it("resumeCommand: the flags needed to find the render again, quoted for a shell", () => {
    expect(resumeCommand("rnd_1", {})).toBe("gigareels watch rnd_1");
    expect(resumeCommand("rnd_1", { output: "/tmp/my video.mp4", profile: "ci", local: true })).toBe(
      "gigareels watch rnd_1 --output '/tmp/my video.mp4' --profile ci --local",
    );
    expect(resumeCommand("rnd_1", { "base-url": "http://127.0.0.1:4010", local: false })).toBe(
      "gigareels watch rnd_1 --base-url http://127.0.0.1:4010",
    );
  });
});

describe("log lines (not a terminal)", () => {
  it("one line per change of status word or tenth of progress; one heartbeat a minute at most", () => {
    const lines: string[] = [];
    let now = T0;
    const p = linePresenter(
      (l) => lines.push(l),
      () => now,
    );
    p.event(status(1000, "queued", 0));
    p.event(status(2000, "queued", 0));
    p.event(status(3000, "rendering", 3));
    p.event(status(4000, "rendering", 7));
    p.event(status(5000, "rendering", 12));
    expect(lines).toEqual([
      "Render rnd_1: queued (1s)",
      "Render rnd_1: rendering 3% (3s)",
      "Render rnd_1: rendering 12% (5s)",
    ]);
    // nothing changes for a while: a heartbeat after a minute without a line, not before
    now += HEARTBEAT_MS - 1;
    p.event(status(65_000, "rendering", 13));
    expect(lines).toHaveLength(3);
    now += 1;
    p.event(status(66_000, "rendering", 13));
    now += 10_000;
    p.event(status(76_000, "rendering", 14));
    expect(lines.slice(3)).toEqual(["Render rnd_1: still rendering 13% (1m06s)"]);
  });

  it("a rate-limit wait once, each retry, done; the error is left to the error line", () => {
    const lines: string[] = [];
    const p = linePresenter(
      (l) => lines.push(l),
      () => T0,
    );
    const base = { time: "t", renderId: "rnd_1", elapsedMs: 1000 };
    p.event({ ...base, type: "throttled", waitMs: 30_000, reason: "retry-after", message: "m" });
    p.event({ ...base, type: "throttled", waitMs: 29_000, reason: "retry-after", message: "m" });
    p.event({
      ...base,
      type: "retry",
      reason: "server_error",
      message: "503 Down",
      attempt: 1,
      outageMs: 0,
      waitMs: 2000,
    });
    p.event({ ...base, type: "done", status: "done", elapsedMs: 65_000 });
    p.event({ ...base, type: "error", status: "error", message: "boom" });
    expect(lines).toEqual([
      "Render rnd_1: rate limited; next check in 30s",
      "Render rnd_1: no usable answer (503 Down); retrying in 2s (attempt 1)",
      "Render rnd_1: done (1m05s)",
    ]);
  });

  it("downloads: a line at the start and at each quarter", () => {
    const lines: string[] = [];
    const p = linePresenter(
      (l) => lines.push(l),
      () => T0,
    );
    const dl = (phase: "start" | "progress" | "done", bytes: number) =>
      p.event({
        type: "download",
        time: "t",
        renderId: "r",
        phase,
        path: "/v.mp4",
        bytes,
        total: 4096,
        resumedFrom: 0,
      });
    dl("start", 0);
    for (let b = 512; b <= 4096; b += 512) dl("progress", b);
    dl("done", 4096);
    expect(lines).toEqual([
      "Downloading to /v.mp4",
      "Downloading to /v.mp4: 1.0 KiB of 4.0 KiB (25%)",
      "Downloading to /v.mp4: 2.0 KiB of 4.0 KiB (50%)",
      "Downloading to /v.mp4: 3.0 KiB of 4.0 KiB (75%)",
    ]);
  });
});

describe("spinner text (a terminal)", () => {
  it("elapsed time moves and a rate-limit wait counts down between events", () => {
    const e: FollowEvent = {
      type: "throttled",
      time: "t",
      renderId: "rnd_1",
      status: "rendering",
      progress: 45,
      elapsedMs: 12_000,
      waitMs: 30_000,
      reason: "retry-after",
      message: "m",
    };
    expect(spinnerText(e, 0, "rnd_1")).toBe(
      "Render rnd_1: rendering 45% · 12s · rate limited, next check in 30s",
    );
    expect(spinnerText(e, 3_000, "rnd_1")).toBe(
      "Render rnd_1: rendering 45% · 15s · rate limited, next check in 27s",
    );
    expect(spinnerText(e, 40_000, "rnd_1")).toContain("next check in 0s");
    expect(spinnerText(undefined, 0, "rnd_1")).toBe("Render rnd_1: waiting for the first answer");
    expect(
      spinnerText(
        {
          type: "download",
          time: "t",
          renderId: "r",
          phase: "progress",
          path: "/a/v.mp4",
          bytes: 512,
          total: 1024,
          resumedFrom: 0,
        },
        0,
        "r",
      ),
    ).toBe("Downloading v.mp4 [##########----------] 512 B of 1.0 KiB (50%)");
  });

  it("statusPhrase: progress for running renders only", () => {
    expect(statusPhrase("queued", 0)).toBe("queued");
    expect(statusPhrase("rendering", 45.7)).toBe("rendering 45%");
    expect(statusPhrase("warming-up", undefined)).toBe("warming-up");
    expect(statusPhrase("done", 100)).toBe("done");
  });

  it("presenterKind: json wins; a spinner only in a terminal that reports its width", () => {
    expect(presenterKind(true, true, 80)).toBe("json");
    expect(presenterKind(false, true, 80)).toBe("spinner");
    expect(presenterKind(false, true, undefined)).toBe("spinner");
    expect(presenterKind(false, true, 0)).toBe("lines");
    expect(presenterKind(false, false, 80)).toBe("lines");
  });
});

describe("NDJSON", () => {
  it("one JSON document a line; download progress at most every tenth", () => {
    const out: string[] = [];
    const p = jsonPresenter((l) => out.push(l));
    p.event(status(1000, "rendering", 10));
    const dl = (phase: "start" | "progress" | "done", bytes: number) =>
      p.event({
        type: "download",
        time: "t",
        renderId: "r",
        phase,
        path: "/v",
        bytes,
        total: 1000,
        resumedFrom: 0,
      });
    dl("start", 0);
    for (let b = 10; b <= 1000; b += 10) dl("progress", b);
    dl("done", 1000);
    const parsed = out.map((l) => JSON.parse(l));
    expect(out.every((l) => !l.includes("\n"))).toBe(true);
    expect(parsed[0].type).toBe("status");
    expect(parsed.filter((e) => e.phase === "progress").map((e) => e.bytes)).toEqual([
      10, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000,
    ]);
    expect(parsed.at(-1)).toMatchObject({ phase: "done", bytes: 1000 });
  });
});
