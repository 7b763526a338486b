/**
 * The built `gigareels render batch` in subprocesses against the emulator over real HTTP,
 * with a shortened rate-limit minute and fast renders: a 30-line CSV to 30 videos without a
 * 429; kill -9 at random points and reruns (still exactly 30 renders); a render that ends in
 * error (exit 6, the others done, the failed line written out and retried); a changed line
 * refused; two batches of one key at once sharing the budget; --json events; bad input.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { api, SAMPLE_BODIES, withEmulator } from "../helpers/emulator.js";
import { ndjson, useRenderCli } from "../helpers/render-cli.js";
import { hasScript, inTerminal } from "../helpers/terminal.js";

const SIZE = 20_000;
const { emulator, config, key, cli, minuteEnv } = useRenderCli({
  rateLimitMinuteMs: 1_000,
  renderDurationMs: 200,
  outputSizeBytes: SIZE,
});

/** A CSV of `n` prompts with commas, quotes and a line break inside quoted fields. */
function csv(n: number, name = "lessons.csv"): string {
  const rows = ["prompt,title"];
  for (let i = 1; i <= n; i++)
    rows.push(
      i === 2 ? `"Lesson 2: ""quotes"",\nand a line break",second` : `"Lesson ${i}, explained",t${i}`,
    );
  const path = join(config.dir, name);
  writeFileSync(path, `\uFEFF${rows.join("\r\n")}\r\n`);
  return path;
}

const mine = () =>
  emulator()
    .renders()
    .filter((r) => r.keyLast4 === key().slice(-4));
const refused = () =>
  emulator().requests.filter((r) => r.status === 429 && r.keyLast4 === key().slice(-4)).length;
const videos = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".mp4")) : []);

describe("gigareels render batch", () => {
  it("30 CSV lines through a 1 s minute: 0 429s, 30 renders, 30 videos, a summary table", async () => {
    const input = csv(30);
    const out = join(config.dir, "videos");
    const r = await cli(["render", "batch", input, "--output-dir", out, "--name", "{line}-{title}"]);
    expect(r.code, r.stderr).toBe(0);
    expect(refused()).toBe(0);
    expect(mine()).toHaveLength(30);
    expect(new Set(mine().map((x) => x.idempotencyKey)).size).toBe(30);
    const files = videos(out);
    expect(files).toHaveLength(30);
    expect(files).toContain("03-second.mp4"); // line 3 is the row with the quoted line break
    for (const f of files) expect(statSync(join(out, f)).size).toBe(SIZE);
    // The quoted comma, quote and line break reached the server as one prompt.
    const bodies = emulator()
      .requests.filter((q) => q.method === "POST" && q.keyLast4 === key().slice(-4) && q.status === 200)
      .map((q) => JSON.parse(q.body!));
    expect(bodies.map((b) => b.prompt)).toContain('Lesson 2: "quotes",\nand a line break');
    expect(bodies[0]).toMatchObject({ type: "educational-brainrot", characterPack: "rick-and-morty" });
    // The table lists every line.
    expect(r.stdout).toMatch(/^LINE\s+STATUS\s+RENDER\s+OUTPUT/);
    expect(r.stdout).toMatch(/30 lines: 30 done, 0 failed, 0 unfinished/);
    expect(existsSync(`${input}.state.json`)).toBe(true);

    // The same command again: everything is recorded as saved, nothing is sent.
    const before = emulator().requests.length;
    const again = await cli(["render", "batch", input, "--output-dir", out, "--name", "{line}-{title}"]);
    expect(again.code, again.stderr).toBe(0);
    expect(emulator().requests.length).toBe(before);
  }, 90_000);

  it("kill -9 at random points, then reruns: still exactly 30 renders, 30 videos, 0 429s", async () => {
    const input = csv(30);
    const out = join(config.dir, "videos");
    const args = ["render", "batch", input, "--output-dir", out];
    const kills: number[] = [];
    for (let round = 0; round < 4; round++) {
      const delay = 400 + Math.floor(Math.random() * 1800);
      const r = await cli(args, {
        onSpawn: (child: ChildProcess) => {
          setTimeout(() => child.kill("SIGKILL"), delay);
        },
      });
      if (r.signal === "SIGKILL") kills.push(delay);
      else expect(r.code, r.stderr).toBe(0);
    }
    const last = await cli(args);
    expect(last.code, last.stderr).toBe(0);
    expect(kills.length).toBeGreaterThan(0);
    expect(mine(), `killed after ${kills.join(", ")} ms`).toHaveLength(30);
    expect(new Set(mine().map((x) => x.idempotencyKey)).size).toBe(30);
    expect(videos(out)).toHaveLength(30);
    expect(readdirSync(out).filter((f) => f.endsWith(".part"))).toHaveLength(0);
    expect(refused()).toBe(0);
  }, 120_000);

  it("a render that ends in error: exit 6, the others done, the line written out; --retry-failed redoes it", async () => {
    const input = csv(5);
    emulator().setNextRenderOutcome("done", { count: 2 });
    emulator().setNextRenderOutcome("error", { error: "Render failed: the character pack is unavailable" });
    const out = join(config.dir, "videos");
    const r = await cli(["render", "batch", input, "--output-dir", out]);
    expect(r.code, r.stderr).toBe(6);
    expect(videos(out)).toHaveLength(4);
    // The third render is line 5 (line 3's quoted prompt runs on to line 4).
    expect(r.stdout).toMatch(/^5\s+error\s+rnd_\w+\s+the character pack is unavailable$/m);
    expect(r.stderr).toMatch(/Error: 1 of 5 lines failed \(line 5\); the others are done/);
    expect(r.stderr).toMatch(/--retry-failed/);
    const failedFile = join(config.dir, "lessons.failed.csv");
    expect(readFileSync(failedFile, "utf8")).toBe('prompt,title\n"Lesson 3, explained",t3\n');

    const again = await cli(["render", "batch", input, "--output-dir", out, "--retry-failed"]);
    expect(again.code, again.stderr).toBe(0);
    expect(mine()).toHaveLength(6); // one new render, for line 5 only
    expect(videos(out)).toHaveLength(5);
    expect(existsSync(failedFile)).toBe(false);
  }, 60_000);

  it("a line changed since the state recorded it is refused with its number; --allow-changed submits it", async () => {
    const input = join(config.dir, "shorts.jsonl");
    writeFileSync(input, '{"prompt":"One"}\n{"prompt":"Two"}\n{"prompt":"Three"}\n');
    expect((await cli(["render", "batch", input])).code).toBe(0);
    expect(mine()).toHaveLength(3);
    writeFileSync(input, '{"prompt":"One"}\n{"prompt":"Two, but better"}\n{"prompt":"Three"}\n');
    const r = await cli(["render", "batch", input]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /Error: Input line 2 changed since this batch recorded it in .*shorts\.jsonl\.state\.json/,
    );
    expect(r.stderr).toMatch(/--allow-changed/);
    expect(mine()).toHaveLength(3);
    const ok = await cli(["render", "batch", input, "--allow-changed"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(mine()).toHaveLength(4);
    expect(mine().at(-1)).toBeDefined();
  }, 60_000);

  it("two batches of one key at once share the budget: 0 429s, every line rendered once", async () => {
    // A 6 s minute: both start within one window. Alone, each would send its 9 lines at once
    // (18 in one window of 10: 429s); sharing, 9 go and the rest wait for the reset.
    await withEmulator({ rateLimitMinuteMs: 6_000, renderDurationMs: 200 }, async (emu) => {
      const run = (file: string, out: string) =>
        runCli(
          ["render", "batch", csv(9, file), "--output-dir", join(config.dir, out), "--base-url", emu.url],
          {
            env: {
              GIGAREELS_CONFIG_DIR: config.dir,
              GIGAREELS_API_KEY: emu.keys[0],
              GIGAREELS_RATE_LIMIT_MINUTE_MS: "6000",
            },
            timeoutMs: 60_000,
          },
        );
      const [ra, rb] = await Promise.all([run("a.csv", "a"), run("b.csv", "b")]);
      expect(ra.code, ra.stderr).toBe(0);
      expect(rb.code, rb.stderr).toBe(0);
      expect(emu.requests.filter((q) => q.status === 429)).toHaveLength(0);
      expect(emu.renders()).toHaveLength(18);
      expect(new Set(emu.renders().map((x) => x.idempotencyKey)).size).toBe(18);
      expect(ra.stderr + rb.stderr).toMatch(/^Waiting: this minute's renders are spent/m);
      expect(videos(join(config.dir, "a"))).toHaveLength(9);
      expect(videos(join(config.dir, "b"))).toHaveLength(9);
    });
  }, 90_000);

  it("--json: one NDJSON event a line per change, the summary last; text and split lines from JSONL", async () => {
    const input = join(config.dir, "mixed.jsonl");
    writeFileSync(
      input,
      [
        '{"prompt":"Black holes"}',
        '{"type":"text","videoUrl":"https://example.com/v.mp4","text":"Hello@50,100","color":"#ff8800"}',
        '{"type":"split","videoUrl":"https://example.com/v.mp4","position":"top"}',
        '{"type":"future-template","prompt":"Tides","mood":"calm"}',
      ].join("\n"),
    );
    const r = await cli(["render", "batch", input, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const events = ndjson(r.stdout);
    expect(events[0]).toMatchObject({ type: "start", resumed: false, counts: { total: 4, queued: 4 } });
    expect(events.filter((e) => e.type === "submitted")).toHaveLength(4);
    const summary = events.at(-1)!;
    expect(summary).toMatchObject({ type: "summary", counts: { done: 4, failed: 0 }, failedLines: [] });
    const posts = emulator().requests.filter((q) => q.method === "POST" && q.keyLast4 === key().slice(-4));
    expect(posts.map((p) => p.path)).toEqual([
      "/api/render",
      "/api/render/text",
      "/api/render/split",
      "/api/render",
    ]);
    expect(JSON.parse(posts[1]!.body!)).toEqual({
      videoUrl: "https://example.com/v.mp4",
      textOverlays: [{ text: "Hello", position: { x: 50, y: 100 } }],
      textStyle: { color: "#FF8800" },
    });
    expect(JSON.parse(posts[3]!.body!)).toEqual({ type: "future-template", prompt: "Tides", mood: "calm" });
    for (const p of posts)
      expect(p.headers["idempotency-key"]).toMatch(/^batch-[0-9a-f]{16}-L\d+-[0-9a-f]{16}$/);
  }, 60_000);

  it("bad input is refused before anything is sent: the line and the fix", async () => {
    const input = join(config.dir, "bad.csv");
    writeFileSync(input, 'prompt,type\nfine,\n"unterminated,split\n');
    let r = await cli(["render", "batch", input]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: line 3: a quoted field is never closed/);
    writeFileSync(input, "prompt,type,videoUrl\nfine,,\n,split,https://example.com/v.mp4\n");
    r = await cli(["render", "batch", input]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: line 3: position is required/);
    r = await cli(["render", "batch", "-"], { input: '{"prompt":"x"}\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--state/);
    expect(mine()).toHaveLength(0);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it("Ctrl-C: exit 130 with the command to rerun; the rerun finishes without a second render", async () => {
    const input = csv(20);
    const out = join(config.dir, "videos");
    const r = await cli(["render", "batch", input, "--output-dir", out], {
      onSpawn: (child: ChildProcess) => {
        child.stderr?.on("data", (d: Buffer) => {
          if (/line 5: submitted/.test(String(d))) child.kill("SIGINT");
        });
      },
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(
      /Error: Interrupted: \d+ of 20 done, \d+ in flight \(their renders go on\)\. Rerun to go on: gigareels render batch .*lessons\.csv --output-dir .*videos --base-url http:/,
    );
    expect(r.stdout).toMatch(/20 lines: \d+ done, 0 failed, \d+ unfinished/);
    const again = await cli(["render", "batch", input, "--output-dir", out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/Resuming the batch: 20 lines/);
    expect(mine()).toHaveLength(20);
    expect(videos(out)).toHaveLength(20);
  }, 60_000);

  it("--timeout: exit 7, the renders go on, a rerun follows them to the end", async () => {
    const input = csv(3);
    emulator().setRenderDurationMs(4_000);
    try {
      const r = await cli(["render", "batch", input, "--timeout", "2s"]);
      expect(r.code, r.stderr).toBe(7);
      expect(r.stderr).toMatch(/did not finish within 2 s.*Rerun to go on/);
      expect(mine()).toHaveLength(3);
      const again = await cli(["render", "batch", input]);
      expect(again.code, again.stderr).toBe(0);
      expect(mine()).toHaveLength(3);
    } finally {
      emulator().setRenderDurationMs(200);
    }
  }, 60_000);

  it.skipIf(!hasScript)(
    "in a terminal: one overall bar with the counts and an ETA",
    async () => {
      const input = csv(12);
      const r = await inTerminal(["render", "batch", input, "--base-url", emulator().url], [], {
        env: {
          GIGAREELS_API_KEY: key(),
          GIGAREELS_CONFIG_DIR: config.dir,
          NO_COLOR: undefined,
          ...minuteEnv,
        },
        columns: 120,
        timeoutMs: 60_000,
      });
      expect(r.code, r.screen).toBe(0);
      expect(r.screen).toMatch(/\[[#>-]{24}\] \d+\/12 done · \d+ rendering · \d+ queued · 0 failed/);
      expect(r.screen).toMatch(/ · ETA \d+s/);
      expect(r.screen).toMatch(/12 lines: 12 done, 0 failed, 0 unfinished/);
    },
    60_000,
  );

  it("a spent window is announced with the time it goes on, then it goes on", async () => {
    await withEmulator({ rateLimitMinuteMs: 6_000, renderDurationMs: 200 }, async (emu) => {
      // Another client of the key spends 9 of this window's 10 renders just before.
      for (let i = 0; i < 9; i++)
        expect((await api(emu, "/api/render", { json: SAMPLE_BODIES["/api/render"] })).status).toBe(200);
      const input = csv(3);
      const r = await runCli(["render", "batch", input, "--base-url", emu.url], {
        env: {
          GIGAREELS_CONFIG_DIR: config.dir,
          GIGAREELS_API_KEY: emu.keys[0],
          GIGAREELS_RATE_LIMIT_MINUTE_MS: "6000",
        },
        timeoutMs: 30_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /^Waiting: this minute's renders are spent \(10 per minute\); going on at \d\d:\d\d:\d\d UTC$/m,
      );
      expect(r.stderr).toMatch(/^Going on: the minute's renders are available again$/m);
      expect(r.stderr.indexOf("Going on")).toBeGreaterThan(r.stderr.indexOf("Waiting"));
      expect(emu.requests.filter((q) => q.status === 429)).toHaveLength(0);
      expect(emu.renders()).toHaveLength(12);
    });
  }, 60_000);
});
