/** Small HTTP helpers shared by the emulator's handlers: replies as values, bodies, forms. */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";

/** What a handler answers. The server decides how (and whether) to send it. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** A string, a buffer, or a stream (large files); undefined for no body. */
  body?: string | Buffer | Readable;
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(value),
  };
}

export function apiError(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return json(status, { error: message }, headers);
}

export function html(status: number, page: string, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers },
    body: page,
  };
}

export function redirect(location: string): Reply {
  return { status: 302, headers: { location, "cache-control": "no-store" }, body: "" };
}

export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

/** Reads the whole request body (up to 1 MiB) as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError("body too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses a form-encoded body (or a JSON object, for tolerance) into string fields. */
export function parseForm(body: string, contentType: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (contentType?.includes("application/json")) {
    try {
      const value = JSON.parse(body) as unknown;
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
      }
    } catch {
      // fall through: no fields
    }
    return out;
  }
  for (const [k, v] of new URLSearchParams(body)) if (!(k in out)) out[k] = v;
  return out;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A minimal page frame for the emulator's HTML screens. */
export function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · GigaReels (local emulator)</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}button{font-size:1rem;padding:.5rem 1.2rem;margin:.8rem .5rem 0 0}
.note{color:#666;font-size:.9rem}.error{color:#b00020}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${content}
<p class="note">This is the GigaReels local emulator, not gigareels.com.</p>
</body></html>
`;
}
