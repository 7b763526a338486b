/** Request URLs below a base URL, and the hint for answers that are not the API's. */
import type { SendOptions } from "./http-types.js";

/** The origin of a request URL, for messages ("the server" when it cannot be parsed). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "the server";
  }
}

/**
 * The fix for an answer that is not the API's: the base URL in use, named, since it may come
 * from GIGAREELS_BASE_URL, --base-url or the SDK's `baseUrl` option.
 */
export function checkBaseUrl(url: string): string {
  return `Check the base URL (${originOf(url)}): it should point at the GigaReels API`;
}

/** base + path (+ query). An absolute `path` is used as is (the origin check happens in `send`). */
export function buildUrl(baseUrl: string, path: string, query?: SendOptions["query"]): string {
  let url: URL;
  if (/^https?:\/\//i.test(path)) url = new URL(path);
  else url = new URL(`${baseUrl.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`);
  for (const [k, v] of Object.entries(query ?? {})) {
    const values = Array.isArray(v) ? v : [v];
    for (const item of values) {
      if (item === undefined || item === null) continue;
      url.searchParams.append(k, String(item));
    }
  }
  return url.href;
}
