/**
 * Twenty watchers of one key against the emulator over real HTTP (issue 15, point 6): each a
 * waitForRender with its own handle on the shared budget file, as twenty processes would
 * be, against a minute shortened to 3 s (60 status requests per 3 s; the scheduler and the
 * budget are told the same length). They must never be answered 429, and still use the
 * budget rather than crawl.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GigaReels } from "../../src/lib/sdk/client.js";
import { type WaitEvent, waitForRender } from "../../src/lib/sdk/wait.js";
import { SAMPLE_BODIES, useEmulator } from "../helpers/emulator.js";

const MINUTE_MS = 3_000;
const RENDER_MS = 10_000;
const emulator = useEmulator({ renderDurationMs: RENDER_MS, rateLimitMinuteMs: MINUTE_MS });
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gr-watchers-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("twenty watchers of one key", () => {
  it("see every render done and are never answered 429 (short minute window)", async () => {
    const emu = emulator();
    const key = emu.keys[0]!;
    // the submissions take their slots in the same budget (9 renders per 3 s)
    const submitter = new GigaReels({
      apiKey: key,
      baseUrl: emu.url,
      rateLimitMinuteMs: MINUTE_MS,
      env: { GIGAREELS_CONFIG_DIR: dir },
    });
    const ids: { id: string; at: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const at = Date.now();
      ids.push({ id: (await submitter.render({ ...SAMPLE_BODIES["/api/render"] })).renderId, at });
    }
    const events: WaitEvent[] = [];
    const results = await Promise.all(
      ids.map(({ id, at }) => {
        const client = new GigaReels({ apiKey: key, baseUrl: emu.url, maxRetries: 0, timeoutMs: 5_000 });
        return waitForRender(
          {
            getStatus: (rid, { signal }) => client.getRenderStatus(rid, { signal }),
            rateLimit: () => client.rateLimitFor("status"),
            apiKey: async () => key,
            budgetDir: dir,
            minuteMs: MINUTE_MS,
          },
          id,
          { submittedAt: at, timeoutMs: 90_000, onUpdate: (e) => events.push(e) },
        );
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill("done"));

    const status = emu.requests.filter((r) => r.path.startsWith("/api/render/status/"));
    expect(status.filter((r) => r.status === 429)).toEqual([]);
    // the budget was used, not left idle: some window of 3 s held most of the 54 we allow
    const times = status.map((r) => r.time).sort((a, b) => a - b);
    let peak = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[j]! <= times[i]! - MINUTE_MS) j++;
      peak = Math.max(peak, i - j + 1);
    }
    expect(peak).toBeLessThanOrEqual(54);
    expect(peak).toBeGreaterThanOrEqual(30);
    // every watcher saw its render well within a budget share or two of its end
    const done = events.filter((e) => e.type === "done");
    expect(done).toHaveLength(20);
  });
});
