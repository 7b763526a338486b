/**
 * One budget for render creation: `render` (SDK client.render, the CLI command) and
 * `render batch` take their slots from the key's shared request budget, the file watchers use
 * too, so renders and batches of one key together never meet a 429. Against the emulator
 * over real HTTP, with a shortened rate-limit minute the clients are told of.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BatchEvent, BatchItem } from "../../src/lib/sdk/batch/index.js";
import { GigaReels } from "../../src/lib/sdk/client.js";
import { runCli } from "../helpers/cli.js";
import { SAMPLE_BODIES, withEmulator } from "../helpers/emulator.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gr-render-budget-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const body = SAMPLE_BODIES["/api/render"];

function items(n: number): BatchItem[] {
  return Array.from({ length: n }, (_, i) => ({ line: i + 1, body: { ...body, prompt: `Lesson ${i + 1}` } }));
}

describe("render creation on the key's shared budget", () => {
  it("single renders take their slots: the 10th of a minute waits (told why), no 429", async () => {
    await withEmulator({ rateLimitMinuteMs: 3_000, renderDurationMs: 100 }, async (emu) => {
      const client = new GigaReels({
        apiKey: emu.keys[0],
        baseUrl: emu.url,
        rateLimitMinuteMs: 3_000,
        env: { GIGAREELS_CONFIG_DIR: dir },
      });
      const waits: Array<{ reason: string; waitMs: number }> = [];
      for (let i = 0; i < 12; i++) await client.render(body, { onBudgetWait: (w) => waits.push(w) });
      expect(emu.renders()).toHaveLength(12);
      expect(emu.requests.filter((q) => q.status === 429)).toHaveLength(0);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      expect(waits[0]!.reason).toBe("minute");
      expect(waits[0]!.waitMs).toBeGreaterThan(0);
    });
  }, 60_000);

  it("a batch and single renders of one key at once, in two clients: one budget, no 429", async () => {
    await withEmulator({ rateLimitMinuteMs: 4_000, renderDurationMs: 100 }, async (emu) => {
      const make = () =>
        new GigaReels({
          apiKey: emu.keys[0],
          baseUrl: emu.url,
          rateLimitMinuteMs: 4_000,
          env: { GIGAREELS_CONFIG_DIR: dir },
        });
      const batch = (async () => {
        const events: BatchEvent[] = [];
        for await (const e of make().renders.batch(items(7), { state: join(dir, "b.state.json") }))
          events.push(e);
        return events;
      })();
      const single = make();
      const singles = (async () => {
        for (let i = 0; i < 7; i++) await single.render(body);
      })();
      const [events] = await Promise.all([batch, singles]);
      expect(events.at(-1)).toMatchObject({ type: "summary", counts: { done: 7, failed: 0 } });
      expect(emu.renders()).toHaveLength(14);
      expect(emu.requests.filter((q) => q.status === 429)).toHaveLength(0);
    });
  }, 90_000);

  it("gigareels render says when it waits for the key's spent render budget, then submits", async () => {
    await withEmulator({ rateLimitMinuteMs: 10_000, renderDurationMs: 100 }, async (emu) => {
      const env = {
        GIGAREELS_CONFIG_DIR: dir,
        GIGAREELS_API_KEY: emu.keys[0],
        GIGAREELS_RATE_LIMIT_MINUTE_MS: "10000",
      };
      const client = new GigaReels({ baseUrl: emu.url, env });
      for (let i = 0; i < 9; i++) await client.render(body);
      const r = await runCli(["render", "One more", "--base-url", emu.url], { env, timeoutMs: 40_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /^Waiting: this key's per-minute render budget is used \(9 of 10 a minute, a tenth kept back\); sending at \d\d:\d\d:\d\d \(in [\d.]+ ?m?s\)$/m,
      );
      expect(emu.renders()).toHaveLength(10);
      expect(emu.requests.filter((q) => q.status === 429)).toHaveLength(0);
    });
  }, 60_000);
});
