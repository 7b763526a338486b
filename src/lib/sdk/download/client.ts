/**
 * `client.download(urlOrRenderId, options)`: resolves a render id to its video URL (the
 * render must be done), picks the default file name (`<renderId>.mp4`), and hands the
 * transfer to the streaming downloader (src/lib/sdk/download/stream.ts) with the SDK's fetch.
 * The API key goes only to the API's own origin, never to a storage host.
 */
import { basename } from "node:path";
import { type DownloadProgress, type DownloadResult, downloadFile, notHttpError } from "./stream.js";
import { GigaReelsError } from "../errors.js";
import type { FetchLike } from "../transport.js";
import type { RenderStatus } from "../types.js";

export interface DownloadCallOptions {
  /** Destination file. Default `<renderId>.mp4` (or the URL's file name) in the current folder. */
  path?: string;
  /** Overwrite an existing file. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Told when the download starts over (the file on the server changed, Range ignored...). */
  onNotice?: (message: string) => void;
  /**
   * Give up on a transfer that receives nothing for this long (counted from the last byte,
   * or from the request before the first), then retry from where it stopped. Default 60 000 ms.
   */
  idleTimeoutMs?: number;
  /** Retries in a row that bring no new byte. Default 4. */
  maxRetries?: number;
}

export interface DownloadDeps {
  getStatus(renderId: string, options: { signal?: AbortSignal }): Promise<RenderStatus>;
  baseUrl(): Promise<string>;
  apiKey(): Promise<string>;
  fetch?: FetchLike;
  userAgent?: string;
}

export interface DownloadOutcome extends DownloadResult {
  url: string;
  renderId?: string;
}

const URL_RE = /^https?:\/\//i;
/** A scheme (`file:`, `ftp:`, `data:`...): a URL, not a render id. */
const SCHEME_RE = /^[a-z][a-z0-9+.-]*:/i;

/** The default file name for a download: `<renderId>.mp4`, else the URL's last path segment. */
export function defaultFileName(renderId: string | undefined, url: string): string {
  const safeId = renderId?.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  if (safeId) return `${safeId}.mp4`;
  let name = "";
  try {
    name = decodeURIComponent(basename(new URL(url).pathname));
  } catch {}
  name = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  if (!name) return "video.mp4";
  return /\.[A-Za-z0-9]{2,4}$/.test(name) ? name : `${name}.mp4`;
}

export async function downloadRender(
  deps: DownloadDeps,
  urlOrRenderId: string,
  options: DownloadCallOptions = {},
): Promise<DownloadOutcome> {
  let url: string;
  let renderId: string | undefined;
  if (URL_RE.test(urlOrRenderId)) {
    url = urlOrRenderId;
  } else if (SCHEME_RE.test(urlOrRenderId)) {
    // file:///etc/passwd is not a render id to look up (that gave "404 Render not found")
    throw notHttpError(urlOrRenderId);
  } else {
    renderId = urlOrRenderId;
    const status = await deps.getStatus(renderId, { signal: options.signal });
    if (status.status !== "done" || typeof status.outputFile !== "string" || status.outputFile === "") {
      const now =
        status.status === "error"
          ? `failed${status.error ? `: ${status.error}` : ""}`
          : `is ${status.status}`;
      throw new GigaReelsError(`Render ${renderId} has no video to download yet: it ${now}`, {
        suggestions:
          status.status === "error"
            ? ["Submit the render again"]
            : [`Wait for it with: gigareels watch ${renderId} --output FILE`],
      });
    }
    url = new URL(status.outputFile, await deps.baseUrl()).href;
    if (!URL_RE.test(url))
      throw notHttpError(status.outputFile, `The API gave render ${renderId} an output file that`);
  }
  const apiOrigin = new URL(await deps.baseUrl()).origin;
  const target = new URL(url);
  const auth =
    target.origin === apiOrigin
      ? { origin: apiOrigin, authorization: `Bearer ${await deps.apiKey()}` }
      : undefined;
  // The client's own fetch when it was given one; else the SDK's default (see stream.ts).
  const result = await downloadFile({
    url,
    path: options.path ?? defaultFileName(renderId, url),
    force: options.force,
    signal: options.signal,
    onProgress: options.onProgress,
    onNotice: options.onNotice,
    fetch: deps.fetch,
    auth,
    headers: deps.userAgent ? { "user-agent": deps.userAgent } : undefined,
    idleTimeoutMs: options.idleTimeoutMs,
    maxRetries: options.maxRetries,
  });
  return { ...result, url, renderId };
}
