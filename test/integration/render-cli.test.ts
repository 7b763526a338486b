/**
 * The built `gigareels render`, `render text`, `render split` in a subprocess against the
 * emulator (run `npm run build` first): checks before sending (exit 2 naming the flag, nothing
 * sent), the bodies sent, --body FILE and stdin, idempotency across a connection reset and a
 * re-run, a 429 burst waited out, outages, HTML answers, a failed render, --timeout, --json.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ndjson, useRenderCli } from "../helpers/render-cli.js";

const { emulator, config, cli } = useRenderCli({ renderDurationMs: 300 });

const renderPosts = () =>
  emulator().requests.filter((r) => r.method === "POST" && r.path.startsWith("/api/render"));
const statusGets = (id: string) => emulator().requests.filter((r) => r.path === `/api/render/status/${id}`);

const VIDEO = "https://example.com/video.mp4";

describe("render: values are checked before sending", () => {
  const cases: Array<[string, string[], string]> = [
    [
      "no prompt without a terminal",
      ["render"],
      "A prompt is required: pass it as the first argument or with --prompt",
    ],
    ["a prompt twice", ["render", "a", "--prompt", "b"], "Give the prompt once"],
    [
      "a bad --type",
      ["render", "x", "--type", "not a type!"],
      '--type expects a name of letters, digits, ".", "_" or "-"',
    ],
    [
      "a bad --character-pack",
      ["render", "x", "--character-pack", "rick and morty"],
      "--character-pack expects a name",
    ],
    [
      "a bad --background-video-pack",
      ["render", "x", "--background-video-pack", "a/b"],
      "--background-video-pack expects a name",
    ],
    [
      "a bad --timeout",
      ["render", "x", "--timeout", "soon"],
      // the flag named once, without oclif's "Parsing --timeout" before it
      'Error: --timeout expects a duration greater than 0 such as 90s, 5m or 1h, not "soon"',
    ],
    [
      "a zero --timeout",
      ["render", "x", "--timeout", "0", "--wait"],
      'Error: --timeout expects a duration greater than 0 such as 90s, 5m or 1h, not "0"',
    ],
    [
      "a bad --max-outage",
      ["render", "x", "--max-outage", "-1"],
      "Error: --max-outage expects a duration greater than 0",
    ],
    [
      "a bad --idempotency-key",
      ["render", "x", "--idempotency-key", " spaced "],
      "--idempotency-key must be 1 to 255 printable ASCII characters",
    ],
    ["text without --video-url", ["render", "text", "--text", "Hi@1,2"], "--video-url is required"],
    [
      "text with an ftp --video-url",
      ["render", "text", "--video-url", "ftp://example.com/v.mp4", "--text", "Hi@1,2"],
      "--video-url expects an http(s) URL",
    ],
    ["text without --text", ["render", "text", "--video-url", VIDEO], "--text is required"],
    [
      "text with --text lacking a position",
      ["render", "text", "--video-url", VIDEO, "--text", "Hello"],
      '--text expects TEXT@X,Y such as "Hello@50,100", not "Hello"',
    ],
    [
      "text with a bad position",
      ["render", "text", "--video-url", VIDEO, "--text", "Hello@50,abc"],
      "--text expects TEXT@X,Y",
    ],
    [
      "text with a bad --font-size",
      ["render", "text", "--video-url", VIDEO, "--text", "a@1,2", "--font-size", "big"],
      '--font-size expects a positive number, not "big"',
    ],
    [
      "text with a zero --font-size",
      ["render", "text", "--video-url", VIDEO, "--text", "a@1,2", "--font-size", "0"],
      "--font-size expects a positive number",
    ],
    [
      "text with a named --color",
      ["render", "text", "--video-url", VIDEO, "--text", "a@1,2", "--color", "red"],
      '--color expects a colour like #FF8800 (#RRGGBB), not "red"',
    ],
    [
      "text with a short --color",
      ["render", "text", "--video-url", VIDEO, "--text", "a@1,2", "--color", "#FFF"],
      "--color expects a colour like #FF8800",
    ],
    ["split without --position", ["render", "split", "--video-url", VIDEO], "--position is required"],
    [
      "split with a bad --position",
      ["render", "split", "--video-url", VIDEO, "--position", "diagonal"],
      '--position must be one of left, right, top, bottom, not "diagonal"',
    ],
    [
      "split with a bad --object-fit",
      ["render", "split", "--video-url", VIDEO, "--position", "left", "--object-fit", "stretch"],
      "--object-fit must be one of cover, contain",
    ],
    [
      "split with a bad --broll-video",
      ["render", "split", "--video-url", VIDEO, "--position", "left", "--broll-video", "broll.mp4"],
      "--broll-video expects an http(s) URL",
    ],
    ["split without --video-url", ["render", "split", "--position", "left"], "--video-url is required"],
    ["--body with a prompt flag", ["render", "--body", "x.json", "--prompt", "p"], "--body"],
    [
      "--body with a prompt argument",
      ["render", "p", "--body", "x.json"],
      "--body cannot be combined with a prompt argument",
    ],
    [
      "--body with a missing file",
      ["render", "--body", "/nonexistent/body.json"],
      "--body /nonexistent/body.json: cannot read it (ENOENT)",
    ],
    ["text --body with a body flag", ["render", "text", "--body", "-", "--color", "#FFFFFF"], "--body"],
  ];

  it.each(cases)("%s: exit 2, the message names the flag, nothing is sent", async (_name, args, message) => {
    const before = renderPosts().length;
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: /);
    expect(renderPosts().length).toBe(before);
  });

  it("--body with invalid JSON or a JSON array: exit 2 naming --body", async () => {
    const bad = join(config.dir, "bad.json");
    writeFileSync(bad, "{ not json");
    const r = await cli(["render", "--body", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--body: ${bad} is not valid JSON`);
    const list = await cli(["render", "split", "--body", "-"], { input: "[1, 2]" });
    expect(list.code).toBe(2);
    expect(list.stderr).toContain("--body: stdin must hold a JSON object");
  });

  it("--output naming an existing file without --force: exit 2 before any render is submitted", async () => {
    const existing = join(config.dir, "taken.mp4");
    writeFileSync(existing, "mine");
    const before = renderPosts().length;
    const r = await cli(["render", "x", "--output", existing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--output ${existing} already exists. Pass --force to overwrite it`);
    expect(renderPosts().length).toBe(before);
  });

  it("--json: the usage error is a JSON document on stdout with exit code 2", async () => {
    const r = await cli(["render", "split", "--video-url", VIDEO, "--position", "middle", "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: "usage",
        message: '--position must be one of left, right, top, bottom, not "middle"',
        exitCode: 2,
        suggestions: [],
      },
    });
  });

  it("without a key: exit 4 and nothing sent", async () => {
    const before = renderPosts().length;
    // No D-Bus: the machine's own keyring may hold a "default" item.
    const r = await cli(["render", "x"], {
      env: {
        GIGAREELS_API_KEY: undefined,
        DBUS_SESSION_BUS_ADDRESS: undefined,
        DISPLAY: undefined,
        XDG_RUNTIME_DIR: undefined,
      },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("Run gigareels login");
    expect(renderPosts().length).toBe(before);
  });
});

describe("render: what is sent", () => {
  const lastBody = () => JSON.parse(renderPosts().at(-1)!.body!) as unknown;

  it("render PROMPT: the educational-brainrot template with the default packs; prints id, key and the follow command", async () => {
    const r = await cli(["render", "Explain black holes"]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastBody()).toEqual({
      type: "educational-brainrot",
      prompt: "Explain black holes",
      characterPack: "rick-and-morty",
      backgroundVideoPack: "minecraft-parkour",
    });
    const created = emulator().renders().at(-1)!;
    const sentKey = renderPosts().at(-1)!.headers["idempotency-key"];
    expect(sentKey).toMatch(/^[0-9a-f-]{36}$/);
    // stdout is a pipe here: the render id alone on stdout (ID=$(gigareels render ...)), the rest on stderr.
    expect(r.stdout).toBe(`${created.id}\n`);
    expect(r.stderr).toBe(
      `Submitted render ${created.id} (Idempotency-Key: ${sentKey})\nFollow it with: gigareels watch ${created.id} --base-url ${emulator().url}\n`,
    );
  });

  it("piped: --wait --output F prints the saved path alone on stdout; --wait alone the video URL", async () => {
    const out = join(config.dir, `piped-${Date.now()}.mp4`);
    const saved = await cli(["render", "Explain black holes", "--wait", "--output", out]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toBe(`${out}\n`);
    const id = emulator().renders().at(-1)!.id;
    expect(saved.stderr).toContain(`Submitted render ${id} (`);
    expect(saved.stderr).toContain(`Saved ${out} (`);
    expect(existsSync(out)).toBe(true);
    const waited = await cli(["render", "Explain black holes", "--wait"]);
    expect(waited.code, waited.stderr).toBe(0);
    const id2 = emulator().renders().at(-1)!.id;
    expect(waited.stdout).toBe(`${emulator().url}/files/${id2}.mp4\n`);
    expect(waited.stderr).toContain(`Render ${id2} is done: ${emulator().url}/files/${id2}.mp4`);
  });

  it("--prompt, --type and the packs as given; --json gives one document", async () => {
    const r = await cli([
      "render",
      "--prompt",
      "The water cycle",
      "--character-pack",
      "spongebob",
      "--background-video-pack",
      "subway-surfers",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(lastBody()).toEqual({
      type: "educational-brainrot",
      prompt: "The water cycle",
      characterPack: "spongebob",
      backgroundVideoPack: "subway-surfers",
    });
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      renderId: emulator().renders().at(-1)!.id,
      idempotencyKey: renderPosts().at(-1)!.headers["idempotency-key"],
      endpoint: "/api/render",
      followCommand: `gigareels watch ${emulator().renders().at(-1)!.id} --base-url ${emulator().url}`,
    });
    expect(Number.isNaN(Date.parse(doc.submittedAt))).toBe(false);
  });

  it("render text: overlays from --text, the style from its flags", async () => {
    const r = await cli([
      "render",
      "text",
      "--video-url",
      VIDEO,
      "--text",
      "Hello@50,100",
      "--text",
      "me@example.com says hi@0,12.5",
      "--font-family",
      "Inter",
      "--font-size",
      "48",
      "--color",
      "#ff8800",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(renderPosts().at(-1)!.path).toBe("/api/render/text");
    expect(lastBody()).toEqual({
      videoUrl: VIDEO,
      textOverlays: [
        { text: "Hello", position: { x: 50, y: 100 } },
        { text: "me@example.com says hi", position: { x: 0, y: 12.5 } },
      ],
      textStyle: { fontFamily: "Inter", fontSize: 48, color: "#FF8800" },
    });
  });

  it("render split: the published fields", async () => {
    const r = await cli([
      "render",
      "split",
      "--video-url",
      VIDEO,
      "--position",
      "top",
      "--broll-video",
      "https://example.com/broll.mp4",
      "--object-fit",
      "contain",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(renderPosts().at(-1)!.path).toBe("/api/render/split");
    expect(lastBody()).toEqual({
      videoUrl: VIDEO,
      position: "top",
      brollVideo: "https://example.com/broll.mp4",
      objectFit: "contain",
    });
  });

  it("--body FILE sends the object as it is, unknown fields included", async () => {
    const body = { type: "future-template", prompt: "p", extra: { nested: [1, 2] } };
    const file = join(config.dir, "body.json");
    writeFileSync(file, JSON.stringify(body));
    const r = await cli(["render", "--body", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(renderPosts().at(-1)!.path).toBe("/api/render");
    expect(lastBody()).toEqual(body);
    expect(emulator().renders().at(-1)!.type).toBe("future-template");
  });

  it("--body - reads the body from stdin (render text)", async () => {
    const body = { videoUrl: VIDEO, textOverlays: [{ text: "stdin", position: { x: 1, y: 2 } }] };
    const r = await cli(["render", "text", "--body", "-"], { input: JSON.stringify(body) });
    expect(r.code, r.stderr).toBe(0);
    expect(renderPosts().at(-1)!.path).toBe("/api/render/text");
    expect(lastBody()).toEqual(body);
  });

  it("--body - reads the body from stdin (render): stdin is not also taken as the prompt argument", async () => {
    const body = { type: "educational-brainrot", prompt: "from stdin" };
    for (let i = 0; i < 3; i++) {
      const r = await cli(["render", "--body", "-"], { input: JSON.stringify(body) });
      expect(r.code, r.stderr).toBe(0);
      expect(renderPosts().at(-1)!.path).toBe("/api/render");
      expect(lastBody()).toEqual(body);
    }
  });

  it("piped stdin is never a prompt: without one, render is the usual usage error", async () => {
    const r = await cli(["render"], { input: "Explain black holes\n" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^Error: A prompt is required/);
  });

  it("a body the server refuses: its 400 message, exit 2", async () => {
    const r = await cli(["render", "split", "--body", "-"], { input: JSON.stringify({ videoUrl: VIDEO }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("400");
    expect(r.stderr).toContain("position is required");
  });
});

describe("render: never twice", () => {
  it("a connection reset after the render was created: retried with the same key, one render", async () => {
    const before = emulator().renders().length;
    const posts = renderPosts().length;
    emulator().addFault({ route: "/api/render", method: "POST", times: 1, fault: { kind: "reset-after" } });
    const r = await cli(["render", "Reset me", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(emulator().renders().length).toBe(before + 1);
    const sent = renderPosts().slice(posts);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.headers["idempotency-key"]).toBe(sent[1]!.headers["idempotency-key"]);
    expect(JSON.parse(r.stdout).renderId).toBe(emulator().renders().at(-1)!.id);
  });

  it("a re-run with the same --idempotency-key gets the same render back", async () => {
    const before = emulator().renders().length;
    const args = ["render", "CI job", "--idempotency-key", `ci-run-${Date.now()}`, "--json"];
    const first = await cli(args);
    const second = await cli(args);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).renderId).toBe(JSON.parse(first.stdout).renderId);
    expect(emulator().renders().length).toBe(before + 1);
  });

  it("a 429 on submission is waited out as the server asks, then sent once more with the same key", async () => {
    const posts = renderPosts().length;
    const before = emulator().renders().length;
    emulator().addFault({
      route: "/api/render",
      method: "POST",
      times: 1,
      fault: { kind: "rate-limit", retryAfterSeconds: 1 },
    });
    const r = await cli(["render", "Busy", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const sent = renderPosts().slice(posts);
    expect(sent.map((s) => s.status)).toEqual([429, 200]);
    expect(sent[1]!.time - sent[0]!.time).toBeGreaterThanOrEqual(950);
    expect(sent[0]!.headers["idempotency-key"]).toBe(sent[1]!.headers["idempotency-key"]);
    expect(emulator().renders().length).toBe(before + 1);
  });
});

describe("render --wait: trouble on the way", () => {
  it("a 429 burst on the status route is waited out, not hammered", async () => {
    emulator().addFault({
      route: "/api/render/status/*",
      times: 3,
      fault: { kind: "rate-limit", retryAfterSeconds: 1 },
    });
    const r = await cli(["render", "Throttled", "--wait", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const ev = ndjson(r.stdout);
    const id = ev[0]!.renderId as string;
    const gets = statusGets(id);
    const limited = gets.filter((g) => g.status === 429);
    expect(limited).toHaveLength(3);
    // After each 429 the next request waited the second the server asked for.
    for (const g of limited) {
      const next = gets[gets.indexOf(g) + 1]!;
      expect(next.time - g.time).toBeGreaterThanOrEqual(950);
    }
    expect(gets.length).toBeLessThanOrEqual(6);
    expect(ev.filter((e) => e.type === "throttled").length).toBeGreaterThanOrEqual(1);
    expect(ev.find((e) => e.type === "throttled")).toMatchObject({ reason: "retry-after" });
    expect(ev.at(-1)).toMatchObject({ type: "done", renderId: id });
  });

  it("an outage shorter than --max-outage is survived (503s and resets), with retry events", async () => {
    emulator().addFault({ route: "/api/render/status/*", times: 2, fault: { kind: "status", status: 503 } });
    emulator().addFault({ route: "/api/render/status/*", times: 1, fault: { kind: "reset-before" } });
    const r = await cli(["render", "Outage", "--wait", "--max-outage", "1m", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const ev = ndjson(r.stdout);
    const retries = ev.filter((e) => e.type === "retry");
    expect(retries.map((e) => e.reason)).toEqual(["server_error", "server_error", "connection_error"]);
    expect(retries.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(ev.at(-1)!.type).toBe("done");
  });

  it("an outage longer than --max-outage: exit 5 with the resume command", async () => {
    emulator().addFault({ route: "/api/render/status/*", fault: { kind: "status", status: 502 } });
    const r = await cli(["render", "Down", "--wait", "--max-outage", "2s"]);
    expect(r.code, r.stderr).toBe(5);
    const id = emulator().renders().at(-1)!.id;
    expect(r.stderr).toContain(`No usable answer about render ${id}`);
    expect(r.stderr).toContain(`Resume with: gigareels watch ${id} --base-url ${emulator().url}`);
    expect(r.stderr).toMatch(/no usable answer \(502 /);
  });

  it("HTML answers (a proxy's error page) are survived", async () => {
    emulator().addFault({ route: "/api/render/status/*", times: 2, fault: { kind: "html" } });
    const r = await cli(["render", "Proxy", "--wait", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const ev = ndjson(r.stdout);
    expect(ev.filter((e) => e.type === "retry").length).toBe(2);
    expect(ev.at(-1)!.type).toBe("done");
  });

  it("a render that ends in error: exit 6 with the server's message", async () => {
    emulator().setNextRenderOutcome("error", { error: "The prompt was refused by the content filter" });
    const r = await cli(["render", "Forbidden", "--wait"]);
    expect(r.code).toBe(6);
    const id = emulator().renders().at(-1)!.id;
    expect(r.stderr).toContain(`Error: Render ${id} failed: The prompt was refused by the content filter`);
  });

  it("a failure the server words 'Render failed: ...' is said once (no 'failed: Render failed')", async () => {
    emulator().setNextRenderOutcome("error");
    const r = await cli(["render", "Doubled", "--wait"]);
    expect(r.code).toBe(6);
    const id = emulator().renders().at(-1)!.id;
    expect(r.stderr).toContain(`Error: Render ${id} failed: The video could not be generated.`);
    emulator().setNextRenderOutcome("error", { error: "Render failed: no such character" });
    const again = await cli(["render", "Doubled", "--wait"]);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain("failed: no such character");
    expect(r.stderr + again.stderr).not.toMatch(/failed: Render failed/i);
  });

  it("--json: a failed render is an error event, then the error document on one line (exit 6)", async () => {
    emulator().setNextRenderOutcome("error", { error: "Out of credits" });
    const r = await cli(["render", "Forbidden", "--wait", "--json"]);
    expect(r.code).toBe(6);
    const ev = ndjson(r.stdout);
    expect(ev[0]!.type).toBe("submitted");
    expect(ev.at(-2)).toMatchObject({ type: "error", status: "error", message: "Out of credits" });
    expect(ev.at(-1)).toMatchObject({ error: { code: "render_failed", exitCode: 6 } });
    expect((ev.at(-1)!.error as { message: string }).message).toContain("Out of credits");
  });

  it("--timeout: exit 7 and the command to resume", async () => {
    emulator().setNextRenderOutcome("never");
    const r = await cli(["render", "Endless", "--wait", "--timeout", "2s"]);
    expect(r.code).toBe(7);
    const id = emulator().renders().at(-1)!.id;
    expect(r.stderr).toContain(`Render ${id} did not finish within 2 s; it may still be running`);
    expect(r.stderr).toContain(`Resume with: gigareels watch ${id} --base-url ${emulator().url}`);
    // --timeout alone follows too (as --output and --open do): the limit is not ignored
    emulator().setNextRenderOutcome("never");
    const alone = await cli(["render", "Endless", "--timeout", "1s"]);
    expect(alone.code).toBe(7);
    expect(alone.stderr).toContain("did not finish within 1 s");
    const j = await cli(["watch", id, "--timeout", "1s", "--json"]);
    expect(j.code).toBe(7);
    expect(ndjson(j.stdout).at(-1)).toMatchObject({ error: { code: "deadline_exceeded", exitCode: 7 } });
  });
});
