/** Fault injection over real HTTP: each fault kind, route and method matching, `times`, stop(). */
import { describe, expect, it } from "vitest";
import { api, SAMPLE_BODIES, startEmulator, useEmulator } from "../helpers/emulator.js";

const render = SAMPLE_BODIES["/api/render"];

/** A fetch that must fail at the network level; returns the error's cause code or message. */
async function networkFailure(p: Promise<Response>): Promise<string> {
  try {
    const res = await p;
    throw new Error(`expected a network failure, got HTTP ${res.status}`);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.message.startsWith("expected a network failure")) throw e;
    return e.cause?.code ?? e.cause?.message ?? e.message;
  }
}

describe("emulator: faults", () => {
  const emu = useEmulator({ rateLimits: false });

  it("latency delays the answer, then processes normally", async () => {
    emu().addFault({ route: "/api/me", fault: { kind: "latency", ms: 300 }, times: 1 });
    const started = performance.now();
    const res = await api(emu(), "/api/me");
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    // times: 1 -> the next request is not delayed (and answers normally).
    expect((await api(emu(), "/api/me")).status).toBe(200);
  });

  it("hang never answers (the client's own timeout fires)", async () => {
    const remove = emu().addFault({ route: "/api/render/status/*", fault: { kind: "hang" } });
    const failure = await networkFailure(
      api(emu(), "/api/render/status/rnd_1", { signal: AbortSignal.timeout(300) }),
    );
    expect(failure).toMatch(/abort|timeout/i);
    remove();
    expect((await api(emu(), "/api/render/status/rnd_1")).status).toBe(404);
  });

  it.each([500, 502, 503] as const)("status %i, with and without Retry-After", async (status) => {
    emu().addFault({ route: "/api/render", method: "POST", times: 2, fault: { kind: "status", status } });
    const plain = await api(emu(), "/api/render", { json: render });
    expect(plain.status).toBe(status);
    expect(plain.headers.get("retry-after")).toBeNull();
    // An error of the API itself still carries X-RateLimit-*, as every answer does.
    for (const h of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"])
      expect(plain.headers.get(h), h).toMatch(/^\d+$/);
    expect(((await plain.json()) as { error: string }).error).toBeTruthy();
    const again = await api(emu(), "/api/render", { json: render });
    expect(again.status).toBe(status);
    await again.arrayBuffer();
    emu().addFault({
      route: "/api/render",
      method: "POST",
      times: 1,
      fault: { kind: "status", status, retryAfterSeconds: 7 },
    });
    const withRetry = await api(emu(), "/api/render", { json: render });
    expect(withRetry.status).toBe(status);
    expect(withRetry.headers.get("retry-after")).toBe("7");
    await withRetry.arrayBuffer();
    expect((await api(emu(), "/api/render", { json: render })).status).toBe(200);
  });

  it("method filters: a POST-only fault leaves GET alone", async () => {
    emu().addFault({
      route: "/api/social-media/posts",
      method: "POST",
      fault: { kind: "status", status: 500 },
    });
    expect((await api(emu(), "/api/social-media/posts")).status).toBe(200);
    expect((await api(emu(), "/api/social-media/posts", { json: {} })).status).toBe(500);
    emu().clearFaults();
    expect((await api(emu(), "/api/social-media/posts", { json: {} })).status).toBe(201);
  });

  it("rate-limit answers a 429 burst with the published body and Retry-After", async () => {
    emu().addFault({
      route: "/api/render/status/*",
      times: 3,
      fault: { kind: "rate-limit", retryAfterSeconds: 2 },
    });
    for (let i = 0; i < 3; i++) {
      const res = await api(emu(), "/api/render/status/rnd_x");
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("2");
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(await res.json()).toEqual({ error: "Rate limit exceeded. Try again in 2 seconds." });
    }
    expect((await api(emu(), "/api/render/status/rnd_x")).status).toBe(404);
    emu().addFault({ route: "/api/me", times: 1, fault: { kind: "rate-limit" } });
    const res = await api(emu(), "/api/me");
    expect(await res.json()).toEqual({ error: "Rate limit exceeded. Try again in 60 seconds." });
  });

  it("reset-before destroys the connection without processing", async () => {
    const before = emu().renders().length;
    emu().addFault({ route: "/api/render", times: 1, fault: { kind: "reset-before" } });
    const failure = await networkFailure(api(emu(), "/api/render", { json: render }));
    expect(failure).toMatch(/ECONNRESET|socket|closed|terminated|other side/i);
    expect(emu().renders().length).toBe(before);
  });

  it("reset-after creates the render and records the idempotency entry, then drops the connection", async () => {
    const before = emu().renders().length;
    const headers = { "idempotency-key": "reset-after-1" };
    emu().addFault({ route: "/api/render", method: "POST", times: 1, fault: { kind: "reset-after" } });
    await networkFailure(api(emu(), "/api/render", { json: render, headers }));
    const renders = emu().renders();
    expect(renders.length).toBe(before + 1);
    // The retry with the same Idempotency-Key gets the render created by the lost answer.
    const retry = await api(emu(), "/api/render", { json: render, headers });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { renderId: string }).renderId).toBe(renders.at(-1)!.id);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(emu().renders().length).toBe(before + 1);
  });

  it("malformed-json answers 200 with a truncated JSON body", async () => {
    emu().addFault({ route: "/api/render/status/*", times: 1, fault: { kind: "malformed-json" } });
    const res = await api(emu(), "/api/render/status/rnd_x");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
  });

  it("html answers a proxy's 502 HTML page", async () => {
    emu().addFault({ route: "/api/*", times: 1, fault: { kind: "html" } });
    const res = await api(emu(), "/api/me");
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toContain("<h1>502 Bad Gateway</h1>");
  });

  it("revoke-key revokes the caller's key mid-session (401 from then on)", async () => {
    const key = emu().createKey();
    expect((await api(emu(), "/api/me", { key })).status).toBe(200);
    emu().addFault({ route: "/api/me", times: 1, fault: { kind: "revoke-key" } });
    const res = await api(emu(), "/api/me", { key });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "Invalid API key" });
    expect((await api(emu(), "/api/me", { key })).status).toBe(401);
    expect(emu().keyInfo(key)?.revoked).toBe(true);
  });

  it("logs every request with its status (0 when no answer was sent)", async () => {
    emu().addFault({ route: "/api/me", times: 1, fault: { kind: "reset-before" } });
    await networkFailure(api(emu(), "/api/me?x=1"));
    const entry = emu().requests.findLast((r) => r.path === "/api/me")!;
    expect(entry.method).toBe("GET");
    expect(entry.query).toBe("x=1");
    expect(entry.status).toBe(0);
    await api(emu(), "/api/render", { json: render });
    const post = emu().requests.findLast((r) => r.path === "/api/render")!;
    expect(post.status).toBe(200);
    expect(JSON.parse(post.body!)).toEqual(render);
  });
});

describe("emulator: stop()", () => {
  it("closes hung requests and frees the port", async () => {
    const emu = await startEmulator({ port: 0 });
    emu.addFault({ route: "/api/me", fault: { kind: "hang" } });
    const pending = networkFailure(api(emu, "/api/me"));
    await new Promise((r) => setTimeout(r, 100));
    await emu.stop();
    expect(await pending).toBeTruthy();
    const again = await startEmulator({ port: emu.port });
    expect(again.port).toBe(emu.port);
    await again.stop();
  });

  it("reports a taken port with a port_in_use error", async () => {
    const emu = await startEmulator({ port: 0 });
    try {
      await expect(startEmulator({ port: emu.port })).rejects.toMatchObject({
        code: "port_in_use",
        message: expect.stringContaining(String(emu.port)),
      });
    } finally {
      await emu.stop();
    }
  });
});
