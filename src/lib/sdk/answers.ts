/**
 * From an HTTP answer (or a failed fetch) to what the SDK says about it: the short reason
 * word of a connection failure, the JSON body, and the error class of a non-2xx answer
 * (through APIError.generate, the one status -> class mapping).
 */
import { errorChain } from "../net/proxy.js";
import { type RateLimitState, serverRequestedWait } from "./backoff.js";
import { APIError } from "./errors.js";
import type { RawResponse } from "./http-types.js";

const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Payload Too Large",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

const decoder = new TextDecoder();

/** UTF-8 text of a body (kept behind a function: the decoder's inferred type would name Node's util in the declarations). */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function headersToRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    out[k.toLowerCase()] = v;
  });
  return out;
}

export function recordHeaders(rec: Record<string, string>): { get(name: string): string | null } {
  return { get: (name) => rec[name.toLowerCase()] ?? null };
}

/** Maps a fetch failure to a short reason word. */
export function connectionReason(err: unknown): string {
  const { codes, messages } = errorChain(err);
  const all = `${codes} ${messages}`;
  // fetch refuses ports of the Fetch standard's "bad port" list (e.g. 1, 9, 6000) before connecting.
  if (/^bad port$/im.test(messages.replace(/ \| /g, "\n"))) return "blocked-port";
  if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME|getaddrinfo/i.test(all)) return "dns";
  if (/ECONNREFUSED/.test(all)) return "refused";
  if (/CERT|TLS|SSL|self[- ]signed|UNABLE_TO_VERIFY|DEPTH_ZERO/i.test(all)) return "tls";
  if (
    /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed|closed the connection|socket hang up|terminated/i.test(
      all,
    )
  )
    return "reset";
  return "network";
}

export const REASON_TEXT: Record<string, string> = {
  dns: "the host name could not be resolved",
  refused: "the connection was refused",
  reset: "the connection was reset before an answer arrived",
  tls: "the TLS handshake failed (certificate problem)",
  network: "the network request failed",
  "blocked-port": "fetch never connects to this port (it is on the Fetch standard's list of blocked ports)",
};

/** Short, key-free description of the request for messages: "GET /api/me". */
export function what(method: string, url: string): string {
  try {
    const u = new URL(url);
    return `${method} ${u.pathname}`;
  } catch {
    return method;
  }
}

/** Parses a body as JSON when it looks like JSON; `ok:false` when it is not JSON. */
export function parseJsonBody(
  body: Uint8Array,
  contentType: string | undefined,
): { ok: true; value: unknown } | { ok: false; empty: boolean } {
  const text = decoder.decode(body);
  if (text.trim() === "") return { ok: false, empty: true };
  const ct = (contentType ?? "").toLowerCase();
  if (ct && !ct.includes("json") && !ct.startsWith("text/plain")) return { ok: false, empty: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, empty: false };
  }
}

function serverText(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const b = body as Record<string, unknown>;
  for (const k of ["error_description", "error", "message", "detail"]) {
    const v = b[k];
    if (typeof v === "string" && v.trim()) {
      // For OAuth bodies, "invalid_grant: description" reads better than the description alone.
      if (k === "error_description" && typeof b.error === "string") return `${b.error}: ${v.trim()}`;
      return v.trim();
    }
    if (v && typeof v === "object" && typeof (v as { message?: unknown }).message === "string")
      return ((v as { message: string }).message || "").trim();
  }
  return undefined;
}

function oneLine(s: string, max = 300): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Turns a non-2xx answer into the matching error. Message: "<status> <server text>", or for a
 * body that is not JSON, "<status> <reason> (<content type> answer from the server, not JSON)".
 */
export function errorFromResponse(
  res: RawResponse,
  options: { rateLimit?: RateLimitState | null; now?: number } = {},
): APIError {
  const now = options.now ?? Date.now();
  const ct = res.headers["content-type"];
  const parsed = parseJsonBody(res.body, ct);
  const reason = res.statusText || REASONS[res.status] || "HTTP error";
  let message: string;
  let body: unknown;
  if (parsed.ok) {
    body = parsed.value;
    const t = serverText(parsed.value);
    message = `${res.status} ${oneLine(t ?? reason)}`;
  } else if (parsed.empty) {
    body = undefined;
    message = `${res.status} ${reason} (empty answer from the server)`;
  } else {
    const kind = (ct ?? "").split(";")[0]?.trim() || "unlabelled";
    body = undefined;
    message = `${res.status} ${reason} (${kind} answer from the server, not JSON)`;
  }
  const rl = options.rateLimit ?? null;
  const wait =
    res.status === 429
      ? serverRequestedWait(res.status, recordHeaders(res.headers), body ?? res.text(), now)
      : null;
  return APIError.generate(res.status, message, {
    body,
    headers: res.headers,
    requestId: res.headers["x-request-id"] ?? res.headers["request-id"],
    method: res.method,
    url: res.url,
    rateLimit: rl ? { limit: rl.limit, remaining: rl.remaining, resetAt: rl.resetAt } : undefined,
    retryAfterMs: wait?.ms,
  });
}
