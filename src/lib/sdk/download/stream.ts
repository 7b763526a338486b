/**
 * The streaming downloader of finished videos.
 *
 * - Streams to `<file>.part` in writes of 1 MiB, one in flight while the next fills (see
 *   PartWriter): memory does not grow with the file, and whatever ends a transfer (its end,
 *   a break, a stall, an abort) every byte received is on disk before it is reported.
 * - Saves only the video: the answer must be `video/*` or `application/octet-stream`, its
 *   body must start with an MP4 `ftyp` box (at byte 4), and its length must match
 *   Content-Length / Content-Range. Anything else (a proxy's or CDN's HTML page...) is one
 *   error naming what came back; nothing is written for it.
 * - Resumes always (output files are immutable, gigareels-api.md part B): every retry and
 *   every rerun asks for `Range: bytes=N-` from the bytes on disk, with `If-Range` when the
 *   server gave a validator (strong ETag, else Last-Modified) and without one otherwise.
 *   Every Content-Range total must equal the size first seen (kept in `<file>.part.json`);
 *   a changed size starts over and says so, a server that ignores Range (200) starts over.
 * - Checks the final length, then renames the `.part` into place (atomic on one file
 *   system). Refuses to overwrite an existing file unless `force`.
 * - An idle timeout counts from the last byte received (or from the request, before the
 *   first): a slow start is fine as long as something arrives within it. Broken, stalled
 *   and 408/429/5xx transfers are retried, each from where the last stopped, with
 *   full-jitter backoff; `maxRetries` counts the attempts in a row that brought nothing.
 * - A local write error (disk full, read-only, permission) keeps and fsyncs what is on disk
 *   and says so (code `download_write_failed`: a local failure, not a network one).
 * - The AbortSignal stops at once and keeps the `.part` for a later resume.
 * - The `authorization` header is only ever sent to `auth.origin` (the API's own origin),
 *   never to a storage host; redirects are followed here, one hop at a time, for that.
 *
 * How the bytes travel: through ky over the SDK's fetch, like every other request of the SDK:
 * the one the SDK user injected, else the proxy-aware fetch of src/lib/net (undici's fetch with
 * its proxy dispatcher when HTTPS_PROXY / HTTP_PROXY applies, loaded only then; otherwise
 * socket-fetch, a plain GET over a socket read into one reused buffer, because Node's own
 * fetch costs four times the CPU per byte: see src/lib/net/socket-fetch.ts). A socket-fetch
 * body is read through its fast reader, any other from its web stream, chunk by chunk.
 */
import {
  closeSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { lstat, readFile, rename, rm, stat, unlink } from "node:fs/promises";
import { basename } from "node:path";
import type { Env } from "../env.js";
import { ProxyError } from "../../net/proxy.js";
import { formatBytes } from "../../text.js";
import { DownloadError } from "./errors.js";

/** The fetch a download may go through (the SDK's `fetch` option). */
export type DownloadFetch = (input: Request, init?: RequestInit) => Promise<Response>;

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
  /** Told when the download starts over (the file on the server changed, Range ignored...). */
  onNotice?: (message: string) => void;
  /** The fetch to use (e.g. one the SDK user injected); it is called through ky. */
  fetch?: DownloadFetch;
  /** Credentials sent only to this origin (the API's own). */
  auth?: { origin: string; authorization: string };
  /** Extra headers (User-Agent...). */
  headers?: Record<string, string>;
  /** Give up on a transfer that receives nothing for this long (then retry). Default 60 000 ms. */
  idleTimeoutMs?: number;
  /** Retries in a row that bring no new byte, after the first attempt. Default 4. */
  maxRetries?: number;
  /** Backoff: full jitter between 0 and min(cap, base * 2^(n-1)). Defaults 1 000 / 15 000 ms. */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  random?: () => number;
  /** Environment for the proxy variables. Default process.env. */
  env?: Env;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  /** Bytes reused from an earlier `.part`. */
  resumedFrom: number;
  /** Transfers made (1 = no retry). */
  attempts: number;
}

export { DownloadError };

interface PartMeta {
  /** The URL without its query (signed URLs carry credentials there). */
  url: string;
  /** Strong ETag or Last-Modified date: the If-Range validator. */
  validator?: string;
  /** The file's full size, as first seen. */
  total?: number;
}

const MAX_REDIRECTS = 5;
/** Starting over because the file changed more often than this is a failure. */
const MAX_RESTARTS = 2;
/** The MP4 signature: a box whose type, at byte 4, is `ftyp`. */
const SNIFF_BYTES = 8;

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
    return v && typeof v === "object" && typeof v.url === "string" ? v : null;
  } catch {
    return null;
  }
}

/**
 * Writes `<file>.part.json` (temp file + rename). Synchronous on purpose: between the answer's
 * headers and the first read of its body nothing may wait on I/O, or a connection cut then
 * discards the bytes already received. A failure only costs the validator on a later resume.
 */
function writeMeta(dest: string, meta: PartMeta): void {
  const tmp = `${metaPathFor(dest)}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(meta), { mode: 0o600 });
    renameSync(tmp, metaPathFor(dest));
  } catch {
    rmSync(tmp, { force: true });
  }
}

async function forget(dest: string): Promise<void> {
  await rm(partPathFor(dest), { force: true });
  await rm(metaPathFor(dest), { force: true });
}

/** Whether the first bytes of `path` are an MP4's (`ftyp` at byte 4). */
function startsAsMp4(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const b = Buffer.alloc(SNIFF_BYTES);
    return readSync(fd, b, 0, SNIFF_BYTES, 0) === SNIFF_BYTES && isMp4Start(b);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
function isMp4Start(b: Uint8Array): boolean {
  return b.length >= SNIFF_BYTES && b[4] === 0x66 && b[5] === 0x74 && b[6] === 0x79 && b[7] === 0x70;
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

/** What a media type is, for people: "an HTML page", "a JSON document"... */
export function describeContent(contentType: string | null): string {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (!type) return "an answer without a Content-Type";
  if (type === "text/html" || type === "application/xhtml+xml") return "an HTML page";
  if (type === "application/json" || type.endsWith("+json")) return "a JSON document";
  if (type.startsWith("text/")) return "a text page";
  if (type.startsWith("image/")) return "an image";
  return `a file of type ${type}`;
}
function isVideoType(contentType: string | null): boolean {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  // no Content-Type at all: the body's first box decides
  return type === "" || type.startsWith("video/") || type === "application/octet-stream";
}

/** What the transfer needs of an answer. */
interface HttpAnswer {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  /**
   * Hands every chunk of the body to `onChunk`, in order, until the body ends; waits for the
   * promise `onChunk` returns (the writer's backpressure) before the next read. Rejects when
   * the transfer breaks or `onChunk` throws. Null when the answer has no body.
   */
  pump: ((onChunk: (chunk: Uint8Array) => Promise<void> | undefined) => Promise<void>) | null;
  /** Drops the body without reading it. */
  discard(): Promise<void>;
}

type Getter = (url: string, headers: Record<string, string>, signal: AbortSignal) => Promise<HttpAnswer>;

/**
 * A GET through ky over `fetchFn`, redirects not followed (the caller follows them).
 * `fastBody`: the fast reader of an answer's body when `fetchFn` has one (src/lib/net/socket-fetch).
 */
function kyGetter(
  fetchFn: DownloadFetch,
  fastBody?: (res: Response) => { pump: NonNullable<HttpAnswer["pump"]> } | undefined,
): Getter {
  return async (url, headers, signal) => {
    const { default: ky } = await import("ky");
    const res = await ky(url, {
      method: "get",
      headers,
      signal,
      // The downloader retries itself, each attempt resuming from the bytes on disk (ky's
      // retry would send the same request again); its idle timeout counts from the last
      // byte (ky's timeout ends at the headers); every status is read below; no hooks, as an
      // afterResponse hook would make ky tee the body (a second copy of every chunk).
      retry: 0,
      timeout: false,
      throwHttpErrors: false,
      redirect: "manual",
      fetch: fetchFn as typeof fetch,
    });
    const body = res.body;
    const fast = body ? fastBody?.(res) : undefined;
    return {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
      pump: fast ? fast.pump : body ? (onChunk) => pumpWeb(body, onChunk) : null,
      discard: () => (body ? body.cancel().catch(() => {}) : Promise.resolve()),
    };
  };
}

/** ky over the SDK's own fetch on Node, with socket-fetch's fast body reader. */
async function proxyAwareGetter(env: Env): Promise<Getter> {
  const [{ proxyAwareFetch }, { socketBody }] = await Promise.all([
    import("../../net/dispatcher.js"),
    import("../../net/socket-fetch.js"),
  ]);
  return kyGetter(proxyAwareFetch(env), socketBody);
}

/** The body, read chunk by chunk (a default reader: the cheapest way through a web stream). */
async function pumpWeb(
  body: ReadableStream<Uint8Array>,
  onChunk: (chunk: Uint8Array) => Promise<void> | undefined,
): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      keepMemoryFlat(value.length);
      const wait = onChunk(value);
      if (wait) await wait;
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    reader.releaseLock();
  }
}

class Retryable extends Error {
  constructor(
    message: string,
    readonly code = "download_failed",
    readonly waitMs?: number,
  ) {
    super(message);
  }
}

/** The file on the server is not the one the `.part` came from: start over at once. */
class StartOver extends Error {}

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
  const env = options.env ?? process.env;
  const idleMs = options.idleTimeoutMs ?? 60_000;
  const maxRetries = Math.max(0, options.maxRetries ?? 4);
  const random = options.random ?? Math.random;
  const signal = options.signal;
  // The SDK's fetch: the one injected, else the proxy-aware one (undici's fetch with its
  // proxy dispatcher when a proxy applies, else socket-fetch: src/lib/net, loaded only now).
  let getter: Getter | undefined;
  const getterOnce = async (): Promise<Getter> => {
    getter ??= options.fetch ? kyGetter(options.fetch) : await proxyAwareGetter(env);
    return getter;
  };
  const abortedError = () =>
    new DownloadError("aborted", `Download stopped; the partial file ${basename(part)} is kept`, [
      "Run the same command again to resume",
    ]);

  try {
    const u = new URL(options.url);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(u.protocol);
  } catch {
    throw notHttpError(options.url);
  }

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

  let attempts = 0;
  let idleInARow = 0;
  let restarts = 0;
  for (;;) {
    if (signal?.aborted) throw abortedError();
    attempts++;
    let meta = await readMeta(dest);
    let have = (await sizeOf(part)) ?? 0;
    if (have > 0 && ((meta && meta.url !== describe(options.url)) || !startsAsMp4(part))) {
      // Bytes of another file (or not of a video at all): nothing to continue.
      await forget(dest);
      meta = null;
      have = 0;
    }
    const before = have;
    let reached = have;
    try {
      const written = await transfer({
        ...options,
        getter: getterOnce,
        part,
        have,
        meta,
        idleMs,
        signal,
        dest,
        onBytes: (n) => {
          reached = n;
        },
      });
      try {
        await rename(part, dest);
      } catch (err) {
        throw localWriteError(dest, err, written.bytes, part);
      }
      await unlink(metaPathFor(dest)).catch(() => {});
      return { path: dest, bytes: written.bytes, resumedFrom: written.resumedFrom, attempts };
    } catch (err) {
      if (signal?.aborted) throw abortedError();
      if (err instanceof DownloadError) throw err;
      if (err instanceof StartOver) {
        await forget(dest);
        if (++restarts > MAX_RESTARTS) {
          throw new DownloadError(
            "download_failed",
            `The file at ${describe(options.url)} changed ${restarts} times while downloading (${err.message}); the download was given up`,
            ["Try again later"],
          );
        }
        try {
          options.onNotice?.(`${err.message}; starting the download over`);
        } catch {}
        continue;
      }
      if (!(err instanceof Retryable)) throw err;
      // attempts that brought new bytes do not count against the retries
      idleInARow = reached > before ? 0 : idleInARow + 1;
      if (idleInARow > maxRetries) {
        const onDisk = (await sizeOf(part)) ?? 0;
        throw new DownloadError(
          err.code,
          `Download of ${describe(options.url)} failed after ${attempts} attempt${attempts > 1 ? "s" : ""}: ${err.message}; ${
            onDisk > 0
              ? `the partial file ${basename(part)} (${formatBytes(onDisk)}) is kept`
              : "nothing was saved"
          }`,
          ["Run the same command again to resume", "Check your connection"],
          { cause: err },
        );
      }
      const bound = Math.min(
        options.backoffCapMs ?? 15_000,
        (options.backoffBaseMs ?? 1_000) * 2 ** Math.max(0, idleInARow - 1),
      );
      const wait = Math.max(err.waitMs ?? 0, idleInARow === 0 ? 0 : Math.floor(random() * bound));
      await sleep(wait, signal).catch(() => {
        throw abortedError();
      });
    }
  }
}

/** An address that is not http(s) (file:, ftp:...): a protocol error, before anything is fetched. */
export function notHttpError(address: string, subject = "The video's address"): DownloadError {
  let scheme = "";
  try {
    scheme = new URL(address).protocol.replace(/:$/, "");
  } catch {}
  const shown = address.length > 80 ? `${address.slice(0, 80)}...` : address;
  return new DownloadError(
    "download_unsupported_url",
    `${subject} is ${scheme ? `a ${scheme}: URL` : "not a URL"} (${shown}), not http(s); nothing was downloaded`,
    [
      "Only http and https output files are downloaded; report the render id to GigaReels if the API gave this address",
    ],
  );
}

interface TransferArgs extends DownloadOptions {
  getter(): Promise<Getter>;
  part: string;
  have: number;
  meta: PartMeta | null;
  idleMs: number;
  dest: string;
  /** The bytes in the `.part` so far, after each write. */
  onBytes(bytes: number): void;
}

/** One transfer: request (following redirects by hand), then stream into the .part. */
async function transfer(a: TransferArgs): Promise<{ bytes: number; resumedFrom: number }> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(a.signal?.reason);
  a.signal?.addEventListener("abort", onAbort, { once: true });
  let stalled = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const stalledError = () =>
    new Retryable(`no data for ${Math.round(a.idleMs / 1000)} s`, "download_stalled");
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
      if (a.have > 0) {
        headers.range = `bytes=${a.have}-`;
        if (a.meta?.validator) headers["if-range"] = a.meta.validator;
      }
      try {
        const get = await a.getter();
        res = await get(url, headers, ctl.signal);
      } catch (err) {
        if (a.signal?.aborted) throw err;
        if (stalled) throw stalledError();
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
        if (!/^https?:$/.test(new URL(url).protocol))
          throw notHttpError(url, `${describe(a.url)} redirected to an address that`);
        continue;
      }
      break;
    }
    const r = res as HttpAnswer;
    arm();
    const host = new URL(url).host;

    let start: number;
    let total: number | undefined;
    if (r.status === 206) {
      const cr = parseContentRange(r.headers.get("content-range"));
      if (!cr || "unsatisfied" in cr || cr.start !== a.have) {
        await r.discard();
        throw new StartOver(`${host} answered another range than the one asked for`);
      }
      start = a.have;
      total = cr.total ?? undefined;
    } else if (r.status === 200) {
      start = 0; // a server that ignores Range, or (If-Range) a changed file: start over
      const cl = r.headers.get("content-length");
      total = cl !== null && /^\d+$/.test(cl) ? Number(cl) : undefined;
    } else if (r.status === 416) {
      await r.discard();
      const cr = parseContentRange(r.headers.get("content-range"));
      if (
        cr &&
        "unsatisfied" in cr &&
        cr.total === a.have &&
        a.have > 0 &&
        (a.meta?.total ?? a.have) === a.have
      ) {
        // The .part already holds the whole file.
        return { bytes: a.have, resumedFrom: a.have };
      }
      throw new StartOver(`${host} refused the range of the partial file`);
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
    const contentType = r.headers.get("content-type");
    const notVideo = (what: string) =>
      new DownloadError(
        "download_not_video",
        `The download got ${what} from ${host} (${r.status}${contentType ? ` ${contentType.split(";")[0]}` : ""}), not the video; ${
          a.have > 0 ? `nothing was added to the partial file ${basename(a.part)}` : "nothing was saved"
        }`,
        [
          "A proxy or CDN in between may want a sign-in, or the link may have expired: open it in a browser to see, or try again later",
        ],
      );
    if (!isVideoType(contentType)) {
      await r.discard();
      throw notVideo(describeContent(contentType));
    }
    if (a.meta?.total !== undefined && total !== undefined && total !== a.meta.total) {
      await r.discard();
      throw new StartOver(
        `The file at ${describe(a.url)} is now ${formatBytes(total)} (${total} bytes), not ${a.meta.total} as when the download began`,
      );
    }
    if (start === 0 && a.have > 0) {
      try {
        a.onNotice?.(
          `${host} ignored the request to resume at byte ${a.have}; downloading the whole file again`,
        );
      } catch {}
    }
    if (!r.pump) throw new Retryable("the answer had no body");

    const newMeta: PartMeta = { url: describe(a.url), validator: validatorOf(r), total };
    if (start === 0 || JSON.stringify(newMeta) !== JSON.stringify(a.meta)) writeMeta(a.dest, newMeta);

    let bytes = start;
    const writer = new PartWriter(a.part, start);
    // the first bytes of a fresh file, held until they show an MP4
    let head: Uint8Array | undefined = start === 0 ? new Uint8Array(0) : undefined;
    try {
      a.onProgress?.({ bytes, total, resumedFrom: start });
    } catch {}
    let failure: unknown;
    try {
      await r.pump((chunk) => {
        arm();
        let data = chunk;
        if (head) {
          const joined = new Uint8Array(head.length + chunk.length);
          joined.set(head);
          joined.set(chunk, head.length);
          if (joined.length < SNIFF_BYTES) {
            head = joined;
            return undefined;
          }
          if (!isMp4Start(joined))
            throw notVideo(`${describeContent(contentType)} that is not an MP4 video (no ftyp box)`);
          head = undefined;
          data = joined;
        }
        if (total !== undefined && bytes + data.length > total) {
          throw new DownloadError(
            "length_mismatch",
            `The server sent more than the announced ${total} bytes`,
          );
        }
        writer.push(data);
        bytes += data.length;
        a.onBytes(bytes);
        try {
          a.onProgress?.({ bytes, total, resumedFrom: start });
        } catch {}
        // a slow disk is not a stalled server: the idle time counts again once the write is done
        arm();
        return undefined;
      });
      if (head)
        throw notVideo(`${describeContent(contentType)} of ${head.length} bytes, too short for a video`);
    } catch (err) {
      failure = err;
    }
    // Every byte received is on disk (written in the turn it came), whatever ended the body
    // (its end, a break, a stall, an abort); those of a wrong answer never were (checked first).
    writer.close();
    if (failure !== undefined) {
      const err = failure;
      if (err instanceof LocalWrite) {
        await r.discard();
        const onDisk = (await sizeOf(a.part)) ?? 0;
        throw localWriteError(a.part, err.cause, onDisk, a.part);
      }
      if (a.signal?.aborted) throw err;
      if (err instanceof DownloadError) {
        await r.discard();
        if (err.code === "download_not_video" && start === 0) {
          // nothing of the video was written in this transfer
          if (a.have === 0) await forget(a.dest);
        } else if (err.code === "length_mismatch") {
          await forget(a.dest);
        }
        throw err;
      }
      if (stalled) throw stalledError();
      throw new Retryable(`the transfer broke off after ${bytes} bytes (${(err as Error).message})`);
    }
    // A body that ended early is a broken transfer (resume); a full one is checked against the size.
    const onDisk = (await sizeOf(a.part)) ?? 0;
    if (total !== undefined && onDisk < total) {
      throw new Retryable(`the transfer ended after ${onDisk} of ${total} bytes`, "length_mismatch");
    }
    if (total !== undefined && onDisk !== total) {
      await forget(a.dest);
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

/** A write to the `.part` failed (its cause is the file system's error). */
class LocalWrite extends Error {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? "write failed", { cause });
  }
}

/**
 * For bodies read from a web stream (an injected fetch, undici's through a proxy; socket-fetch
 * reuses one buffer and makes no garbage): V8 collects the young generation when its
 * JavaScript objects fill it, or when the young network buffers (memory outside its heap:
 * two per chunk through fetch, the socket's and undici's copy for the web stream) reach
 * 32 MB. A download makes few objects and many buffers, so tens of MB of dead buffers waited for a collection. A few small short-lived
 * arrays per chunk (4 KiB each, the last one alone surviving a collection, so the young
 * generation does not grow) make collections come several times as often: in 1 GiB runs,
 * peak RSS about 102 MB instead of 106-120, throughput unchanged within the noise. No
 * process-wide V8 flag, no `gc()`.
 */
const ballast: { array?: unknown[] } = {};
let sinceBallast = 0;
function keepMemoryFlat(n: number): void {
  sinceBallast += n;
  while (sinceBallast >= 8192) {
    sinceBallast -= 8192;
    ballast.array = new Array(512);
  }
}

/**
 * Writes the body into the `.part` as it arrives: each chunk with one synchronous write, in
 * the turn that received it, like curl. Measured on 1 GiB from loopback (bench/download):
 * the copy into the page cache is cheapest while the chunk is still in the CPU's cache; one
 * write in flight on libuv's thread pool, in batches of 1 MiB, cost twice the system time.
 * So every byte received is on disk before the next read, and nothing is held. A failed
 * write keeps and fsyncs what reached the disk and throws LocalWrite. The file is opened on
 * the first push.
 */
class PartWriter {
  #fd: number | undefined;

  constructor(
    private readonly path: string,
    /** The bytes already in the `.part` (0: it is created or emptied). */
    private readonly start: number,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.#fd === undefined) {
      try {
        this.#fd = openSync(this.path, this.start > 0 ? "a" : "w", 0o644);
      } catch (err) {
        throw localWriteError(this.path, err, this.start, this.path);
      }
    }
    const fd = this.#fd;
    try {
      // a short write (a disk filling up): the rest, from where it stopped
      for (let at = 0; at < chunk.length; ) at += writeSync(fd, chunk, at, chunk.length - at);
    } catch (err) {
      // keep what made it to disk, and make it durable: the message says it is kept
      try {
        fsyncSync(fd);
      } catch {}
      throw new LocalWrite(err);
    }
  }

  close(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {}
    this.#fd = undefined;
  }
}

/** A local file problem, as one line: what is kept, and what to do. */
/** `what`: the file named as the one that could not be written (the .part, or the video when renaming). */
function localWriteError(what: string, err: unknown, onDisk: number, part: string): DownloadError {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") {
    const why = code === "EISDIR" ? "it is a folder" : "its folder does not exist";
    return new DownloadError("usage", `Cannot write ${what}: ${why}`, [
      "Choose another file name or folder with --output",
    ]);
  }
  const why: Record<string, string> = {
    ENOSPC: "the disk is full",
    EDQUOT: "the disk quota is used up",
    EROFS: "the file system is read-only",
    EACCES: "permission denied",
    EPERM: "permission denied",
    EIO: "an input/output error",
  };
  const reason = `${why[code] ?? (err as Error).message}${code ? ` (${code})` : ""}`;
  const kept =
    onDisk > 0 ? `the ${formatBytes(onDisk)} downloaded so far are kept in ${part}` : "nothing was written";
  const fix =
    code === "ENOSPC" || code === "EDQUOT"
      ? "Free some space on that disk, or choose another folder with --output"
      : "Choose a folder you can write to with --output";
  return new DownloadError("download_write_failed", `Cannot write ${what}: ${reason}; ${kept}`, [fix], {
    cause: err,
  });
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
