/**
 * The transport against a tiny local HTTP server (real sockets on 127.0.0.1, port 0), for
 * cases the emulator has no fault for: cross-origin redirects, clock skew, exotic bodies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AbortedError,
  AuthenticationError,
  ConnectionError,
  CrossOriginRedirectError,
  MalformedResponseError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../../src/lib/sdk/errors.js";
import { GigaReels } from "../../src/lib/sdk/client.js";
import { Transport, type TransportConfig } from "../../src/lib/sdk/transport.js";

const KEY = "giga_abcdefghijklmnopqrstuvwxyz123456";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

function startServer(): Promise<{ server: Server; url: string; seen: Seen[]; handle: (h: Handler) => void }> {
  const seen: Seen[] = [];
  let handler: Handler = (_q, s) => s.end("{}");
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, at: Date.now() });
      handler(req, res, body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://127.0.0.1:${port}`,
        seen,
        handle: (h) => {
          handler = h;
        },
      });
    });
  });
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

let srv: Awaited<ReturnType<typeof startServer>>;
let other: Awaited<ReturnType<typeof startServer>>;
const lines: string[] = [];

function transport(extra: Partial<TransportConfig> = {}): Transport {
  return new Transport({
    baseUrl: srv.url,
    apiKey: async () => KEY,
    retry: { baseDelayMs: 10, maxDelayMs: 50, minGapMs: 20 },
    debug: (l) => lines.push(l),
    ...extra,
  });
}

beforeAll(async () => {
  srv = await startServer();
  other = await startServer();
});
afterAll(() => {
  srv.server.close();
  other.server.close();
});
beforeEach(() => {
  srv.seen.length = 0;
  other.seen.length = 0;
  lines.length = 0;
});

describe("headers", () => {
  it("sends Bearer, a User-Agent naming the SDK, Node and the OS, and Accept JSON", async () => {
    srv.handle((_q, s) => json(s, 200, { ok: true }));
    const r = await transport().request<{ ok: boolean }>({ method: "GET", path: "/api/me" });
    expect(r.data).toEqual({ ok: true });
    const h = srv.seen[0]!.headers;
    expect(h.authorization).toBe(`Bearer ${KEY}`);
    expect(h["user-agent"]).toMatch(
      new RegExp(
        `^gigareels-sdk/\\d+\\.\\d+\\.\\d+\\S* node/${process.versions.node} ${process.platform}-${process.arch}$`,
      ),
    );
    expect(h.accept).toBe("application/json");
  });
  it("sends no Authorization for form requests and encodes the fields", async () => {
    srv.handle((_q, s) => json(s, 400, { error: "authorization_pending" }));
    const r = await transport().form("/api/oauth/token", { grant_type: "x", device_code: "a b&c" });
    expect(r).toMatchObject({ status: 400, body: { error: "authorization_pending" } });
    expect(srv.seen[0]!.headers.authorization).toBeUndefined();
    expect(srv.seen[0]!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(srv.seen[0]!.body).toBe("grant_type=x&device_code=a+b%26c");
  });
});

describe("error mapping", () => {
  it("maps 401 to AuthenticationError with the status first", async () => {
    srv.handle((_q, s) => json(s, 401, { error: "Invalid API key" }));
    const err = await transport()
      .request({ method: "GET", path: "/api/me" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.message).toBe("401 Invalid API key");
    expect(err.status).toBe(401);
    expect(err.body).toEqual({ error: "Invalid API key" });
    expect(srv.seen).toHaveLength(1);
  });
  it("maps 404 and does not retry it", async () => {
    srv.handle((_q, s) => json(s, 404, { error: "Render not found" }));
    const err = await transport()
      .request({ method: "GET", path: "/api/render/status/x" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.message).toBe("404 Render not found");
    expect(srv.seen).toHaveLength(1);
  });
  it("turns an HTML error page into a short error naming status and content type", async () => {
    srv.handle((_q, s) => {
      s.writeHead(502, { "content-type": "text/html; charset=utf-8" });
      s.end("<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>");
    });
    const err = await transport({ maxRetries: 0 })
      .request({ method: "GET", path: "/api/me" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err.message).toBe("502 Bad Gateway (text/html answer from the server, not JSON)");
    expect(err.message).not.toContain("<");
  });
  it("turns a 2xx with malformed JSON into MalformedResponseError", async () => {
    srv.handle((_q, s) => {
      s.writeHead(200, { "content-type": "application/json" });
      s.end('{"status": "done", ');
    });
    const err = await transport()
      .request({ method: "GET", path: "/api/me" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(err.message).toMatch(/^200 .*not valid JSON/);
  });
  it("maps a refused connection to ConnectionError(refused)", async () => {
    const closed = await startServer();
    const url = closed.url;
    await new Promise((r) => closed.server.close(r));
    const err = await transport({ baseUrl: url, maxRetries: 0 })
      .request({ method: "GET", path: "/api/me" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.reason).toBe("refused");
  });
});

describe("raw and form answers", () => {
  it("send() returns an error status with headers and bytes instead of throwing", async () => {
    srv.handle((_q, s) => json(s, 418, { error: "teapot" }, { "x-thing": "1" }));
    const r = await transport().send({
      method: "DELETE",
      path: "/api/x",
      query: { a: [1, 2], b: undefined },
    });
    expect(r.status).toBe(418);
    expect(r.headers["x-thing"]).toBe("1");
    expect(JSON.parse(r.text())).toEqual({ error: "teapot" });
    expect(srv.seen[0]!.url).toBe("/api/x?a=1&a=2");
  });
  it("form() throws a short error for a 5xx HTML page", async () => {
    srv.handle((_q, s) => {
      s.writeHead(503, { "content-type": "text/html" });
      s.end("<h1>down</h1>");
    });
    const err = await transport()
      .form("/api/oauth/token", { a: "b" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(err.message).toBe("503 Service Unavailable (text/html answer from the server, not JSON)");
    expect(srv.seen).toHaveLength(1);
  });
  it("refuses an absolute path on another origin before sending", async () => {
    const err = await transport()
      .request({ method: "GET", path: `${other.url}/api/me` })
      .catch((e) => e);
    expect(err).toBeInstanceOf(CrossOriginRedirectError);
    expect(other.seen).toHaveLength(0);
  });
});

describe("redirects", () => {
  it("follows a same-origin redirect with the key", async () => {
    srv.handle((q, s) => {
      if (q.url === "/old") {
        s.writeHead(307, { location: "/api/me" });
        s.end();
      } else json(s, 200, { id: "u1" });
    });
    const r = await transport().request({ method: "GET", path: "/old" });
    expect(r.data).toEqual({ id: "u1" });
    expect(srv.seen.map((x) => x.url)).toEqual(["/old", "/api/me"]);
    expect(srv.seen[1]!.headers.authorization).toBe(`Bearer ${KEY}`);
  });
  it("refuses a redirect to another origin and never sends anything there", async () => {
    srv.handle((_q, s) => {
      s.writeHead(302, { location: `${other.url}/api/me` });
      s.end();
    });
    const err = await transport()
      .request({ method: "GET", path: "/api/me" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(CrossOriginRedirectError);
    expect(err.message).toContain("another origin");
    expect(other.seen).toHaveLength(0);
    expect(srv.seen).toHaveLength(1);
  });
});

describe("retries", () => {
  it("retries a GET on 503 honouring Retry-After", async () => {
    let n = 0;
    srv.handle((_q, s) => {
      n++;
      if (n === 1) json(s, 503, { error: "busy" }, { "retry-after": "1" });
      else json(s, 200, { ok: 1 });
    });
    const r = await transport().request({ method: "GET", path: "/api/me" });
    expect(r.raw.attempts).toBe(2);
    expect(srv.seen[1]!.at - srv.seen[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(lines.some((l) => /retrying GET .* server asked 1 s via retry-after/.test(l))).toBe(true);
  });
  it("waits for X-RateLimit-Reset measured on the server's clock (local clock skewed)", async () => {
    let n = 0;
    srv.handle((_q, s) => {
      n++;
      // The server's clock is 1 hour behind ours; the window resets 1 s after its "now".
      const serverNow = Date.now() - 3_600_000;
      const date = new Date(Math.floor(serverNow / 1000) * 1000);
      if (n === 1)
        json(
          s,
          429,
          { error: "Rate limit exceeded" },
          {
            date: date.toUTCString(),
            "x-ratelimit-limit": "10",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": String(date.getTime() / 1000 + 1),
          },
        );
      else json(s, 200, { ok: 1 });
    });
    const t = transport();
    await t.request({ method: "GET", path: "/api/render/status/a" });
    expect(srv.seen).toHaveLength(2);
    expect(srv.seen[1]!.at - srv.seen[0]!.at).toBeGreaterThanOrEqual(1000);
    // The rate-limit state was recorded for the status group, reset in local time.
    const rl = t.rateLimit("status");
    expect(rl?.limit).toBe(10);
    expect(lines.some((l) => l.includes("via x-ratelimit-reset"))).toBe(true);
  });
  it("does not retry a POST without an idempotency key", async () => {
    srv.handle((_q, s) => json(s, 503, { error: "busy" }, { "retry-after": "0" }));
    const err = await transport()
      .request({ method: "POST", path: "/api/render", json: {} })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ServerError);
    expect(srv.seen).toHaveLength(1);
  });
  it("retries a POST with an idempotency key, sending the same key every time", async () => {
    let n = 0;
    srv.handle((_q, s) => {
      n++;
      if (n < 3) json(s, 500, { error: "oops" });
      else json(s, 200, { renderId: "r1" });
    });
    await transport().request({ method: "POST", path: "/api/render", json: { a: 1 }, idempotencyKey: "k-1" });
    expect(srv.seen).toHaveLength(3);
    expect(srv.seen.map((x) => x.headers["idempotency-key"])).toEqual(["k-1", "k-1", "k-1"]);
    expect(srv.seen.map((x) => x.body)).toEqual(['{"a":1}', '{"a":1}', '{"a":1}']);
  });
  it("keeps a minimum gap between attempts even when backoff says 0", async () => {
    srv.handle((_q, s) => json(s, 500, { error: "oops" }));
    await transport({ maxRetries: 3, retry: { baseDelayMs: 10, minGapMs: 150, random: () => 0 } })
      .request({ method: "GET", path: "/api/me" })
      .catch(() => {});
    expect(srv.seen).toHaveLength(4);
    for (let i = 1; i < srv.seen.length; i++) {
      expect(srv.seen[i]!.at - srv.seen[i - 1]!.at).toBeGreaterThanOrEqual(150);
    }
  });
  it("fails at once with the wait when the server asks for more than it will wait", async () => {
    srv.handle((_q, s) =>
      json(
        s,
        429,
        { error: "Rate limit exceeded. Try again in 60 seconds." },
        {
          "x-ratelimit-limit": "10",
          "x-ratelimit-remaining": "0",
        },
      ),
    );
    const err = await transport({ retry: { maxServerWaitMs: 5000 } })
      .request({ method: "POST", path: "/api/render", json: {}, idempotencyKey: "k" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.message).toBe("429 Rate limit exceeded. Try again in 60 seconds.");
    expect(err.retryAfterMs).toBe(60_000);
    expect(err.rateLimit).toEqual({ limit: 10, remaining: 0, resetAt: null });
    expect(err.suggestions[0]).toBe("Wait 60 s and try again");
    expect(srv.seen).toHaveLength(1);
  });
  it("times out an attempt that gets no answer, and retries a GET", async () => {
    let n = 0;
    srv.handle((_q, s) => {
      n++;
      if (n === 1) return; // never answer
      json(s, 200, { ok: 1 });
    });
    const r = await transport({ timeoutMs: 300 }).request({ method: "GET", path: "/api/me" });
    expect(r.raw.attempts).toBe(2);
  });
  it("times out an attempt whose body stalls after the headers (ky's timeout stops at the headers), and retries a GET", async () => {
    let n = 0;
    srv.handle((_q, s) => {
      n++;
      s.writeHead(200, { "content-type": "application/json" });
      if (n === 1)
        s.write('{"ok":'); // then nothing more
      else s.end('{"ok":1}');
    });
    const r = await transport({ timeoutMs: 300 }).request({ method: "GET", path: "/api/me" });
    expect(r.data).toEqual({ ok: 1 });
    expect(r.raw.attempts).toBe(2);
    expect(lines.some((l) => /Request timed out: no answer to GET \/api\/me within 300 ms/.test(l))).toBe(
      true,
    );
    expect(lines.some((l) => /retrying GET .* \(timeout; backoff\)/.test(l))).toBe(true);
  });
  it("stops at the overall deadline with TimeoutError", async () => {
    srv.handle(() => {});
    const err = await transport({ timeoutMs: 200, deadlineMs: 500 })
      .request({ method: "GET", path: "/api/me" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
  });
});

describe("cancellation", () => {
  it("an AbortSignal interrupts the sleep between retries", async () => {
    srv.handle((_q, s) => json(s, 503, { error: "busy" }, { "retry-after": "30" }));
    const ctl = new AbortController();
    const p = transport().request({ method: "GET", path: "/api/me", signal: ctl.signal });
    setTimeout(() => ctl.abort(), 200);
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(srv.seen).toHaveLength(1);
  });
  it("an AbortSignal interrupts a request in flight", async () => {
    srv.handle(() => {});
    const ctl = new AbortController();
    const p = transport().request({ method: "GET", path: "/api/me", signal: ctl.signal });
    setTimeout(() => ctl.abort(), 100);
    await expect(p).rejects.toBeInstanceOf(AbortedError);
  });
});

describe("debug log", () => {
  it("has a request and an answer line for every redirect hop (ky's hooks), the key masked in each", async () => {
    srv.handle((q, s) => {
      if (q.url === "/old") {
        s.writeHead(307, { location: "/api/me" });
        s.end();
      } else json(s, 200, {}, { "x-ratelimit-limit": "60", "x-ratelimit-remaining": "59" });
    });
    await transport().request({ method: "GET", path: "/old" });
    const shown = lines.map((l) =>
      l.replace(/http:\/\/127\.0\.0\.1:\d+/g, "U").replace(/\(\d+ ms\)/, "(N ms)"),
    );
    expect(shown.map((l) => l.replace(/ \[.*\]$/, ""))).toEqual([
      "gigareels:http -> GET U/old (attempt 1/3)",
      "gigareels:http <- 307 GET U/old (N ms)",
      "gigareels:http redirect to U/api/me",
      "gigareels:http -> GET U/api/me (attempt 1/3)",
      "gigareels:http <- 200 GET U/api/me (N ms) ratelimit 59/60",
    ]);
    expect(lines.filter((l) => l.includes("authorization: Bearer giga_****3456"))).toHaveLength(2);
    expect(lines.join("\n")).not.toContain(KEY);
  });
  it("shows method, URL, status and timing, with the key masked", async () => {
    srv.handle((_q, s) => json(s, 200, {}));
    await transport().request({ method: "GET", path: "/api/me", query: { a: "1" } });
    const text = lines.join("\n");
    expect(text).toMatch(/-> GET http:\/\/127\.0\.0\.1:\d+\/api\/me\?a=1/);
    expect(text).toMatch(/<- 200 GET .* \(\d+ ms\)/);
    expect(text).toContain("authorization: Bearer giga_****3456");
    expect(text).not.toContain(KEY);
  });
});

describe("the client tolerates a real server that differs from the emulator (contract part B)", () => {
  const client = () =>
    new GigaReels({
      apiKey: KEY,
      baseUrl: srv.url,
      env: { GIGAREELS_CONFIG_DIR: "/nonexistent-gigareels-config" },
      maxRetries: 0,
    });
  const brainrot = { prompt: "p", characterPack: "rick-and-morty", backgroundVideoPack: "minecraft-parkour" };

  it("reads the render id from renderId, else taskId, else id", async () => {
    const answers = [
      { success: true, renderId: "r-1", taskId: "t-ignored", id: "i-ignored" },
      { success: true, taskId: "t-2", id: "i-ignored" },
      { id: 42 },
    ];
    srv.handle((_q, s) => json(s, 200, answers.shift()));
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await client().templates.brainrot.educational(brainrot)).renderId);
    expect(ids).toEqual(["r-1", "t-2", "42"]);
    expect(srv.seen.map((x) => JSON.parse(x.body).type)).toEqual(Array(3).fill("educational-brainrot"));
  });

  it("an accepted render without any id is a MalformedResponseError naming the key to retry with", async () => {
    srv.handle((_q, s) => json(s, 200, { success: true }));
    const err = await client()
      .render({ type: "educational-brainrot", prompt: "p" }, { idempotencyKey: "idem-1" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(err.message).toBe(
      "200 The server accepted POST /api/render but its answer has no renderId, taskId or id",
    );
    expect(err.suggestions.join(" ")).toContain("idem-1");
  });

  it("keeps unknown status words and fields, and reads a numeric progress sent as a string", async () => {
    srv.handle((_q, s) => json(s, 200, { status: "processing", progress: "42", eta: 17 }));
    const st = await client().getTaskStatus("t-9");
    expect(st).toEqual({ renderId: "t-9", status: "processing", progress: 42, eta: 17 });
  });

  it("a status answer without a status field is a MalformedResponseError, not a silent 'not finished'", async () => {
    srv.handle((_q, s) => json(s, 200, { state: "done" }));
    const err = await client()
      .getRenderStatus("t-9")
      .catch((e) => e);
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(err.message).toMatch(/^200 .*no "status" field/);
  });
});
