/** The emulator's API surface over real HTTP: renders, status, keys, errors, /api/me, files. */
import { describe, expect, it } from "vitest";
import { api, SAMPLE_BODIES, useEmulator, waitForRender } from "../helpers/emulator.js";

const INVALID = { error: "Invalid API key" };

describe("emulator: keys and authentication", () => {
  const emu = useEmulator({ renderDurationMs: 100, rateLimits: false });

  it("starts with one generated key in the published format", () => {
    expect(emu().keys).toHaveLength(1);
    expect(emu().keys[0]).toMatch(/^giga_[A-Za-z0-9]{32}$/);
    expect(emu().url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each([
    ["missing", null],
    ["malformed", "giga_short"],
    ["not a giga key", `sk_${"a".repeat(32)}`],
    ["unknown", `giga_${"A".repeat(32)}`],
  ])("answers 401 Invalid API key for a %s key", async (_what, key) => {
    const res = await api(emu(), "/api/me", { key });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(INVALID);
    expect(res.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
  });

  it("answers 401 for a revoked key, and keyInfo says revoked", async () => {
    const key = emu().createKey();
    expect((await api(emu(), "/api/me", { key })).status).toBe(200);
    emu().revokeKey(key);
    const res = await api(emu(), "/api/me", { key });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(INVALID);
    expect(emu().keyInfo(key)?.revoked).toBe(true);
  });

  it("GET /api/me describes the account and the key, with createdAt from createKey", async () => {
    const createdAt = new Date("2025-01-02T03:04:05.000Z");
    const key = emu().createKey({ createdAt, email: "ada@example.com", name: "Ada", plan: "team" });
    const res = await api(emu(), "/api/me", { key });
    expect(res.status).toBe(200);
    const me = (await res.json()) as Record<string, unknown>;
    const info = emu().keyInfo(key)!;
    expect(me).toEqual({
      id: info.account.id,
      email: "ada@example.com",
      name: "Ada",
      plan: "team",
      key: { id: info.id, name: info.name, createdAt: "2025-01-02T03:04:05.000Z" },
    });
  });

  it("accepts keys given at start", async () => {
    const key = `giga_${"k".repeat(28)}Abc1`;
    const { startEmulator } = await import("../helpers/emulator.js");
    const other = await startEmulator({ port: 0, keys: [key] });
    try {
      expect(other.keys).toEqual([key]);
      expect((await api(other, "/api/me", { key })).status).toBe(200);
    } finally {
      await other.stop();
    }
  });

  it("redacts the key in the request log", async () => {
    const key = emu().keys[0]!;
    await api(emu(), "/api/me");
    const entry = emu().requests.findLast((r) => r.path === "/api/me")!;
    expect(entry.headers.authorization).toBe(`Bearer giga_****${key.slice(-4)}`);
    expect(entry.keyLast4).toBe(key.slice(-4));
    expect(entry.status).toBe(200);
    expect(JSON.stringify(emu().requests)).not.toContain(key);
  });

  it("unknown /api paths answer 404 Not found, wrong methods 405", async () => {
    const res = await api(emu(), "/api/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "Not found" });
    expect(res.headers.get("x-ratelimit-remaining")).toMatch(/^\d+$/);
    const wrong = await api(emu(), "/api/render");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
  });

  it("a body over 1 MiB answers 413 with X-RateLimit-*, and the next request is answered normally", async () => {
    const big = await api(emu(), "/api/render", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"prompt":"${"x".repeat(2 * 1024 * 1024)}"}`,
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: "Request body too large" });
    for (const h of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"])
      expect(big.headers.get(h), h).toMatch(/^\d+$/);
    // The unread rest of the body must not poison a kept-alive connection for the next request.
    for (let i = 0; i < 3; i++) expect((await api(emu(), "/api/me")).status).toBe(200);
  });
});

describe("emulator: renders", () => {
  const emu = useEmulator({ renderDurationMs: 300, rateLimits: false });

  it.each(Object.entries(SAMPLE_BODIES))("POST %s creates a render that finishes", async (path, body) => {
    const res = await api(emu(), path, { json: body });
    expect(res.status).toBe(200);
    const created = (await res.json()) as { success: boolean; renderId: string };
    expect(created.success).toBe(true);
    expect(created.renderId).toMatch(/^rnd_/);
    const done = await waitForRender(emu(), created.renderId);
    expect(done).toEqual({
      status: "done",
      progress: 100,
      outputFile: `${emu().url}/files/${created.renderId}.mp4`,
    });
  });

  it("reports queued, then rendering with progress, then done", async () => {
    emu().setRenderDurationMs(1000);
    try {
      const { renderId } = (await (
        await api(emu(), "/api/render", { json: SAMPLE_BODIES["/api/render"] })
      ).json()) as { renderId: string };
      const seen = new Set<string>();
      const progress: number[] = [];
      for (;;) {
        const s = (await (await api(emu(), `/api/render/status/${renderId}`)).json()) as {
          status: string;
          progress: number;
        };
        seen.add(s.status);
        if (s.status === "rendering") progress.push(s.progress);
        if (s.status === "done") break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect([...seen]).toEqual(["queued", "rendering", "done"]);
      expect(progress.every((p) => p >= 0 && p <= 99)).toBe(true);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
    } finally {
      emu().setRenderDurationMs(300);
    }
  });

  it("setNextRenderOutcome('error') fails the next render with a message", async () => {
    emu().setNextRenderOutcome("error", { error: "Character pack unavailable" });
    const { renderId } = (await (
      await api(emu(), "/api/render", { json: SAMPLE_BODIES["/api/render"] })
    ).json()) as { renderId: string };
    expect(await waitForRender(emu(), renderId)).toEqual({
      status: "error",
      error: "Character pack unavailable",
    });
    expect(
      emu()
        .renders()
        .find((r) => r.id === renderId)?.status,
    ).toBe("error");
  });

  it("setNextRenderOutcome('never') keeps a render rendering", async () => {
    emu().setNextRenderOutcome("never");
    const { renderId } = (await (
      await api(emu(), "/api/render", { json: SAMPLE_BODIES["/api/render"] })
    ).json()) as { renderId: string };
    await new Promise((r) => setTimeout(r, 500));
    const s = (await (await api(emu(), `/api/render/status/${renderId}`)).json()) as Record<string, unknown>;
    expect(s.status).toBe("rendering");
    expect(s.progress).toBe(99);
  });

  it("unknown render ids answer 404 Render not found, also for another account's render", async () => {
    const res = await api(emu(), "/api/render/status/rnd_nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "Render not found" });
    const { renderId } = (await (
      await api(emu(), "/api/render", { json: SAMPLE_BODIES["/api/render"] })
    ).json()) as { renderId: string };
    const stranger = emu().createKey({ email: "stranger@example.com" });
    const other = await api(emu(), `/api/render/status/${renderId}`, { key: stranger });
    expect(other.status).toBe(404);
  });

  it("a free plan may not use /api/render/split (403), but may use /api/render", async () => {
    const key = emu().createKey({ plan: "free", email: "free@example.com" });
    const res = await api(emu(), "/api/render/split", { key, json: SAMPLE_BODIES["/api/render/split"] });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: "Insufficient permissions for this operation" });
    const ok = await api(emu(), "/api/render", { key, json: SAMPLE_BODIES["/api/render"] });
    expect(ok.status).toBe(200);
  });

  const invalid: [string, unknown, string][] = [
    ["/api/render", "not json", "Request body must be valid JSON"],
    ["/api/render", [], "Request body must be a JSON object"],
    ["/api/render", { prompt: "x" }, "type is required"],
    ["/api/render", { type: "educational-brainrot" }, "prompt is required"],
    ["/api/render", { type: "a", prompt: "b", characterPack: 3 }, "characterPack must be a non-empty string"],
    ["/api/render/text", { textOverlays: [] }, "videoUrl is required"],
    ["/api/render/text", { videoUrl: "ftp://x/y" }, "videoUrl must be an http(s) URL"],
    ["/api/render/text", { videoUrl: "https://x/y.mp4" }, "textOverlays is required"],
    [
      "/api/render/text",
      { videoUrl: "https://x/y.mp4", textOverlays: [] },
      "textOverlays must be a non-empty list",
    ],
    [
      "/api/render/text",
      { videoUrl: "https://x/y.mp4", textOverlays: [{ text: "a", position: { x: "1", y: 2 } }] },
      "textOverlays[0].position.x must be a number",
    ],
    [
      "/api/render/text",
      {
        videoUrl: "https://x/y.mp4",
        textOverlays: [{ text: "a", position: { x: 1, y: 2 } }],
        textStyle: { color: "red" },
      },
      'textStyle.color must be a colour like "#RRGGBB"',
    ],
    [
      "/api/render/text",
      {
        videoUrl: "https://x/y.mp4",
        textOverlays: [{ text: "a", position: { x: 1, y: 2 } }],
        textStyle: { fontSize: "big" },
      },
      "textStyle.fontSize must be a positive number",
    ],
    ["/api/render/split", { videoUrl: "https://x/y.mp4" }, "position is required"],
    [
      "/api/render/split",
      { videoUrl: "https://x/y.mp4", position: "middle" },
      "position must be one of left, right, top, bottom",
    ],
    [
      "/api/render/split",
      { videoUrl: "https://x/y.mp4", position: "top", objectFit: "fill" },
      "objectFit must be one of cover, contain",
    ],
    [
      "/api/render/split",
      { videoUrl: "https://x/y.mp4", position: "top", brollVideo: "nope" },
      "brollVideo must be an http(s) URL",
    ],
  ];
  it.each(invalid)("POST %s with %j answers 400 %s", async (path, body, message) => {
    const res = await api(emu(), path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: message });
  });
});

describe("emulator: Idempotency-Key", () => {
  const emu = useEmulator({ rateLimits: false });
  const body = SAMPLE_BODIES["/api/render/text"];

  it("replays the first answer for the same key and body (one render created)", async () => {
    const before = emu().renders().length;
    const headers = { "idempotency-key": "abc-123" };
    const first = await api(emu(), "/api/render/text", { json: body, headers });
    const second = await api(emu(), "/api/render/text", { json: { ...body }, headers });
    expect(second.status).toBe(first.status);
    const a = await first.json();
    expect(await second.json()).toEqual(a);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(emu().renders().length).toBe(before + 1);
  });

  it("replays a 400 answer too", async () => {
    const headers = { "idempotency-key": "bad-body-1" };
    const first = await api(emu(), "/api/render", { json: { prompt: "x" }, headers });
    const second = await api(emu(), "/api/render", { json: { prompt: "x" }, headers });
    expect(first.status).toBe(400);
    expect(second.status).toBe(400);
  });

  it("answers 422 when the key is reused with a different body", async () => {
    const headers = { "idempotency-key": "abc-456" };
    expect((await api(emu(), "/api/render/text", { json: body, headers })).status).toBe(200);
    const res = await api(emu(), "/api/render/text", {
      json: { ...body, videoUrl: "https://other/x.mp4" },
      headers,
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: "Idempotency-Key was used with a different request body" });
  });

  it("different keys create different renders", async () => {
    const a = (await (
      await api(emu(), "/api/render/text", { json: body, headers: { "idempotency-key": "k1" } })
    ).json()) as { renderId: string };
    const b = (await (
      await api(emu(), "/api/render/text", { json: body, headers: { "idempotency-key": "k2" } })
    ).json()) as { renderId: string };
    expect(a.renderId).not.toBe(b.renderId);
  });

  it("rejects keys longer than 255 characters with 400", async () => {
    const ok = await api(emu(), "/api/render", {
      json: SAMPLE_BODIES["/api/render"],
      headers: { "idempotency-key": "x".repeat(255) },
    });
    expect(ok.status).toBe(200);
    const res = await api(emu(), "/api/render", {
      json: SAMPLE_BODIES["/api/render"],
      headers: { "idempotency-key": "x".repeat(256) },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/Idempotency-Key/);
  });
});

describe("emulator: social media", () => {
  const emu = useEmulator();

  it("lists accounts, creates and lists posts, under the social-media rate-limit group", async () => {
    const accounts = await api(emu(), "/api/social-media/accounts");
    expect(accounts.status).toBe(200);
    expect(await accounts.json()).toEqual({ accounts: [] });
    expect(accounts.headers.get("x-ratelimit-limit")).toBe("30");
    const created = await api(emu(), "/api/social-media/posts", {
      json: { caption: "hi", videoUrl: "https://x/y" },
    });
    expect(created.status).toBe(201);
    const post = (await created.json()) as Record<string, unknown>;
    expect(post).toMatchObject({ caption: "hi", status: "scheduled" });
    expect(post.id).toMatch(/^post_/);
    const list = (await (await api(emu(), "/api/social-media/posts")).json()) as { posts: unknown[] };
    expect(list.posts).toEqual([post]);
    const unknown = await api(emu(), "/api/social-media/other");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-ratelimit-limit")).toBe("30");
  });
});
