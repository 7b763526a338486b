/**
 * socket-fetch (src/lib/net/socket-fetch.ts), the SDK's fetch on Node: against a raw
 * TCP server on 127.0.0.1 that writes the answer byte for byte as each test wants it (split
 * heads, chunked bodies cut at every awkward place, early closes, interim answers).
 */
import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { socketBody, socketFetch } from "../../src/lib/net/socket-fetch.js";

interface Raw {
  url: string;
  /** The request heads received, in order. */
  heads: string[];
  /** Resolves when the client's side of each connection closed. */
  closed: Promise<void>[];
  server: Server;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.close();
  }
});

/** A server that reads each request's head, then hands the socket (and what came after the head) to `answer`. */
async function raw(answer: (socket: Socket, head: string, rest: string) => unknown): Promise<Raw> {
  const heads: string[] = [];
  const closed: Promise<void>[] = [];
  const server = createServer((socket) => {
    closed.push(new Promise<void>((resolve) => socket.on("close", () => resolve()))); // a reset too
    socket.on("error", () => {});
    let got = "";
    const onData = (d: Buffer) => {
      got += d.toString("latin1");
      const end = got.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      heads.push(got.slice(0, end));
      void answer(socket, got.slice(0, end), got.slice(end + 4));
    };
    socket.on("data", onData);
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, heads, closed, server };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const notCalled: Parameters<typeof socketFetch>[0] = async () => {
  throw new Error("the fallback fetch was called");
};
const get = (url: string, init: RequestInit = {}) =>
  socketFetch(notCalled)(new Request(url, { redirect: "manual", ...init }));

/** The body through the fast reader; also checks every chunk after the first shares one buffer. */
async function pumped(res: Response): Promise<{ text: string; buffers: Set<ArrayBufferLike> }> {
  const fast = socketBody(res);
  if (!fast) throw new Error("no fast reader");
  const parts: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  await fast.pump((chunk) => {
    buffers.add(chunk.buffer);
    parts.push(Buffer.from(chunk)); // a copy: the view is reused after the callback
    return undefined;
  });
  return { text: Buffer.concat(parts).toString("latin1"), buffers };
}

describe("socketFetch: the request it sends", () => {
  it("is one HTTP/1.1 GET with the caller's headers, Host with the port, no compression, Connection: close", async () => {
    const s = await raw((sock) => sock.end("HTTP/1.1 204 No Content\r\n\r\n"));
    const res = await get(`${s.url}/files/a.mp4?sig=x`, {
      headers: { range: "bytes=5-", "user-agent": "gigareels-test" },
    });
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    const lines = s.heads[0]!.split("\r\n");
    expect(lines[0]).toBe("GET /files/a.mp4?sig=x HTTP/1.1");
    expect(lines).toContain(`host: ${new URL(s.url).host}`);
    expect(lines).toContain("range: bytes=5-");
    expect(lines).toContain("user-agent: gigareels-test");
    expect(lines).toContain("accept-encoding: identity");
    expect(lines).toContain("connection: close");
  });

  it("a POST sends its body whole with its Content-Length (an empty one says 0); the caller's framing headers are not repeated", async () => {
    const bodies: string[] = [];
    const s = await raw((sock, head, rest) => {
      const length = Number(/\r\ncontent-length: (\d+)/.exec(head)?.[1] ?? -1);
      let got = rest;
      const reply = () => {
        bodies.push(got);
        sock.end(
          Buffer.from(
            `HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: ${got.length}\r\n\r\n${got}`,
            "latin1", // the body's bytes as they came
          ),
        );
      };
      if (got.length >= length) return reply();
      sock.on("data", (d: Buffer) => {
        got += d.toString("latin1");
        if (got.length >= length) reply();
      });
    });
    const json = JSON.stringify({ type: "educational-brainrot", prompt: "é".repeat(3) });
    const res = await get(`${s.url}/api/render`, {
      method: "POST",
      body: json,
      headers: { "content-type": "application/json", "idempotency-key": "k1" },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual(JSON.parse(json));
    const lines = s.heads[0]!.split("\r\n");
    expect(lines[0]).toBe("POST /api/render HTTP/1.1");
    expect(lines).toContain(`content-length: ${Buffer.byteLength(json)}`);
    expect(lines).toContain("idempotency-key: k1");
    expect(lines.filter((l) => /^(content-length|host|connection):/i.test(l))).toHaveLength(3);
    await get(`${s.url}/api/keys/revoke`, { method: "POST" });
    expect(s.heads[1]!.split("\r\n")).toContain("content-length: 0");
    expect(bodies).toEqual([json, ""].map((b) => Buffer.from(b).toString("latin1")));
  });

  it("hands a request that follows redirects, and a non-http URL, to the fallback fetch", async () => {
    const seen: string[] = [];
    const fallback = async (input: Request) => {
      seen.push(`${input.method} ${input.redirect} ${new URL(input.url).protocol}`);
      return new Response("from the fallback");
    };
    const f = socketFetch(fallback);
    await f(new Request("http://127.0.0.1:9/x", { method: "POST", body: "{}" }));
    await f(new Request("data:text/plain,hi", { redirect: "manual" }));
    expect(seen).toEqual(["POST follow http:", "GET manual data:"]);
  });
});

describe("socketFetch: reading the answer", () => {
  const body = "x".repeat(200_000);

  it("a Content-Length body, the head split across writes and body bytes sent with it: every byte, in order, through one reused buffer", async () => {
    const s = await raw(async (sock) => {
      sock.write("HTTP/1.1 200 OK\r\nContent-Ty");
      await sleep(20);
      sock.write(
        `pe: video/mp4\r\nContent-Length: ${body.length}\r\nETag: "v1"\r\n\r\n${body.slice(0, 1000)}`,
      );
      await sleep(20);
      sock.end(body.slice(1000));
    });
    const res = await get(`${s.url}/f`);
    expect(res.status).toBe(200);
    expect(res.statusText).toBe("OK");
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("etag")).toBe('"v1"');
    const { text, buffers } = await pumped(res);
    expect(text).toBe(body);
    // the bytes that came with the head are a copy; all the others share the one read buffer
    expect(buffers.size).toBe(2);
  });

  it("the same body read as a web stream (res.text())", async () => {
    const s = await raw((sock) =>
      sock.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
    );
    const res = await get(`${s.url}/f`);
    expect(socketBody(res)).toBeDefined();
    expect(await res.text()).toBe(body);
    expect(socketBody(res)).toBeUndefined(); // used: no second reader
  });

  it("a chunked body cut at every awkward place (inside sizes, CRLFs, extensions, trailers)", async () => {
    const wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5\r\nhello\r\n" +
      "1;ext=1\r\n \r\n" +
      "a\r\n0123456789\r\n" +
      "0\r\nX-Trailer: t\r\n\r\n";
    const s = await raw(async (sock) => {
      for (const ch of wire) {
        sock.write(ch);
        await sleep(1);
      }
      // the server keeps the connection open: the last chunk ends the body
    });
    const res = await get(`${s.url}/f`);
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    expect((await pumped(res)).text).toBe("hello 0123456789");
  });

  it("skips an interim 100 Continue and reads the answer after it", async () => {
    const s = await raw((sock) =>
      sock.end("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    );
    const res = await get(`${s.url}/f`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
  });

  it("reads to the close when the answer has neither length nor chunks", async () => {
    const s = await raw((sock) => sock.end("HTTP/1.1 200 OK\r\n\r\nuntil the end"));
    expect((await pumped(await get(`${s.url}/f`))).text).toBe("until the end");
  });

  it("a HEAD has no body even with a Content-Length", async () => {
    const s = await raw((sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"));
    const res = await get(`${s.url}/f`, { method: "HEAD" });
    expect(res.headers.get("content-length")).toBe("100");
    expect(res.body).toBeNull();
  });
});

describe("socketFetch: broken answers", () => {
  it("a connection closed before the Content-Length is reached fails the body, with how much was missing", async () => {
    const s = await raw((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    await expect(pumped(await get(`${s.url}/f`))).rejects.toThrow(
      "the connection closed 7 bytes before the body's end",
    );
    const s2 = await raw((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    await expect((await get(`${s2.url}/f`)).text()).rejects.toThrow(/7 bytes before the body's end/);
  });

  it("a chunked body cut before its last chunk fails", async () => {
    const s = await raw((sock) => sock.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"));
    await expect(pumped(await get(`${s.url}/f`))).rejects.toThrow(
      "the connection closed before the body's end",
    );
  });

  it("a malformed chunk size fails", async () => {
    const s = await raw((sock) =>
      sock.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n"),
    );
    await expect(pumped(await get(`${s.url}/f`))).rejects.toThrow("a malformed chunked body from the server");
  });

  it("an answer that is not HTTP, or a close before any answer, rejects like Node's fetch: TypeError 'fetch failed' with the reason as cause", async () => {
    const s = await raw((sock) => sock.end("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
    const err = await get(`${s.url}/f`).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe("fetch failed");
    expect(err.cause.message).toMatch(/^the server did not answer HTTP\/1\.1 \("SSH-2\.0/);
    const s2 = await raw((sock) => sock.end());
    const err2 = await get(`${s2.url}/f`).catch((e) => e);
    expect(err2.cause.message).toBe("the server closed the connection before answering");
  });

  it("a refused connection: TypeError 'fetch failed', cause ECONNREFUSED", async () => {
    const s = await raw(() => {});
    const url = s.url;
    s.server.close();
    await once(s.server, "close");
    const err = await get(`${url}/f`).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.cause.code).toBe("ECONNREFUSED");
  });
});

describe("socketFetch: the reader's control", () => {
  it("a promise from onChunk pauses the socket: no chunk comes until it settles", async () => {
    const big = "y".repeat(4 * 1024 * 1024);
    const s = await raw((sock) => sock.end(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`));
    const fast = socketBody(await get(`${s.url}/f`))!;
    let waiting = false;
    let overlapped = false;
    let bytes = 0;
    let calls = 0;
    await fast.pump((chunk) => {
      if (waiting) overlapped = true;
      bytes += chunk.length;
      if (++calls % 8 !== 0) return undefined;
      waiting = true;
      return sleep(5).then(() => {
        waiting = false;
      });
    });
    expect(bytes).toBe(big.length);
    expect(calls).toBeGreaterThan(16);
    expect(overlapped).toBe(false);
  });

  it("onChunk throwing stops the transfer: pump rejects with that error and the connection is closed", async () => {
    const s = await raw((sock) =>
      sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n${"z".repeat(100_000)}`),
    );
    const fast = socketBody(await get(`${s.url}/f`))!;
    const err = await fast
      .pump(() => {
        throw new Error("disk full");
      })
      .catch((e) => e);
    expect(err.message).toBe("disk full");
    await s.closed[0];
  });

  it("an abort before the answer rejects with the signal's reason; during the body it fails the body and closes the connection", async () => {
    const s = await raw(() => {}); // never answers
    const ctl = new AbortController();
    const pending = get(`${s.url}/f`, { signal: ctl.signal });
    await sleep(50);
    ctl.abort(new Error("stalled"));
    await expect(pending).rejects.toThrow("stalled");
    await s.closed[0];

    const s2 = await raw((sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc"));
    const ctl2 = new AbortController();
    const fast = socketBody(await get(`${s2.url}/f`, { signal: ctl2.signal }))!;
    const done = fast.pump(() => {
      ctl2.abort();
      return undefined;
    });
    await expect(done).rejects.toMatchObject({ name: "AbortError" });
    await s2.closed[0];
  });
});
