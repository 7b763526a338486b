/**
 * `gigareels api`, without oclif: an authenticated request to any endpoint through the SDK's
 * transport (key resolution, proxies, rate-limit waits, retries of GETs and of POSTs with an
 * Idempotency-Key, same-origin redirects), and the printing of its answer.
 *
 * A 2xx answer is the result. Any other answer is printed too (its body on stdout, as gh
 * does, so scripts can read the server's error) and then thrown as the SDK error its status
 * maps to, so the exit code is the one every command uses (401/403 -> 4, 400 -> 2, 5xx -> 5...).
 */
import { redactKeys } from "../credentials/key-format.js";
import { endpointGroup } from "../sdk/backoff.js";
import type { GigaReels } from "../sdk/client.js";
import { errorFromResponse, type RawResponse } from "../sdk/transport.js";
import { type APIError, UsageError } from "../sdk/errors.js";
import { type ApiArgs, buildApiRequest, type ReadSources } from "./request.js";

export { type ApiArgs, type ApiRequest, buildApiRequest } from "./request.js";

export interface ApiResult {
  method: string;
  /** The URL asked (after same-origin redirects), without a key. */
  url: string;
  status: number;
  statusText: string;
  /** Lower-cased response headers. */
  headers: Record<string, string>;
  /** The parsed JSON body; the text for other text bodies; null when empty; base64 for binary. */
  body: unknown;
  /** "json", "text", "empty" or "binary". */
  bodyKind: "json" | "text" | "empty" | "binary";
  attempts: number;
}

export interface RunApiOptions {
  client: GigaReels;
  signal?: AbortSignal;
  sources?: ReadSources;
}

/** Keeps a request on the API's origin: an absolute URL elsewhere is a usage error, not a send. */
async function checkOrigin(client: GigaReels, path: string): Promise<void> {
  if (!/^https?:\/\//i.test(path)) return;
  const base = new URL(await client.transport.baseUrl());
  let target: URL;
  try {
    target = new URL(path);
  } catch {
    throw new UsageError(`"${path.slice(0, 60)}" is not a URL`);
  }
  if (target.origin !== base.origin) {
    throw new UsageError(
      `${target.origin} is not the API's origin (${base.origin}); the key is only sent to the API`,
      ["Pass a path such as /api/me, or set --base-url"],
    );
  }
}

export async function runApi(
  args: ApiArgs,
  options: RunApiOptions,
): Promise<{ result: ApiResult; raw: RawResponse }> {
  const req = await buildApiRequest(args, options.sources);
  await checkOrigin(options.client, req.path);
  const raw = await options.client.transport.send({
    method: req.method,
    path: req.path,
    query: req.query,
    headers: req.headers,
    ...(req.json !== undefined ? { json: req.json } : {}),
    ...(req.body !== undefined ? { body: req.body } : {}),
    ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
    signal: options.signal,
  });
  return { result: toResult(raw), raw };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as text when it is UTF-8, else null. */
function asText(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export function toResult(raw: RawResponse): ApiResult {
  const base = {
    method: raw.method,
    url: raw.url,
    status: raw.status,
    statusText: raw.statusText,
    headers: raw.headers,
    attempts: raw.attempts,
  };
  if (raw.body.length === 0) return { ...base, body: null, bodyKind: "empty" };
  const bytes = asText(raw.body);
  if (bytes === null) return { ...base, body: Buffer.from(raw.body).toString("base64"), bodyKind: "binary" };
  // Redacted before parsing: a key is letters and digits, so JSON stays JSON.
  const text = redactKeys(bytes);
  const ct = (raw.headers["content-type"] ?? "").toLowerCase();
  if (ct.includes("json") || ct === "") {
    try {
      return { ...base, body: JSON.parse(text), bodyKind: "json" };
    } catch {}
  }
  return { ...base, body: text, bodyKind: "text" };
}

/** The error an answer outside 2xx/3xx maps to (the SDK's classes, so the usual exit codes); null otherwise. */
export function errorForStatus(raw: RawResponse, client: GigaReels): APIError | null {
  if (raw.status >= 200 && raw.status < 400) return null;
  return errorFromResponse(raw, {
    rateLimit: client.transport.rateLimit(endpointGroup(new URL(raw.url).pathname)),
  });
}

/** `HTTP/1.1 200 OK` and the headers, sorted, one per line (for --include). */
export function formatHead(result: ApiResult): string {
  const lines = [`HTTP/1.1 ${result.status} ${result.statusText}`.trimEnd()];
  for (const name of Object.keys(result.headers).sort()) {
    lines.push(`${canonical(name)}: ${result.headers[name]}`);
  }
  return redactKeys(`${lines.join("\n")}\n\n`);
}

function canonical(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
}

/**
 * The body as printed: JSON indented when `pretty` (a terminal), else the bytes as received
 * (text is redacted; a key never reaches the output). Binary bodies are written as they are.
 */
export function formatBody(raw: RawResponse, result: ApiResult, pretty: boolean): Uint8Array | string {
  if (result.bodyKind === "empty") return "";
  if (result.bodyKind === "binary") return raw.body;
  if (result.bodyKind === "json" && pretty) return `${redactKeys(JSON.stringify(result.body, null, 2))}\n`;
  const text = redactKeys(raw.text());
  return pretty && !text.endsWith("\n") ? `${text}\n` : text;
}
