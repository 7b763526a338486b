/**
 * The SDK's fetch on Node when no proxy applies (API requests and downloads, both called by
 * ky): one request over a connection of its own (HTTP/1.1, `Connection: close`), the socket
 * read into one reused 64 KiB buffer (net's `onread`).
 *
 * Why not Node's fetch: on Node 20 its first request costs about 0.25 s and 30 MB (undici's
 * HTTP parser is WebAssembly, compiled then), which every CLI command that talks to the API
 * paid; and for a download undici copies every 64 KiB read into a new buffer for the web
 * stream and settles a promise per chunk: reading 1 GiB from loopback costs it about 1.9 s of
 * CPU and 100-120 MB of peak RSS, against 0.4 s and about 50 MB for the socket read into one
 * buffer (curl: about 0.5 s). Measured with bench/download.
 *
 * `socketFetch(fallback)` answers requests whose redirects the caller follows
 * (`redirect: "manual"`, what the transport and the downloader ask) to an http(s) URL, the
 * request body (small: JSON, a form) sent whole with its length; any other request goes to
 * `fallback`. Its answer is a Response like any other (status, headers, a web-stream body).
 * The downloader, and only it, asks `socketBody(response)` for the fast way to read a body:
 * chunks as views into the reused buffer, to be consumed (written) before the callback returns.
 *
 * TLS: `tls.connect` with Node's default CAs (the bundled store plus NODE_EXTRA_CA_CERTS),
 * verification on, SNI for host names. No compression asked (`accept-encoding: identity`),
 * no connection reuse (a CLI command makes a few requests; a download is one long transfer).
 */
import { connect as netConnect, isIP, type Socket } from "node:net";
import type { FetchFn } from "./dispatcher.js";

/** The fast way to read a body of socketFetch's. */
export interface SocketBody {
  /**
   * Calls `onChunk` with every piece of the body, in order; each is a view into a buffer that
   * is reused after `onChunk` returns, so it must be used (written) before then. A promise
   * returned by `onChunk` pauses the socket until it settles (the other pieces of a chunked
   * read already made still come: they are views into the same read). Resolves at the body's end;
   * rejects when the transfer breaks, is aborted, or `onChunk` throws (the socket is closed).
   */
  pump(onChunk: (chunk: Uint8Array) => Promise<void> | undefined): Promise<void>;
}

const READ_BUFFER_BYTES = 64 * 1024;
/** The most bytes of status line and headers accepted. */
const MAX_HEAD_BYTES = 64 * 1024;

const bodies = new WeakMap<Response, Connection>();

/** The fast reader of `res`'s body, when `res` came from socketFetch and its body is untouched. */
export function socketBody(res: Response): SocketBody | undefined {
  const conn = bodies.get(res);
  if (!conn || res.bodyUsed || res.body?.locked) return undefined;
  return {
    pump: (onChunk) => {
      // lock the web stream, so nothing else reads this body
      res.body?.getReader();
      return conn.pump(onChunk);
    },
  };
}

/** A fetch that makes plain GETs itself, and hands every other request to `fallback`. */
export function socketFetch(fallback: FetchFn): FetchFn {
  return async (input, init) => {
    const req = init ? new Request(input, init) : input;
    const url = new URL(req.url);
    if (req.redirect !== "manual" || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return fallback(input, init);
    }
    // request bodies are small (JSON, a form): sent whole, with their length
    const body = req.body === null ? undefined : new Uint8Array(await req.arrayBuffer());
    return new Connection(req, url, body).response;
  };
}

type Framing = { kind: "none" } | { kind: "length"; left: number } | { kind: "chunked" } | { kind: "close" };

/** One request and its answer over one socket. */
class Connection {
  readonly response: Promise<Response>;
  #socket: Socket | undefined;
  #buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  #head: Buffer | undefined = Buffer.alloc(0);
  #framing: Framing = { kind: "close" };
  #chunked = new ChunkedDecoder();
  /** Body bytes that arrived with the head, before a reader was there (a copy). */
  #early: Uint8Array | undefined;
  #sink: ((chunk: Uint8Array) => Promise<void> | undefined) | undefined;
  #done = false;
  #failure: unknown;
  #settle: { resolve(): void; reject(err: unknown): void } | undefined;
  #resolveHead!: (res: Response) => void;
  #rejectHead!: (err: unknown) => void;
  #webController: ReadableStreamDefaultController<Uint8Array> | undefined;
  #signal: AbortSignal;
  #onAbort = () => this.#fail(abortReason(this.#signal));

  constructor(
    private readonly req: Request,
    url: URL,
    private readonly requestBody: Uint8Array | undefined,
  ) {
    this.response = new Promise<Response>((resolve, reject) => {
      this.#resolveHead = resolve;
      this.#rejectHead = reject;
    });
    this.#signal = req.signal;
    if (this.#signal.aborted) {
      this.#rejectHead(abortReason(this.#signal));
      return;
    }
    this.#signal.addEventListener("abort", this.#onAbort, { once: true });
    this.#connect(url).catch((err) => this.#fail(err));
  }

  async #connect(url: URL): Promise<void> {
    const https = url.protocol === "https:";
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port) || (https ? 443 : 80);
    const onread = {
      buffer: this.#buffer,
      callback: (n: number, buf: Uint8Array) => {
        this.#onRead(buf.subarray(0, n));
        return true; // pausing is done with pause() where needed
      },
    };
    let socket: Socket;
    if (https) {
      const tls = await import("node:tls");
      if (this.#done) return;
      socket = tls.connect({
        host,
        port,
        servername: isIP(host) ? undefined : host,
        ALPNProtocols: ["http/1.1"],
        onread, // honoured by TLS sockets too (the decrypted bytes), though not in @types/node
      } as import("node:tls").ConnectionOptions);
    } else {
      socket = netConnect({ host, port, onread });
    }
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on("error", (err) => this.#fail(err));
    socket.on("end", () => this.#onEnd());
    socket.on("close", () => {
      if (!this.#done) this.#onEnd();
    });
    const headers: string[] = [];
    const sent = new Set<string>();
    this.req.headers.forEach((value, name) => {
      // the framing and the connection are this fetch's to say
      if (
        name === "host" ||
        name === "connection" ||
        name === "content-length" ||
        name === "transfer-encoding"
      )
        return;
      sent.add(name);
      headers.push(`${name}: ${value}\r\n`);
    });
    if (!sent.has("accept-encoding")) headers.push("accept-encoding: identity\r\n");
    if (!sent.has("user-agent")) headers.push("user-agent: node\r\n");
    const body = this.requestBody;
    const method = this.req.method;
    if (body || (method !== "GET" && method !== "HEAD"))
      headers.push(`content-length: ${body?.length ?? 0}\r\n`);
    socket.write(
      `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n${headers.join("")}connection: close\r\n\r\n`,
      "latin1",
    );
    if (body && body.length > 0) socket.write(body);
  }

  /** One read of the socket (`data` is a view into the reused buffer). */
  #onRead(data: Uint8Array): void {
    if (this.#done) return;
    try {
      if (this.#head) {
        data = this.#readHead(data);
        if (this.#head || this.#done) return;
      }
      if (data.length > 0) this.#body(data);
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Gathers the status line and headers; answers the fetch when they are whole. Returns the rest. */
  #readHead(data: Uint8Array): Uint8Array {
    const head = Buffer.concat([this.#head as Buffer, data]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) {
      if (head.length > MAX_HEAD_BYTES) throw new Error("the server's answer headers are too long");
      this.#head = head;
      return new Uint8Array(0);
    }
    const lines = head.toString("latin1", 0, end).split("\r\n");
    const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
    if (!status)
      throw new Error(
        `the server did not answer HTTP/1.1 (${JSON.stringify((lines[0] ?? "").slice(0, 40))})`,
      );
    const code = Number(status[1]);
    const rest = head.subarray(end + 4);
    if (code >= 100 && code < 200) {
      // an interim answer (100 Continue, 103 Early Hints): the real one follows
      this.#head = Buffer.alloc(0);
      return this.#readHead(rest);
    }
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0)
        throw new Error(`a malformed header line from the server (${JSON.stringify(line.slice(0, 40))})`);
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    this.#head = undefined;
    const noBody = this.req.method === "HEAD" || code === 204 || code === 205 || code === 304;
    const te = headers.get("transfer-encoding");
    const cl = headers.get("content-length");
    if (noBody) this.#framing = { kind: "none" };
    else if (te && /(^|,)\s*chunked\s*$/i.test(te)) this.#framing = { kind: "chunked" };
    else if (cl !== null) {
      if (!/^\d+$/.test(cl))
        throw new Error(`the server sent a malformed Content-Length (${cl.slice(0, 20)})`);
      this.#framing = { kind: "length", left: Number(cl) };
    }
    const body = noBody
      ? null
      : new ReadableStream<Uint8Array>(
          {
            start: (controller) => {
              this.#webController = controller;
            },
            pull: () => this.#start(),
            cancel: () => this.#fail(new DOMException("The body was cancelled", "AbortError")),
          },
          // no read ahead: the socket is read only for a reader (pull is called only then)
          { highWaterMark: 0 },
        );
    // nobody reads the body yet: keep what came with the head, and read no further for now
    if (rest.length > 0) this.#early = new Uint8Array(rest);
    this.#socket?.pause();
    const res = new Response(body, { status: code, statusText: status[2] ?? "", headers });
    bodies.set(res, this);
    this.#resolveHead(res);
    if (this.#framing.kind === "none" || (this.#framing.kind === "length" && this.#framing.left === 0)) {
      this.#finish();
    }
    return new Uint8Array(0);
  }

  /** A reader is there: what came with the head first, then the socket again. */
  #start(): void {
    const early = this.#early;
    this.#early = undefined;
    if (early && !this.#done) {
      try {
        this.#body(early);
      } catch (err) {
        this.#fail(err);
      }
    }
    if (!this.#done) this.#socket?.resume();
  }

  /** Body bytes as they came off the wire: unframed, then handed on. */
  #body(data: Uint8Array): void {
    const f = this.#framing;
    if (f.kind === "none") return;
    if (f.kind === "length") {
      const piece = data.length > f.left ? data.subarray(0, f.left) : data;
      f.left -= piece.length;
      this.#deliver(piece);
      if (f.left === 0) this.#finish();
      return;
    }
    if (f.kind === "chunked") {
      const ended = this.#chunked.push(data, (piece) => this.#deliver(piece));
      if (ended) this.#finish();
      return;
    }
    this.#deliver(data);
  }

  #deliver(piece: Uint8Array): void {
    if (piece.length === 0 || this.#done) return;
    if (this.#sink) {
      const wait = this.#sink(piece);
      if (wait) {
        this.#socket?.pause();
        wait.then(
          () => {
            if (!this.#done) this.#socket?.resume();
          },
          (err) => this.#fail(err),
        );
      }
      return;
    }
    const c = this.#webController;
    if (!c) return;
    c.enqueue(new Uint8Array(piece)); // a copy: the read buffer is reused
    if ((c.desiredSize ?? 0) <= 0) this.#socket?.pause();
  }

  /** The fast reader (see SocketBody.pump). */
  pump(onChunk: (chunk: Uint8Array) => Promise<void> | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
      this.#sink = (chunk) => {
        try {
          return onChunk(chunk);
        } catch (err) {
          this.#fail(err);
          return undefined;
        }
      };
      if (this.#done) this.#settled();
      else this.#start();
    });
  }

  #onEnd(): void {
    if (this.#done) return;
    const f = this.#framing;
    if (this.#head) this.#fail(new Error("the server closed the connection before answering"));
    else if (f.kind === "length")
      this.#fail(new Error(`the connection closed ${f.left} bytes before the body's end`));
    else if (f.kind === "chunked") this.#fail(new Error("the connection closed before the body's end"));
    else this.#finish();
  }

  /** The body is whole. */
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#close();
    try {
      this.#webController?.close();
    } catch {}
    this.#settled();
  }

  #fail(err: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#failure = err;
    this.#close();
    if (this.#head !== undefined) {
      // as Node's fetch: an abort rejects with the signal's reason, anything else is "fetch failed"
      this.#rejectHead(this.#signal.aborted ? abortReason(this.#signal) : fetchFailed(err));
      return;
    }
    try {
      this.#webController?.error(err);
    } catch {}
    this.#settled();
  }

  #settled(): void {
    const s = this.#settle;
    if (!s || !this.#done) return;
    this.#settle = undefined;
    if (this.#failure !== undefined) s.reject(this.#failure);
    else s.resolve();
  }

  #close(): void {
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#socket?.destroy();
  }
}

/** How Node's fetch reports a request that got no answer: the socket's error as the cause. */
function fetchFailed(cause: unknown): TypeError {
  return Object.assign(new TypeError("fetch failed"), { cause });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** Decodes `Transfer-Encoding: chunked`, across reads. */
class ChunkedDecoder {
  #state: "size" | "data" | "data-crlf" | "trailer" | "end" = "size";
  #line = "";
  #left = 0;

  /** Hands each data piece to `out`; true when the last chunk and its trailer are read. */
  push(data: Uint8Array, out: (piece: Uint8Array) => void): boolean {
    let i = 0;
    while (i < data.length) {
      switch (this.#state) {
        case "data": {
          const n = Math.min(this.#left, data.length - i);
          out(data.subarray(i, i + n));
          i += n;
          this.#left -= n;
          if (this.#left === 0) this.#state = "data-crlf";
          break;
        }
        case "end":
          return true;
        default: {
          // a line: the chunk size, the CRLF after its data, or a trailer line
          const nl = data.indexOf(0x0a, i);
          const stop = nl < 0 ? data.length : nl + 1;
          this.#line += Buffer.from(data.buffer, data.byteOffset + i, stop - i).toString("latin1");
          i = stop;
          if (this.#line.length > 4096) throw new Error("a malformed chunked body from the server");
          if (nl < 0) break;
          const line = this.#line.replace(/\r?\n$/, "");
          this.#line = "";
          if (this.#state === "data-crlf") {
            if (line !== "") throw new Error("a malformed chunked body from the server");
            this.#state = "size";
          } else if (this.#state === "size") {
            const m = /^([0-9a-fA-F]+)\s*(;.*)?$/.exec(line);
            if (!m) throw new Error("a malformed chunked body from the server");
            this.#left = Number.parseInt(m[1]!, 16);
            this.#state = this.#left === 0 ? "trailer" : "data";
          } else if (line === "") {
            this.#state = "end";
            return true;
          }
        }
      }
    }
    return this.#state === "end";
  }
}
