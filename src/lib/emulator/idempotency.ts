/** Idempotency-Key replay for render creation (gigareels-api.md, part B). */
import { createHash } from "node:crypto";
import type { Reply } from "./http.js";

export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const TTL_MS = 24 * 60 * 60 * 1000;

interface Entry {
  fingerprint: string;
  reply: Reply;
  at: number;
}

/** A stable fingerprint of a request body: canonical JSON when it parses, else the raw text. */
export function fingerprint(method: string, path: string, body: string): string {
  let canonical = body;
  try {
    canonical = JSON.stringify(sortKeys(JSON.parse(body)));
  } catch {
    // not JSON: compare the raw text
  }
  return createHash("sha256").update(`${method} ${path}\n${canonical}`).digest("hex");
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export type Lookup = { kind: "miss" } | { kind: "replay"; reply: Reply } | { kind: "mismatch" };

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  lookup(scope: string, key: string, fp: string): Lookup {
    const name = `${scope}\u0000${key}`;
    const e = this.entries.get(name);
    if (!e) return { kind: "miss" };
    if (this.now() - e.at > TTL_MS) {
      this.entries.delete(name);
      return { kind: "miss" };
    }
    if (e.fingerprint !== fp) return { kind: "mismatch" };
    return { kind: "replay", reply: e.reply };
  }

  record(scope: string, key: string, fp: string, reply: Reply): void {
    this.entries.set(`${scope}\u0000${key}`, { fingerprint: fp, reply, at: this.now() });
  }
}
