/** The SDK client against the emulator over real HTTP: methods, errors, faults, retries, secrecy. */
import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  GigaReels,
  type GigaReelsOptions,
  MalformedResponseError,
  NotFoundError,
  ServerError,
  TimeoutError,
} from "../../src/index.js";
import { expectNoFullKey } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator({ renderDurationMs: 150 });
const debugLines: string[] = [];
const messages: string[] = [];

function client(options: GigaReelsOptions = {}): GigaReels {
  const emu = emulator();
  return new GigaReels({
    apiKey: emu.keys[0],
    baseUrl: emu.url,
    env: { GIGAREELS_CONFIG_DIR: "/nonexistent-gigareels-config" },
    debug: (l) => debugLines.push(l),
    ...options,
  });
}

async function failure(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    messages.push(
      (e as Error).message,
      ...(((e as { suggestions?: string[] }).suggestions as string[]) ?? []),
    );
    return e as Error & Record<string, unknown>;
  }
  throw new Error("expected the call to fail");
}

function requestsTo(path: string, method = "GET") {
  return emulator().requests.filter((r) => r.path === path && r.method === method);
}

describe("methods", () => {
  it("creates an educational render, reads its status until done, with an Idempotency-Key", async () => {
    const c = client();
    const before = emulator().renders().length;
    const r = await c.templates.brainrot.educational({
      prompt: "Explain black holes",
      characterPack: "rick-and-morty",
      backgroundVideoPack: "minecraft-parkour",
    });
    expect(r.renderId).toMatch(/\S/);
    expect(r.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(emulator().renders()).toHaveLength(before + 1);
    expect(emulator().renders().at(-1)?.type).toBe("educational-brainrot");
    const post = requestsTo("/api/render", "POST").at(-1)!;
    expect(post.headers["idempotency-key"]).toBe(r.idempotencyKey);
    expect(post.headers["user-agent"]).toMatch(/^gigareels-sdk\/\S+ node\/\S+ \S+-\S+$/);

    let status = await c.getRenderStatus(r.renderId);
    expect(["queued", "rendering", "done"]).toContain(status.status);
    for (let i = 0; i < 100 && status.status !== "done"; i++) {
      await new Promise((res) => setTimeout(res, 50));
      status = await c.getTaskStatus(r.renderId);
    }
    expect(status.status).toBe("done");
    expect(status.outputFile).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(status.renderId).toBe(r.renderId);
    // The status group's rate-limit state was recorded (60 per minute).
    expect(c.rateLimit.status?.limit).toBe(60);
    expect(c.rateLimit.status?.resetAt).toBeGreaterThan(Date.now() - 1000);
  });

  it("creates text and split renders", async () => {
    const c = client();
    const t = await c.renderText({
      videoUrl: "https://example.com/v.mp4",
      textOverlays: [{ text: "Hi", position: { x: 1, y: 2 } }],
      textStyle: { fontFamily: "Inter", fontSize: 40, color: "#FFFFFF" },
    });
    const s = await c.renderSplit({ videoUrl: "https://example.com/v.mp4", position: "left" });
    expect(t.renderId).not.toBe(s.renderId);
    expect(c.rateLimit.render?.limit).toBe(10);
  });

  it("reuses a caller's idempotency key: the same render, not a second one", async () => {
    const c = client();
    const body = { type: "educational-brainrot", prompt: "p", characterPack: "a", backgroundVideoPack: "b" };
    const before = emulator().renders().length;
    const a = await c.render(body, { idempotencyKey: "my-key-123" });
    const b = await c.render(body, { idempotencyKey: "my-key-123" });
    expect(b.renderId).toBe(a.renderId);
    expect(emulator().renders()).toHaveLength(before + 1);
  });

  it("me() returns the account behind the key", async () => {
    const me = await client().me();
    expect(me.email).toMatch(/@/);
    expect(me.key?.id).toBeTruthy();
  });

  it("URL-encodes the id", async () => {
    const err = await failure(client().getRenderStatus("a/b?c"));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(requestsTo("/api/render/status/a%2Fb%3Fc")).toHaveLength(1);
  });
});

describe("errors", () => {
  it("401 for an unknown key, with the guide's wording", async () => {
    const bad = "giga_00000000000000000000000000000000";
    const err = await failure(client({ apiKey: bad }).me());
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toBe("401 Invalid API key");
    expectNoFullKey(JSON.stringify({ m: err.message, s: err.suggestions }), bad);
  });
  it("404 for an unknown render", async () => {
    const err = await failure(client().getTaskStatus("test_task_id"));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toMatch(/^404 /);
  });
  it("an HTML proxy page becomes a short error with status and content type", async () => {
    const emu = emulator();
    const remove = emu.addFault({ route: "/api/me", fault: { kind: "html" } });
    try {
      const err = await failure(client({ maxRetries: 1 }).me());
      expect(err).toBeInstanceOf(ServerError);
      expect(err.message).toBe("502 Bad Gateway (text/html answer from the server, not JSON)");
      expect(err.message).not.toMatch(/<|nginx/);
    } finally {
      remove();
    }
  });
  it("a 200 with truncated JSON becomes MalformedResponseError", async () => {
    const emu = emulator();
    emu.addFault({ route: "/api/render/status/*", times: 1, fault: { kind: "malformed-json" } });
    const err = await failure(client().getRenderStatus("whatever"));
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(err.message).toMatch(/^200 .*not valid JSON/);
  });
  it("a hung server gives TimeoutError", async () => {
    const emu = emulator();
    emu.addFault({ route: "/api/me", times: 1, fault: { kind: "hang" } });
    const err = await failure(client({ timeoutMs: 300, maxRetries: 0 }).me());
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe("timeout");
  });
});

describe("faults and retries", () => {
  it("a connection reset after the render was created does not create a second render", async () => {
    const emu = emulator();
    const before = emu.renders().length;
    const postsBefore = requestsTo("/api/render", "POST").length;
    emu.addFault({ route: "/api/render", method: "POST", times: 1, fault: { kind: "reset-after" } });
    const r = await client().templates.brainrot.educational({
      prompt: "reset",
      characterPack: "rick-and-morty",
      backgroundVideoPack: "minecraft-parkour",
    });
    expect(emu.renders()).toHaveLength(before + 1);
    expect(emu.renders().at(-1)?.id).toBe(r.renderId);
    const posts = requestsTo("/api/render", "POST").slice(postsBefore);
    expect(posts).toHaveLength(2);
    expect(posts[0]!.headers["idempotency-key"]).toBe(r.idempotencyKey);
    expect(posts[1]!.headers["idempotency-key"]).toBe(r.idempotencyKey);
  });

  it("an attempt that times out while the server is still creating the render is retried into one render", async () => {
    const emu = emulator();
    const before = emu.renders().length;
    const postsBefore = requestsTo("/api/render", "POST").length;
    emu.addFault({ route: "/api/render", method: "POST", times: 1, fault: { kind: "latency", ms: 400 } });
    const r = await client({ timeoutMs: 200, retry: { minGapMs: 400, random: () => 0 } }).render({
      type: "educational-brainrot",
      prompt: "slow",
      characterPack: "rick-and-morty",
      backgroundVideoPack: "minecraft-parkour",
    });
    // Let the first (abandoned) request finish on the server side before counting.
    await new Promise((res) => setTimeout(res, 300));
    expect(emu.renders()).toHaveLength(before + 1);
    expect(emu.renders().at(-1)?.id).toBe(r.renderId);
    const posts = requestsTo("/api/render", "POST").slice(postsBefore);
    expect(posts).toHaveLength(2);
    expect(new Set(posts.map((p) => p.headers["idempotency-key"]))).toEqual(new Set([r.idempotencyKey]));
  });

  it("a connection reset before the server read the request is retried into one render", async () => {
    const emu = emulator();
    const before = emu.renders().length;
    emu.addFault({ route: "/api/render/split", method: "POST", times: 1, fault: { kind: "reset-before" } });
    await client().renderSplit({ videoUrl: "https://example.com/v.mp4", position: "top" });
    expect(emu.renders()).toHaveLength(before + 1);
  });

  it("a 429 is retried no sooner than the server asked", async () => {
    const emu = emulator();
    const n = requestsTo("/api/me").length;
    emu.addFault({ route: "/api/me", times: 1, fault: { kind: "rate-limit", retryAfterSeconds: 1 } });
    await client().me();
    const seen = requestsTo("/api/me").slice(n);
    expect(seen.map((r) => r.status)).toEqual([429, 200]);
    expect(seen[1]!.time - seen[0]!.time).toBeGreaterThanOrEqual(1000);
    expect(debugLines.some((l) => l.includes("server asked 1 s via retry-after"))).toBe(true);
  });

  it("a 503 with Retry-After on a render POST is retried with the same key after the wait", async () => {
    const emu = emulator();
    const n = requestsTo("/api/render/text", "POST").length;
    emu.addFault({
      route: "/api/render/text",
      method: "POST",
      times: 1,
      fault: { kind: "status", status: 503, retryAfterSeconds: 1 },
    });
    const r = await client().renderText({
      videoUrl: "https://example.com/v.mp4",
      textOverlays: [{ text: "Hi", position: { x: 0, y: 0 } }],
    });
    const seen = requestsTo("/api/render/text", "POST").slice(n);
    expect(seen.map((x) => x.status)).toEqual([503, 200]);
    expect(seen[1]!.time - seen[0]!.time).toBeGreaterThanOrEqual(1000);
    expect(seen.map((x) => x.headers["idempotency-key"])).toEqual([r.idempotencyKey, r.idempotencyKey]);
  });

  it("no retry storm: consecutive attempts are at least the minimum gap apart", async () => {
    const emu = emulator();
    const n = requestsTo("/api/me").length;
    emu.addFault({ route: "/api/me", times: 4, fault: { kind: "status", status: 500 } });
    const err = await failure(client({ maxRetries: 3, retry: { random: () => 0 } }).me());
    expect(err).toBeInstanceOf(ServerError);
    const seen = requestsTo("/api/me").slice(n);
    expect(seen).toHaveLength(4);
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]!.time - seen[i - 1]!.time).toBeGreaterThanOrEqual(250);
  });

  it("a POST that is not a render is not retried after a reset", async () => {
    const emu = emulator();
    const n = requestsTo("/api/other", "POST").length;
    emu.addFault({ route: "/api/other", method: "POST", times: 1, fault: { kind: "reset-after" } });
    const err = await failure(client().requestRaw("/api/other", { method: "POST", json: {} }));
    expect(err.code).toBe("connection_error");
    expect(err.reason).toBe("reset");
    expect(requestsTo("/api/other", "POST").slice(n)).toHaveLength(1);
  });
});

describe("secrecy", () => {
  it("no error message, suggestion or debug line carries the key", () => {
    expect(debugLines.length).toBeGreaterThan(10);
    expect(messages.length).toBeGreaterThan(5);
    const key = emulator().keys[0]!;
    expectNoFullKey(debugLines.join("\n"), key);
    expectNoFullKey(messages.join("\n"), key);
    expect(debugLines.some((l) => l.includes(`Bearer giga_****${key.slice(-4)}`))).toBe(true);
  });
});

describe("stored CLI credentials", () => {
  it("new GigaReels() uses the stored key and its profile's base URL", async () => {
    const { saveCredentials } = await import("../../src/lib/credentials/index.js");
    const { tempConfigDir } = await import("../helpers/cli.js");
    const emu = emulator();
    const cfg = tempConfigDir();
    try {
      const env = { GIGAREELS_CONFIG_DIR: cfg.dir, GIGAREELS_CREDENTIAL_STORE: "file" };
      const second = emu.createKey({ email: "second@example.com" });
      await saveCredentials(
        { profile: "default", key: emu.keys[0]!, baseUrl: emu.url },
        { env, configDir: cfg.dir },
      );
      await saveCredentials({ profile: "work", key: second, baseUrl: emu.url }, { env, configDir: cfg.dir });
      expect(await GigaReels.isLoggedIn({ env })).toBe(true);

      const c = new GigaReels({ env, debug: (l) => debugLines.push(l) });
      expect((await c.me()).email).toMatch(/@/);
      expect(await c.credentials()).toEqual({
        source: "file",
        masked: `giga_****${emu.keys[0]!.slice(-4)}`,
        profile: "default",
        baseUrl: emu.url,
      });
      expect(c.baseUrl).toBe(emu.url);

      const w = new GigaReels({ env, profile: "work" });
      expect((await w.me()).email).toBe("second@example.com");
      expect((await w.credentials()).profile).toBe("work");
    } finally {
      cfg.cleanup();
    }
  });
});
