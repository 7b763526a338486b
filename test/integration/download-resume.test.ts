/**
 * The downloader over real HTTP: the emulator's streamed MP4 (Range / If-Range / ETag), plus
 * small local servers for the misbehaviours the emulator does not produce (a stall, a body
 * cut short, a body longer than announced, a foreign storage origin).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { exitCodeFor } from "../../src/lib/cli/exit-codes.js";
import { DownloadError, downloadFile, partPathFor } from "../../src/lib/sdk/download/stream.js";
import { GigaReels } from "../../src/lib/sdk/client.js";
import { downloadRender } from "../../src/lib/sdk/download/client.js";
import { api, SAMPLE_BODIES, useEmulator, waitForRender } from "../helpers/emulator.js";

const SIZE = 8 * 1024 * 1024 + 12_345;
const emulator = useEmulator({ renderDurationMs: 100, outputSizeBytes: SIZE });
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gr-dl-"));
});
afterEach(async () => {
  emulator().clearFaults();
  await rm(dir, { recursive: true, force: true });
});

function deps() {
  const emu = emulator();
  const key = emu.keys[0]!;
  const client = new GigaReels({ apiKey: key, baseUrl: emu.url, maxRetries: 0 });
  return {
    client,
    deps: {
      getStatus: (id: string, o: { signal?: AbortSignal }) => client.getRenderStatus(id, o),
      baseUrl: async () => emu.url,
      apiKey: async () => key,
    },
  };
}

async function finishedRender(): Promise<{ id: string; url: string }> {
  const { client } = deps();
  const { renderId } = await client.render({ ...SAMPLE_BODIES["/api/render"] }, { shareBudget: false }); // downloads, not pacing: one key renders more than 9 a minute here
  const s = await waitForRender(emulator(), renderId);
  expect(s.status).toBe("done");
  return { id: renderId, url: s.outputFile as string };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function sha256Url(url: string): Promise<string> {
  const res = await fetch(url);
  return createHash("sha256")
    .update(new Uint8Array(await res.arrayBuffer()))
    .digest("hex");
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

describe("download from the emulator", () => {
  it("downloads a render by id to <renderId>.mp4 with progress, equal to the source", async () => {
    const { id, url } = await finishedRender();
    const { deps: d } = deps();
    const seen: number[] = [];
    const path = join(dir, `${id}.mp4`);
    const r = await downloadRender(d, id, { path, onProgress: (p) => seen.push(p.bytes) });
    expect(r).toMatchObject({ path, bytes: SIZE, resumedFrom: 0, attempts: 1, renderId: id });
    expect((await stat(path)).size).toBe(SIZE);
    expect(await sha256File(path)).toBe(await sha256Url(url));
    expect(seen.at(-1)).toBe(SIZE);
    expect(seen.every((b, i) => i === 0 || b >= seen[i - 1]!)).toBe(true);
    expect(await exists(partPathFor(path))).toBe(false);
    expect(await exists(`${path}.part.json`)).toBe(false);
  });

  it("client.download(renderId) writes <renderId>.mp4 in the current folder by default", async () => {
    const { id, url } = await finishedRender();
    const { client } = deps();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await client.download(id);
      expect(r.path).toBe(`${id}.mp4`);
    } finally {
      process.chdir(cwd);
    }
    expect(await sha256File(join(dir, `${id}.mp4`))).toBe(await sha256Url(url));
  });

  it("abort keeps the .part; the next run resumes with Range/If-Range and the result equals the source byte for byte (through ky over the SDK's socket fetch, not Node's global one)", async () => {
    const { id, url } = await finishedRender();
    const { deps: d } = deps();
    const path = join(dir, "video.mp4");
    // no fetch injected: the file's requests go through the SDK's socket fetch (src/lib/net/
    // socket-fetch), not Node's global fetch (too slow for large files: see that file)
    const seen: string[] = [];
    const original = globalThis.fetch;
    globalThis.fetch = ((input: Request | string | URL, init?: RequestInit) => {
      if (input instanceof Request && new URL(input.url).pathname.startsWith("/files/"))
        seen.push(`${input.method} ${input.headers.get("range") ?? "-"}`);
      return original(input, init);
    }) as typeof fetch;
    onTestFinished(() => {
      globalThis.fetch = original;
    });
    const ctl = new AbortController();
    const err = await downloadRender(d, id, {
      path,
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.bytes >= 3 * 1024 * 1024) ctl.abort();
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe("aborted");
    expect(exitCodeFor(err)).toBe(130);
    expect(await exists(path)).toBe(false);
    const partSize = (await stat(partPathFor(path))).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(SIZE);

    const before = emulator().requests.length;
    const r = await downloadRender(d, id, { path });
    expect(r.resumedFrom).toBe(partSize);
    const fileReq = emulator()
      .requests.slice(before)
      .find((q) => q.path === `/files/${id}.mp4`);
    expect(fileReq?.status).toBe(206);
    expect(fileReq?.headers.range).toBe(`bytes=${partSize}-`);
    expect(fileReq?.headers["if-range"]).toMatch(/^"mp4-/);
    // what socket-fetch sends (Node's fetch asks for gzip and keeps the connection alive)
    expect(fileReq?.headers["accept-encoding"]).toBe("identity");
    expect(fileReq?.headers.connection).toBe("close");
    expect(seen).toEqual([]);
    expect(await sha256File(path)).toBe(await sha256Url(url));
    expect(await exists(partPathFor(path))).toBe(false);
  });

  it("works the same through an injected fetch (the SDK's, e.g. with a proxy dispatcher)", async () => {
    const { url } = await finishedRender();
    const path = join(dir, "via-fetch.mp4");
    const calls: string[] = [];
    const viaFetch = (input: Request, init?: RequestInit) => {
      calls.push(input.headers.get("range") ?? "");
      return fetch(input, init);
    };
    const ctl = new AbortController();
    const err = await downloadFile({
      url,
      path,
      fetch: viaFetch,
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.bytes >= 1024 * 1024) ctl.abort();
      },
    }).catch((e) => e);
    expect(err.code).toBe("aborted");
    const partSize = (await stat(partPathFor(path))).size;
    const r = await downloadFile({ url, path, fetch: viaFetch });
    expect(r.resumedFrom).toBe(partSize);
    expect(calls).toEqual(["", `bytes=${partSize}-`]);
    expect(await sha256File(path)).toBe(await sha256Url(url));
  });

  it("starts over when If-Range no longer matches (200 answer)", async () => {
    const { url } = await finishedRender();
    const path = join(dir, "changed.mp4");
    const head = await fetch(url, { headers: { range: "bytes=0-999" } });
    await writeFile(partPathFor(path), new Uint8Array(await head.arrayBuffer()));
    await writeFile(`${path}.part.json`, JSON.stringify({ url, validator: '"some-older-version"' }));
    const before = emulator().requests.length;
    const r = await downloadFile({ url, path });
    expect(r.resumedFrom).toBe(0);
    const fileReq = emulator().requests.slice(before)[0]!;
    expect(fileReq.headers).toMatchObject({ range: "bytes=1000-", "if-range": '"some-older-version"' });
    expect(fileReq.status).toBe(200);
    expect(await sha256File(path)).toBe(await sha256Url(url));
  });

  it("does not continue a .part that is not the start of an MP4: downloads it whole", async () => {
    const { url } = await finishedRender();
    const path = join(dir, "orphan.mp4");
    await writeFile(partPathFor(path), Buffer.alloc(5000, 1));
    const r = await downloadFile({ url, path });
    expect(r.resumedFrom).toBe(0);
    expect(await sha256File(path)).toBe(await sha256Url(url));
  });

  it("refuses to overwrite an existing file without force (usage, exit 2)", async () => {
    const { id } = await finishedRender();
    const { deps: d } = deps();
    const path = join(dir, "exists.mp4");
    await writeFile(path, "keep me");
    const before = emulator().requests.length;
    const err = await downloadRender(d, id, { path }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe("usage");
    expect(exitCodeFor(err)).toBe(2);
    expect(err.suggestions.join(" ")).toContain("--force");
    expect(await readFile(path, "utf8")).toBe("keep me");
    expect(
      emulator()
        .requests.slice(before)
        .some((q) => q.path.startsWith("/files/")),
    ).toBe(false);
    const r = await downloadRender(d, id, { path, force: true });
    expect(r.bytes).toBe(SIZE);
    expect((await stat(path)).size).toBe(SIZE);
  });

  it("a destination in a folder that does not exist is a usage error", async () => {
    const { url } = await finishedRender();
    const err = await downloadFile({ url, path: join(dir, "no", "such", "folder", "v.mp4") }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe("usage");
    expect(err.message).toMatch(/Cannot write .*v\.mp4\.part: its folder does not exist/);
  });

  it("a render that is not done has nothing to download", async () => {
    const { client, deps: d } = deps();
    emulator().setNextRenderOutcome("never");
    const { renderId } = await client.render({ ...SAMPLE_BODIES["/api/render"] }, { shareBudget: false }); // downloads, not pacing: one key renders more than 9 a minute here
    await expect(downloadRender(d, renderId, { path: join(dir, "x.mp4") })).rejects.toThrow(
      /no video to download yet/,
    );
  });

  it("retries a 5xx on the file and sends the key only to the API's own origin", async () => {
    const { id, url } = await finishedRender();
    const { deps: d } = deps();
    emulator().addFault({ route: `/files/${id}.mp4`, times: 1, fault: { kind: "status", status: 503 } });
    const path = join(dir, "retry.mp4");
    const before = emulator().requests.length;
    const r = await downloadRender(d, url, { path });
    expect(r.attempts).toBe(2);
    const reqs = emulator()
      .requests.slice(before)
      .filter((q) => q.path === `/files/${id}.mp4`);
    expect(reqs.map((q) => q.status)).toEqual([503, 200]);
    expect(reqs[1]!.keyLast4).toBe(emulator().keys[0]!.slice(-4)); // same origin as the API
    const res = await api(emulator(), `/files/${id}.mp4`, { method: "HEAD" });
    expect(res.headers.get("accept-ranges")).toBe("bytes");
  });
});

// --- small servers for what the emulator does not do -------------------------------------

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
async function serve(handler: Handler): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, requests.length);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/files/out.mp4`, requests };
}
// an MP4's first box (ftyp), then filler: what the downloader accepts as a video
const BODY = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251));
Buffer.from([0, 0, 0, 16, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d, 0, 0, 2, 0]).copy(BODY);
const ETAG = '"v1"';

describe("download from misbehaving servers", () => {
  it("gives up on a stalled transfer after the idle time and resumes where it stopped", async () => {
    const { url, requests } = await serve((req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { "content-length": String(BODY.length), etag: ETAG });
        res.write(BODY.subarray(0, 100_000)); // then nothing: a stall
        return;
      }
      const m = /bytes=(\d+)-/.exec(req.headers.range ?? "");
      const start = m && req.headers["if-range"] === ETAG ? Number(m[1]) : 0;
      res.writeHead(start ? 206 : 200, {
        "content-length": String(BODY.length - start),
        etag: ETAG,
        ...(start ? { "content-range": `bytes ${start}-${BODY.length - 1}/${BODY.length}` } : {}),
      });
      res.end(BODY.subarray(start));
    });
    const path = join(dir, "stall.mp4");
    const r = await downloadFile({ url, path, idleTimeoutMs: 400, backoffBaseMs: 10 });
    expect(r.attempts).toBe(2);
    expect(r.resumedFrom).toBe(100_000);
    expect(requests[1]!.headers.range).toBe("bytes=100000-");
    expect(Buffer.compare(await readFile(path), BODY)).toBe(0);
  });

  it("a transfer that keeps stalling fails with download_stalled and keeps the .part", async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { "content-length": String(BODY.length), etag: ETAG });
      res.write(BODY.subarray(0, 1000));
    });
    const path = join(dir, "stuck.mp4");
    const err = await downloadFile({ url, path, idleTimeoutMs: 200, maxRetries: 1, backoffBaseMs: 10 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe("download_stalled");
    expect(exitCodeFor(err)).toBe(5);
    expect(await exists(path)).toBe(false);
    expect(await exists(partPathFor(path))).toBe(true);
  });

  it("detects a body cut short of Content-Length and never puts it in place", async () => {
    const { url, requests } = await serve((_req, res) => {
      // ignores Range: every answer is the whole file, cut at the same place
      res.writeHead(200, { "content-length": String(BODY.length) });
      res.write(BODY.subarray(0, 50_000), () => res.destroy());
    });
    const path = join(dir, "short.mp4");
    const err = await downloadFile({ url, path, maxRetries: 1, backoffBaseMs: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe("download_failed");
    // the first attempt brought bytes; then two in a row brought nothing new (maxRetries 1)
    expect(err.message).toMatch(/after 3 attempts/);
    expect(requests.map((q) => q.headers.range)).toEqual([undefined, "bytes=50000-", "bytes=50000-"]);
    expect(await exists(path)).toBe(false);
    expect((await stat(partPathFor(path))).size).toBe(50_000);
  });

  it("detects a body longer than the announced size (length_mismatch)", async () => {
    const { url } = await serve((_req, res) => {
      // chunked, but the Content-Range says the whole file is 1000 bytes
      res.writeHead(206, { "content-range": "bytes 0-999/1000", etag: ETAG });
      res.end(BODY.subarray(0, 5000));
    });
    const path = join(dir, "long.mp4");
    await writeFile(partPathFor(path), "");
    const err = await downloadFile({ url, path, maxRetries: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe("length_mismatch");
    expect(await exists(path)).toBe(false);
  });

  it("never sends the API key to a storage origin, even after a redirect from the API origin", async () => {
    const storage = await serve((_req, res) => {
      res.writeHead(200, { "content-length": String(BODY.length), etag: ETAG });
      res.end(BODY);
    });
    const apiLike = await serve((_req, res) => {
      res.writeHead(302, { location: storage.url });
      res.end();
    });
    const apiOrigin = new URL(apiLike.url).origin;
    const path = join(dir, "foreign.mp4");
    await downloadRender(
      {
        getStatus: async () => ({ renderId: "x", status: "done" }),
        baseUrl: async () => apiOrigin,
        apiKey: async () => `giga_${"k".repeat(32)}`,
      },
      apiLike.url,
      { path },
    );
    expect(apiLike.requests[0]!.headers.authorization).toBe(`Bearer giga_${"k".repeat(32)}`);
    expect(storage.requests[0]!.headers.authorization).toBeUndefined();
    expect(Buffer.compare(await readFile(path), BODY)).toBe(0);
    // and a URL on a foreign origin from the start gets no key either
    await downloadRender(
      {
        getStatus: async () => ({ renderId: "x", status: "done" }),
        baseUrl: async () => "https://gigareels.example",
        apiKey: async () => `giga_${"k".repeat(32)}`,
      },
      storage.url,
      { path: join(dir, "foreign2.mp4") },
    );
    expect(storage.requests[1]!.headers.authorization).toBeUndefined();
  });
});
