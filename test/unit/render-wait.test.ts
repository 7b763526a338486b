import { describe, expect, it } from "vitest";
import { exitCodeFor } from "../../src/lib/cli/exit-codes.js";
import {
  AbortedError,
  ConnectionError,
  DeadlineExceededError,
  MalformedResponseError,
  NotFoundError,
  RateLimitError,
  RenderFailedError,
  ServerError,
} from "../../src/lib/sdk/errors.js";
import type { RenderStatus } from "../../src/lib/sdk/types.js";
import { OutageError, type WaitDeps, type WaitEvent, waitForRender } from "../../src/lib/sdk/wait.js";

/** A virtual clock: sleeps advance it at once, so an hour-long wait runs in milliseconds. */
function fakeTime(start = 1_700_000_000_000) {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw new AbortedError("aborted");
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

type Step = RenderStatus | Error | ((now: number) => RenderStatus | Error);

/** Status answers scripted per call; the last one repeats. Records the time of each call. */
function scripted(clock: ReturnType<typeof fakeTime>, steps: Step[]) {
  const calls: number[] = [];
  const deps: WaitDeps = {
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    getStatus: async (id) => {
      calls.push(clock.now());
      let s = steps[Math.min(calls.length - 1, steps.length - 1)]!;
      if (typeof s === "function") s = s(clock.now());
      if (s instanceof Error) throw s;
      return { ...s, renderId: id };
    },
  };
  return { deps, calls };
}

const st = (status: string, extra: Partial<RenderStatus> = {}): RenderStatus => ({
  renderId: "r",
  status,
  ...extra,
});

describe("waitForRender loop (simulated time)", () => {
  it("resolves with the final status and reports progress", async () => {
    const clock = fakeTime();
    const { deps, calls } = scripted(clock, [
      st("queued"),
      st("rendering", { progress: 10 }),
      st("rendering", { progress: 10 }),
      st("rendering", { progress: 60 }),
      st("done", { outputFile: "http://x/files/r.mp4" }),
    ]);
    const events: WaitEvent[] = [];
    const final = await waitForRender(deps, "r", {
      onUpdate: (e) => events.push(e),
      submittedAt: clock.now(),
    });
    expect(final).toMatchObject({ status: "done", outputFile: "http://x/files/r.mp4" });
    expect(calls).toHaveLength(5);
    expect(calls[0]! - 1_700_000_000_000).toBe(1000); // first poll one second after submission
    const statuses = events.filter((e) => e.type === "status");
    expect(statuses.map((e) => [e.status, e.progress, e.changed])).toEqual([
      ["queued", undefined, true],
      ["rendering", 10, true],
      ["rendering", 10, false],
      ["rendering", 60, true],
    ]);
    for (const e of statuses) expect(e.waitMs).toBeGreaterThan(0);
    expect(events.at(-1)).toMatchObject({ type: "done", outputFile: "http://x/files/r.mp4" });
  });

  it("treats unknown status words as not finished", async () => {
    const clock = fakeTime();
    const { deps, calls } = scripted(clock, [st("uploading"), st("post-processing"), st("done")]);
    await expect(waitForRender(deps, "r")).resolves.toMatchObject({ status: "done" });
    expect(calls).toHaveLength(3);
  });

  it("follows an hour-long render with fewer than 400 polls, seeing the end within 10 s", async () => {
    const clock = fakeTime();
    const end = clock.now() + 3_600_000;
    const { deps, calls } = scripted(clock, [(now) => (now >= end ? st("done") : st("rendering"))]);
    await waitForRender(deps, "r", { submittedAt: clock.now() });
    expect(calls.length).toBeLessThan(400);
    expect(calls.at(-1)! - end).toBeLessThanOrEqual(10_000);
    for (let i = 1; i < calls.length; i++) expect(calls[i]! - calls[i - 1]!).toBeGreaterThanOrEqual(1000);
  });

  it("throws RenderFailedError with the server's message", async () => {
    const clock = fakeTime();
    const { deps } = scripted(clock, [st("rendering"), st("error", { error: "Character pack not found" })]);
    const events: WaitEvent[] = [];
    const err = await waitForRender(deps, "r", { onUpdate: (e) => events.push(e) }).catch((e) => e);
    expect(err).toBeInstanceOf(RenderFailedError);
    expect(err.message).toBe("Render r failed: Character pack not found");
    expect(exitCodeFor(err)).toBe(6);
    expect(events.at(-1)).toMatchObject({ type: "error", message: "Character pack not found" });
  });

  it("survives transient trouble shorter than maxOutage, with full-jitter backoff", async () => {
    const clock = fakeTime();
    const html = new ServerError("502 Bad Gateway (text/html answer from the server, not JSON)", {
      status: 502,
    });
    const { deps, calls } = scripted(clock, [
      st("rendering"),
      new ConnectionError("reset", { reason: "reset" }),
      html,
      new MalformedResponseError("200 but not JSON"),
      new ServerError("500 Internal server error", { status: 500 }),
      st("done"),
    ]);
    const events: WaitEvent[] = [];
    await expect(waitForRender(deps, "r", { onUpdate: (e) => events.push(e) })).resolves.toMatchObject({
      status: "done",
    });
    expect(events.filter((e) => e.type === "retry").map((e) => [e.attempt, e.reason])).toEqual([
      [1, "connection_error"],
      [2, "server_error"],
      [3, "malformed_response"],
      [4, "server_error"],
    ]);
    expect(calls).toHaveLength(6);
    // backoff grows: random 0.5 of 1 s, 2 s, 4 s, 8 s (each at least the 1.1 s budget floor)
    const gaps = calls.slice(2).map((t, i) => t - calls[i + 1]!);
    expect(gaps).toEqual([1112, 1112, 2000, 4000]);
  });

  it("ends with an outage error when trouble outlasts maxOutage", async () => {
    const clock = fakeTime();
    const { deps, calls } = scripted(clock, [
      st("rendering"),
      new ServerError("503 Service Unavailable", { status: 503 }),
    ]);
    const err = await waitForRender(deps, "r", { maxOutageMs: 60_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(OutageError);
    expect(err.code).toBe("outage");
    expect(exitCodeFor(err)).toBe(5);
    expect(err.message).toMatch(/No usable answer about render r for .* \(last: 503 Service Unavailable\)/);
    expect(err.suggestions.join(" ")).toContain("gigareels watch r");
    expect(calls.length).toBeLessThan(20); // backed off, not hammered
  });

  it("waits out a 429 as long as the server asks, without counting it as a retry event", async () => {
    const clock = fakeTime();
    const limited = new RateLimitError("429 Rate limit exceeded. Try again in 20 seconds.", {
      status: 429,
      retryAfterMs: 20_000,
    });
    const { deps, calls } = scripted(clock, [st("rendering"), limited, limited, st("done")]);
    const events: WaitEvent[] = [];
    await waitForRender(deps, "r", { onUpdate: (e) => events.push(e) });
    expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(20_000);
    expect(calls[3]! - calls[2]!).toBeGreaterThanOrEqual(20_000);
    expect(events.filter((e) => e.type === "throttled")).toHaveLength(2);
    expect(events.filter((e) => e.type === "retry")).toHaveLength(0);
  });

  it("honours Retry-After on a 503", async () => {
    const clock = fakeTime();
    const e503 = new ServerError("503 Service temporarily unavailable", {
      status: 503,
      headers: { "retry-after": "7" },
    });
    const { deps, calls } = scripted(clock, [st("rendering"), e503, st("done")]);
    await waitForRender(deps, "r");
    expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(7000);
  });

  it("does not retry errors that will not go away", async () => {
    const clock = fakeTime();
    const { deps, calls } = scripted(clock, [new NotFoundError("404 Render not found", { status: 404 })]);
    await expect(waitForRender(deps, "r")).rejects.toBeInstanceOf(NotFoundError);
    expect(calls).toHaveLength(1);
  });

  it("gives up at timeoutMs with DeadlineExceededError (exit 7)", async () => {
    const clock = fakeTime();
    const start = clock.now();
    const { deps } = scripted(clock, [st("rendering")]);
    const err = await waitForRender(deps, "r", { timeoutMs: 90_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(exitCodeFor(err)).toBe(7);
    expect(clock.now() - start).toBe(90_000);
    expect(err.suggestions.join(" ")).toContain("gigareels watch r");
  });

  it("stops at once on abort (AbortedError, exit 130)", async () => {
    const clock = fakeTime();
    const ctl = new AbortController();
    const { deps, calls } = scripted(clock, [st("rendering")]);
    const err = await waitForRender(deps, "r", {
      signal: ctl.signal,
      onUpdate: (e) => {
        if (e.type === "status") ctl.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(exitCodeFor(err)).toBe(130);
    expect(calls).toHaveLength(1);
  });

  it("a listener that throws does not end the wait", async () => {
    const clock = fakeTime();
    const { deps } = scripted(clock, [st("rendering"), st("done")]);
    await expect(
      waitForRender(deps, "r", {
        onUpdate: () => {
          throw new Error("boom");
        },
      }),
    ).resolves.toMatchObject({ status: "done" });
  });
});
