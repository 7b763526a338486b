/**
 * The streaming downloader of finished videos.
 *
 * - Streams to `<file>.part` with backpressure (stream.pipeline from the body into a sink
 *   that writes each chunk before the next is read): memory does not grow with the file.
 * - Resumes an existing `.part` with `Range: bytes=N-` and `If-Range: <validator>`; the
 *   validator (strong ETag, else Last-Modified) lives in `<file>.part.json` so a later run
 *   can resume too. A 200 answer means the file changed (or ranges are unsupported): start over.
 * - Checks the final length against Content-Length / Content-Range, then renames the `.part`
 *   into place (atomic on one file system).
 * - Refuses to overwrite an existing file unless `force`.
 * - A transfer that receives nothing for `idleTimeoutMs` is dropped and retried (resuming),
 *   as are connection errors, truncated bodies, 408/429/5xx; a few times, with full-jitter backoff.
 * - The AbortSignal stops at once and keeps the `.part` for a later resume.
 * - Without an injected `fetch`, node:http(s) does the transfer, through a CONNECT tunnel
 *   when HTTPS_PROXY / HTTP_PROXY name a proxy for the URL (src/lib/net). The
 *   `authorization` header is only ever sent to `auth.origin` (the API's own origin), never
 *   to a storage host.
 *
 * This module imports nothing from the SDK: its errors are plain Error subclasses with a
 * stable `code` and `suggestions`, mapped to exit codes in src/lib/cli/exit-codes.ts.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { lstat, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { basename } from "node:path";
import * as http from "node:http";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { GigaReelsError } from "../errors.js";
import { writeFileAtomic } from "../../fs/index.js";
import { explainProxyFailure, ProxyError, proxyFor, proxyRefusal } from "../../net/proxy.js";

export type DownloadFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface DownloadProgress {
  /** Bytes in the file so far (resumed bytes included). */
  bytes: number;
  /** The full size, when the server said. */
  total: number | undefined;
  /** Bytes that were already in the `.part` when this transfer started. */
  resumedFrom: number;
}

export interface DownloadOptions {
  url: string;
  /** The destination file. */
  path: string;
  /** Overwrite an existing file. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /**
   * The fetch to use (e.g. one the SDK user injected). Without one, node:http(s) is used
   * directly (through a tunnel when a proxy applies): same behaviour, a lighter client
   * (lower memory, higher throughput).
   */
  fetch?: DownloadFetch;
  /** Credentials sent only to this origin (the API's own). */
  auth?: { origin: string; authorization: string };
  /** Extra headers (User-Agent...). */
  headers?: Record<string, string>;
  /** Give up on a transfer that receives nothing for this long (then retry). Default 30 000 ms. */
  idleTimeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  maxRetries?: number;
  /** Backoff: full jitter between 0 and min(cap, base * 2^(n-1)). Defaults 1 000 / 15 000 ms. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
  /**
   * Keep the process's memory flat: every few MiB received, run a young-generation garbage
   * collection so the buffers already written are released (otherwise V8 lets tens of MB of
   * them pile up before collecting). Default true.
   */
  lowMemory?: boolean;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** Bytes reused from an earlier `.part`. */
  resumedFrom: number;
  /** Transfers made (1 = no retry). */
  attempts: number;
}

/**
 * Stable codes: "usage", "download_failed", "download_stalled", "length_mismatch", "aborted".
 * Part of the SDK's one error hierarchy (`instanceof GigaReelsError`), so its message is
 * redacted like every other.
 */
export class DownloadError extends GigaReelsError {
  constructor(code: string, message: string, suggestions: string[] = [], options?: { cause?: unknown }) {
    super(message, { suggestions, cause: options?.cause });
    this.code = code;
  }
}

interface PartMeta {
  url: string;
  /** Strong ETag or Last-Modified date: the If-Range validator. */
  validator?: string;
  total?: number;
}

const MAX_REDIRECTS = 5;

export function partPathFor(path: string): string {
  return `${path}.part`;
}
function metaPathFor(path: string): string {
  return `${path}.part.json`;
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

async function readMeta(path: string): Promise<PartMeta | null> {
  try {
    const v = JSON.parse(await readFile(metaPathFor(path), "utf8")) as PartMeta;
    return v && typeof v === "object" ? v : null;
  } catch {
    return null;
  }
}

/** "bytes 100-199/1000" -> {start, end, total}; total null for "*". */
export function parseContentRange(
  value: string | null,
): { start: number; end: number; total: number | null } | { unsatisfied: true; total: number } | null {
  if (!value) return null;
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value);
  if (m) return { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? null : Number(m[3]) };
  const u = /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(value);
  if (u) return { unsatisfied: true, total: Number(u[1]) };
  return null;
}

/** The validator usable in If-Range: a strong ETag, else Last-Modified. */
function validatorOf(res: HttpAnswer): string | undefined {
  const etag = res.headers.get("etag");
  if (etag && !etag.startsWith("W/")) return etag;
  return res.headers.get("last-modified") ?? undefined;
}

/** What the transfer needs of an answer, from fetch or from node:http. */
interface HttpAnswer {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  body: Readable | null;
  /** Drops the body without reading it. */
  discard(): Promise<void>;
}

type Getter = (url: string, headers: Record<string, string>, signal: AbortSignal) => Promise<HttpAnswer>;

function fetchGetter(fetchFn: DownloadFetch): Getter {
  return async (url, headers, signal) => {
    const res = await fetchFn(url, { method: "GET", headers, redirect: "manual", signal });
    return {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
      body: res.body ? Readable.fromWeb(res.body as import("node:stream/web").ReadableStream) : null,
      discard: () => (res.body ? res.body.cancel().catch(() => {}) : Promise.resolve()),
    };
  };
}

/**
 * A GET with node:http(s), redirects not followed (the caller follows them). When a proxy
 * applies (HTTPS_PROXY/HTTP_PROXY, see src/lib/net), the same request goes through it: over a
 * CONNECT tunnel for https, in absolute form for http.
 */
const nativeGetter: Getter = async (url, headers, signal) => {
  const https = url.startsWith("https:");
  // node:https (and TLS) is loaded only for an https URL
  const get: typeof http.get = https ? (await import("node:https")).get : http.get;
  const proxy = proxyFor(url);
  const net = proxy ? await import("../../net/tunnel.js") : undefined;
  let options: http.RequestOptions = { headers, signal };
  let target: string | undefined = url;
  if (proxy && net && https) {
    const socket = await net.tunnelTo(proxy, url, { signal });
    options = { ...options, createConnection: () => socket };
  } else if (proxy && net) {
    const fwd = net.forwardOptions(proxy, url);
    options = { ...options, ...fwd, headers: { ...fwd.headers, ...headers } };
    target = undefined;
  }
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      if (proxy && !https && res.statusCode === 407) {
        res.destroy();
        reject(proxyRefusal(proxy, new URL(url).host, 407));
        return;
      }
      resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? "",
        headers: {
          get: (name) => {
            const v = res.headers[name.toLowerCase()];
            return Array.isArray(v) ? v.join(", ") : (v ?? null);
          },
        },
        body: res,
        discard: async () => {
          res.destroy();
        },
      });
    };
    const req = target ? get(target, options, onResponse) : get(options, onResponse);
    req.on("error", (err) => reject((proxy && explainProxyFailure(err, proxy, new URL(url))) || err));
  });
};

let youngGc: (() => void) | null | undefined;
/** A minor GC, if V8 lets us have one (exposed once, in a separate context: no global `gc`). */
function collectYoung(): void {
  if (youngGc === undefined) {
    youngGc = null;
    try {
      const existing = (globalThis as { gc?: (o?: unknown) => void }).gc;
      let gc = existing;
      if (typeof gc !== "function") {
        setFlagsFromString("--expose-gc");
        gc = runInNewContext("gc") as (o?: unknown) => void;
      }
      if (typeof gc === "function") {
        const f = gc;
        youngGc = () => f({ type: "minor" });
      }
    } catch {
      youngGc = null;
    }
  }
  youngGc?.();
}
const GC_EVERY_BYTES = 4 * 1024 * 1024;

class Retryable extends Error {
  constructor(
    message: string,
    readonly code = "download_failed",
    readonly waitMs?: number,
  ) {
    super(message);
  }
}

function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`; // no query: signed URLs carry secrets there
  } catch {
    return "the download URL";
  }
}

export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const dest = options.path;
  const part = partPathFor(dest);
  const get: Getter = options.fetch ? fetchGetter(options.fetch) : nativeGetter;
  const idleMs = options.idleTimeoutMs ?? 30_000;
  const maxRetries = Math.max(0, options.maxRetries ?? 4);
  const random = options.random ?? Math.random;
  const signal = options.signal;
  const abortedError = () =>
    new DownloadError("aborted", `Download stopped; the partial file ${basename(part)} is kept`, [
      "Run the same command again to resume",
    ]);

  if (!options.force) {
    let exists = false;
    try {
      await lstat(dest);
      exists = true;
    } catch {}
    if (exists) {
      throw new DownloadError("usage", `${dest} already exists; nothing was downloaded`, [
        "Pass --force to overwrite it, or choose another file name with --output",
      ]);
    }
  }

  let meta: PartMeta | null = await readMeta(dest);
  let attempts = 0;
  for (;;) {
    if (signal?.aborted) throw abortedError();
    attempts++;
    let have = (await sizeOf(part)) ?? 0;
    if (have > 0 && !meta?.validator) {
      // Bytes of unknown origin: we cannot ask for "the rest of the same file".
      await rm(part, { force: true });
      have = 0;
    }
    try {
      const written = await transfer({ ...options, get, part, have, meta, idleMs, signal, dest });
      await rename(part, dest);
      await unlink(metaPathFor(dest)).catch(() => {});
      return { path: dest, bytes: written.bytes, resumedFrom: written.resumedFrom, attempts };
    } catch (err) {
      if (signal?.aborted) throw abortedError();
      if (err instanceof DownloadError) throw err;
      meta = await readMeta(dest);
      const retryable = err instanceof Retryable;
      const e = err as Error;
      if (!retryable || attempts > maxRetries) {
        if (err instanceof Retryable) {
          throw new DownloadError(
            err.code,
            `Download of ${describe(options.url)} failed after ${attempts} attempt${attempts > 1 ? "s" : ""}: ${e.message}; the partial file ${basename(part)} is kept`,
            ["Run the same command again to resume", "Check your connection"],
            { cause: err },
          );
        }
        throw err;
      }
      const bound = Math.min(
        options.backoffCapMs ?? 15_000,
        (options.backoffBaseMs ?? 1_000) * 2 ** (attempts - 1),
      );
      const wait = Math.max(
        err instanceof Retryable && err.waitMs !== undefined ? err.waitMs : 0,
        Math.floor(random() * bound),
      );
      await sleep(wait, signal).catch(() => {
        throw abortedError();
      });
    }
  }
}

interface TransferArgs extends DownloadOptions {
  get: Getter;
  part: string;
  have: number;
  meta: PartMeta | null;
  idleMs: number;
  dest: string;
}

/** One transfer: request (following redirects by hand), then stream into the .part. */
async function transfer(a: TransferArgs): Promise<{ bytes: number; resumedFrom: number }> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(a.signal?.reason);
  a.signal?.addEventListener("abort", onAbort, { once: true });
  let stalled = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const arm = () => {
    // refresh() restarts the timer without allocating a new one (called for every chunk)
    if (idleTimer) idleTimer.refresh();
    else
      idleTimer = setTimeout(() => {
        stalled = true;
        ctl.abort(new Error("stalled"));
      }, a.idleMs);
  };
  try {
    arm();
    let url = a.url;
    let res: HttpAnswer | undefined;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { ...(a.headers ?? {}) };
      if (a.auth && new URL(url).origin === a.auth.origin) headers.authorization = a.auth.authorization;
      if (a.have > 0 && a.meta?.validator) {
        headers.range = `bytes=${a.have}-`;
        headers["if-range"] = a.meta.validator;
      }
      try {
        res = await a.get(url, headers, ctl.signal);
      } catch (err) {
        if (a.signal?.aborted) throw err;
        if (stalled) throw new Retryable(`no data for ${Math.round(a.idleMs / 1000)} s`, "download_stalled");
        // A proxy's refusal (407, 403) does not change on a retry; a proxy that is down may come back.
        if (err instanceof ProxyError && err.kind !== "unreachable")
          throw new DownloadError("download_failed", err.message, err.suggestions, { cause: err });
        if (err instanceof ProxyError) throw new Retryable(err.message);
        throw new Retryable(`could not reach ${new URL(url).host} (${(err as Error).message})`);
      }
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.discard();
        if (hop >= MAX_REDIRECTS) throw new DownloadError("download_failed", "Too many redirects");
        url = new URL(location, url).href;
        continue;
      }
      break;
    }
    const r = res as HttpAnswer;
    arm();

    let start: number;
    let total: number | undefined;
    if (r.status === 206) {
      const cr = parseContentRange(r.headers.get("content-range"));
      if (!cr || "unsatisfied" in cr || cr.start !== a.have) {
        // Not the range we asked for: start over.
        await r.discard();
        await rm(a.part, { force: true });
        await rm(metaPathFor(a.dest), { force: true });
        throw new Retryable("the server answered a different range than asked");
      }
      start = a.have;
      total = cr.total ?? undefined;
    } else if (r.status === 200) {
      start = 0; // the file changed, or ranges are not supported: start over
      const cl = r.headers.get("content-length");
      total = cl !== null && /^\d+$/.test(cl) ? Number(cl) : undefined;
    } else if (r.status === 416) {
      await r.discard();
      const cr = parseContentRange(r.headers.get("content-range"));
      if (cr && "unsatisfied" in cr && cr.total === a.have && a.have > 0) {
        // The .part already holds the whole file.
        return { bytes: a.have, resumedFrom: a.have };
      }
      await rm(a.part, { force: true });
      await rm(metaPathFor(a.dest), { force: true });
      throw new Retryable("the server refused the range of the partial file; starting over");
    } else {
      await r.discard();
      const ra = r.headers.get("retry-after");
      const waitMs = ra && /^\d+$/.test(ra.trim()) ? Number(ra) * 1000 : undefined;
      const msg = `${r.status} ${r.statusText || "error"} from ${describe(a.url)}`;
      if (r.status === 408 || r.status === 429 || r.status >= 500)
        throw new Retryable(msg, "download_failed", waitMs);
      throw new DownloadError("download_failed", `Download failed: ${msg}`, [
        r.status === 404 || r.status === 403 || r.status === 410
          ? "The link may have expired: get a fresh one with gigareels watch <renderId>"
          : "Try again later",
      ]);
    }
    if (!r.body) throw new Retryable("the answer had no body");

    // the URL without its query (signed URLs carry credentials there), for people reading the file
    const newMeta: PartMeta = { url: describe(a.url), validator: validatorOf(r), total };
    if (start === 0 || JSON.stringify(newMeta) !== JSON.stringify(a.meta)) {
      await writeFileAtomic(metaPathFor(a.dest), JSON.stringify(newMeta), { mode: 0o600 }).catch(() => {});
    }

    let bytes = start;
    let sinceGc = 0;
    const lowMemory = a.lowMemory !== false;
    try {
      a.onProgress?.({ bytes, total, resumedFrom: start });
    } catch {}
    // Synchronous writes into the page cache: no thread-pool round trip per chunk, and the
    // next chunk is read only once this one is written (backpressure with nothing queued).
    let fd: number;
    try {
      fd = openSync(a.part, start > 0 ? "a" : "w", 0o644);
    } catch (err) {
      await r.discard();
      throw fileError(a.part, err);
    }
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        arm();
        bytes += chunk.length;
        if (total !== undefined && bytes > total) {
          cb(new DownloadError("length_mismatch", `The server sent more than the announced ${total} bytes`));
          return;
        }
        try {
          for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off);
        } catch (err) {
          cb(fileError(a.part, err));
          return;
        }
        sinceGc += chunk.length;
        if (lowMemory && sinceGc >= GC_EVERY_BYTES) {
          sinceGc = 0;
          collectYoung();
        }
        try {
          a.onProgress?.({ bytes, total, resumedFrom: start });
        } catch {}
        cb();
      },
    });
    try {
      // No fsync (as curl, wget and browsers): the rename below is atomic for other
      // processes; a power cut right after a download may cost a re-download. An fsync of
      // 1 GiB took a fifth of the whole transfer time here.
      await pipeline(r.body, sink, { signal: ctl.signal });
    } catch (err) {
      if (a.signal?.aborted) throw err;
      if (err instanceof DownloadError) {
        await rm(a.part, { force: true });
        await rm(metaPathFor(a.dest), { force: true });
        throw err;
      }
      if (stalled) throw new Retryable(`no data for ${Math.round(a.idleMs / 1000)} s`, "download_stalled");
      throw new Retryable(`the transfer broke off after ${bytes} bytes (${(err as Error).message})`);
    } finally {
      closeSync(fd);
    }
    // A body that ended early is a broken transfer (resume); a full one is checked against the size.
    const onDisk = (await sizeOf(a.part)) ?? 0;
    if (total !== undefined && onDisk < total) {
      throw new Retryable(`the transfer ended after ${onDisk} of ${total} bytes`, "length_mismatch");
    }
    if (total !== undefined && onDisk !== total) {
      await rm(a.part, { force: true });
      throw new DownloadError(
        "length_mismatch",
        `The downloaded file has ${onDisk} bytes but the server announced ${total}; it was discarded`,
        ["Try again; if it persists the server is sending a damaged file"],
      );
    }
    return { bytes: onDisk, resumedFrom: start };
  } finally {
    if (idleTimer) clearTimeout(idleTimer);
    a.signal?.removeEventListener("abort", onAbort);
  }
}

/** A local file problem, as a one-line error: a usage error unless the disk is full. */
function fileError(path: string, err: unknown): DownloadError {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new DownloadError(
      "download_failed",
      `The disk is full while writing ${path}; the partial file is kept`,
      ["Free some space and run the same command again to resume"],
    );
  }
  const why: Record<string, string> = {
    ENOENT: "its folder does not exist",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EISDIR: "it is a folder",
    EROFS: "the file system is read-only",
  };
  return new DownloadError("usage", `Cannot write ${path}: ${why[code] ?? (err as Error).message}`, [
    "Choose another file name or folder with --output",
  ]);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
