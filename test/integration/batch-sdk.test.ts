/**
 * The batch engine (client.renders.batch) against the emulator over real HTTP, with a
 * shortened rate-limit minute and fast renders: paced without a single 429, one render per
 * item, a state file that makes a rerun submit nothing twice, changed items refused.
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GigaReels } from "../../src/lib/sdk/client.js";
import type { BatchEvent, BatchItem } from "../../src/lib/sdk/batch/index.js";
import { BatchChangedError, BatchState } from "../../src/lib/sdk/batch/index.js";
import { api, SAMPLE_BODIES, withEmulator } from "../helpers/emulator.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gr-batch-sdk-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function items(n: number, outDir?: string): BatchItem[] {
  return Array.from({ length: n }, (_, i) => ({
    line: i + 1,
    body: {
      type: "educational-brainrot",
      prompt: `Lesson ${i + 1}`,
      characterPack: "rick-and-morty",
      backgroundVideoPack: "minecraft-parkour",
    },
    ...(outDir ? { output: join(outDir, `${i + 1}.mp4`) } : {}),
  }));
}

async function collect(it: AsyncIterable<BatchEvent>): Promise<BatchEvent[]> {
  const out: BatchEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const EMU = { rateLimitMinuteMs: 1_000, renderDurationMs: 150, outputSizeBytes: 16_384 };

describe("client.renders.batch", () => {
  it("paces 25 renders through a 2 s minute without a 429, and saves every video", async () => {
    await withEmulator({ ...EMU, rateLimitMinuteMs: 2_000 }, async (emu) => {
      const client = new GigaReels({
        apiKey: emu.keys[0],
        baseUrl: emu.url,
        rateLimitMinuteMs: 2000,
        env: { GIGAREELS_CONFIG_DIR: dir },
      });
      const events = await collect(
        client.renders.batch(items(25, dir), { state: join(dir, "batch.state.json") }),
      );
      const summary = events.at(-1)!;
      expect(summary.type).toBe("summary");
      expect(summary.counts).toMatchObject({ total: 25, done: 25, failed: 0, queued: 0, rendering: 0 });
      expect(emu.requests.filter((r) => r.status === 429)).toHaveLength(0);
      expect(emu.renders()).toHaveLength(25);
      for (let i = 1; i <= 25; i++) expect((await stat(join(dir, `${i}.mp4`))).size).toBe(16_384);
      const state = JSON.parse(await readFile(join(dir, "batch.state.json"), "utf8"));
      expect(Object.values(state.lines).every((l) => (l as { status: string }).status === "saved")).toBe(
        true,
      );

      // A rerun finds everything saved: nothing is sent.
      const before = emu.requests.length;
      const again = await collect(
        client.renders.batch(items(25, dir), { state: join(dir, "batch.state.json") }),
      );
      expect(again[0]).toMatchObject({ type: "start", resumed: true, skipped: 25 });
      expect(emu.requests.length).toBe(before);
    });
  }, 60_000);

  it("resends a recorded key after a crash between recording and sending: still one render", async () => {
    await withEmulator(EMU, async (emu) => {
      const client = new GigaReels({
        apiKey: emu.keys[0],
        baseUrl: emu.url,
        rateLimitMinuteMs: 1000,
        env: { GIGAREELS_CONFIG_DIR: dir },
      });
      const statePath = join(dir, "s.json");
      const list = items(3);
      await collect(client.renders.batch(list.slice(0, 1), { state: statePath }));
      // Line 1's request reached the server, but the process died before recording the id.
      const st = await BatchState.load(statePath);
      st.update(1, { status: "submitting", renderId: undefined });
      await st.save();
      const events = await collect(client.renders.batch(list, { state: statePath }));
      expect(events.find((e) => e.type === "submitted" && e.line === 1)).toMatchObject({ resent: true });
      expect(emu.renders()).toHaveLength(3);
      expect(new Set(emu.renders().map((r) => r.idempotencyKey)).size).toBe(3);
    });
  }, 30_000);

  it("refuses a changed item, with its line, unless allowChanged", async () => {
    await withEmulator(EMU, async (emu) => {
      const client = new GigaReels({
        apiKey: emu.keys[0],
        baseUrl: emu.url,
        rateLimitMinuteMs: 1000,
        env: { GIGAREELS_CONFIG_DIR: dir },
      });
      const statePath = join(dir, "s.json");
      await collect(client.renders.batch(items(2), { state: statePath }));
      const changed = items(2);
      changed[1]!.body.prompt = "Something else";
      await expect(collect(client.renders.batch(changed, { state: statePath }))).rejects.toThrow(
        BatchChangedError,
      );
      await expect(collect(client.renders.batch(changed, { state: statePath }))).rejects.toThrow(
        /line 2 changed/,
      );
      expect(emu.renders()).toHaveLength(2);
      await collect(client.renders.batch(changed, { state: statePath, allowChanged: true }));
      expect(emu.renders()).toHaveLength(3);
    });
  }, 30_000);

  it("a render that ends in error fails its item only", async () => {
    await withEmulator(EMU, async (emu) => {
      const client = new GigaReels({
        apiKey: emu.keys[0],
        baseUrl: emu.url,
        rateLimitMinuteMs: 1000,
        env: { GIGAREELS_CONFIG_DIR: dir },
      });
      emu.setNextRenderOutcome("done", { count: 1 });
      emu.setNextRenderOutcome("error", { error: "Render failed: no such character" });
      const events = await collect(client.renders.batch(items(4)));
      const summary = events.at(-1)!;
      expect(summary).toMatchObject({ type: "summary", failedLines: [2] });
      expect(summary.counts).toMatchObject({ done: 3, failed: 1 });
      expect(events.find((e) => e.type === "failed")).toMatchObject({
        line: 2,
        error: { code: "render_failed", message: expect.stringMatching(/no such character/i) },
      });
    });
  }, 30_000);

  it("a spent window: says until when it waits, then goes on (no 429)", async () => {
    await withEmulator({ ...EMU, rateLimitMinuteMs: 3_000 }, async (emu) => {
      // Another client of the key spends 9 of this window's 10 renders first.
      for (let i = 0; i < 9; i++)
        expect((await api(emu, "/api/render", { json: SAMPLE_BODIES["/api/render"] })).status).toBe(200);
      const client = new GigaReels({
        apiKey: emu.keys[0],
        baseUrl: emu.url,
        rateLimitMinuteMs: 3000,
        env: { GIGAREELS_CONFIG_DIR: dir },
      });
      const events = await collect(client.renders.batch(items(3)));
      const waiting = events.find((e) => e.type === "waiting");
      expect(waiting).toMatchObject({ window: "minute", limit: 10 });
      const goingOn = events.findIndex((e) => e.type === "going-on");
      expect(goingOn).toBeGreaterThan(events.indexOf(waiting!));
      expect(events[goingOn + 1]).toMatchObject({ type: "submitted" });
      expect(Date.parse(events[goingOn]!.time)).toBeGreaterThanOrEqual(
        Date.parse((waiting as { until: string }).until) - 5,
      );
      expect(emu.requests.filter((r) => r.status === 429)).toHaveLength(0);
      expect(events.at(-1)!.counts).toMatchObject({ done: 3 });
    });
  }, 30_000);
});
