/** Fault injection: rules matched per route and method, each with an optional hit budget, and the bodies they send. */
import { Readable } from "node:stream";
import type { Fault, FaultRule } from "./types.js";

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

export function routeMatches(route: string, path: string): boolean {
  if (route.endsWith("*")) return path.startsWith(route.slice(0, -1));
  return route === path;
}

export class FaultList {
  private rules: ActiveRule[] = [];

  add(rule: FaultRule): () => void {
    const active: ActiveRule = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
    this.rules.push(active);
    return () => {
      this.rules = this.rules.filter((r) => r !== active);
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** The first rule matching this request (and `which`, when given), consuming one of its hits. */
  take(method: string, path: string, which?: (fault: Fault) => boolean): Fault | undefined {
    for (const active of this.rules) {
      const { rule } = active;
      if (which && !which(rule.fault)) continue;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!routeMatches(rule.route, path)) continue;
      active.remaining--;
      if (active.remaining <= 0) this.rules = this.rules.filter((r) => r !== active);
      return rule.fault;
    }
    return undefined;
  }
}

/** Faults that change what a route answers (not how it is sent): they combine with one of the others. */
export function changesAnswer(fault: Fault): boolean {
  return (
    fault.kind === "no-validators" ||
    fault.kind === "ignore-range" ||
    fault.kind === "resize" ||
    fault.kind === "output-file"
  );
}

/** The body of the "html" fault: what a reverse proxy answers when the app behind it is down. */
export const PROXY_ERROR_PAGE = `<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
`;

/** The body of the "malformed-json" fault: a JSON document cut short. */
export const TRUNCATED_JSON = '{"success": true, "status": "rendering", "renderId": "rnd_';

export const STATUS_FAULT_MESSAGES: Record<number, string> = {
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service temporarily unavailable",
};

/** The body of the "html" fault with status 200: a CDN's or proxy's sign-in page where a file was expected. */
export const LOGIN_PAGE = `<!doctype html>
<html><head><title>Sign in</title></head>
<body><form method="post" action="/login"><h1>Sign in to continue</h1>
<input name="user"><input name="password" type="password"><button>Sign in</button></form></body>
</html>
`;

/**
 * The first `limit` bytes of `source`, then nothing more and no end (the "stall-body" fault);
 * `onLimit` is called once they are handed on.
 */
export function stallAfterBytes(source: Readable, limit: number, onLimit?: () => void): Readable {
  let sent = 0;
  const out = new Readable({
    read: () => {
      if (sent < limit) source.resume();
    },
    destroy: (err, callback) => {
      source.destroy();
      callback(err);
    },
  });
  source.on("data", (chunk: Buffer) => {
    const piece = chunk.subarray(0, Math.max(0, limit - sent));
    sent += piece.length;
    if (piece.length > 0 && !out.push(piece)) source.pause();
    if (sent >= limit) {
      source.destroy();
      onLimit?.();
    }
  });
  if (limit === 0) {
    source.destroy();
    onLimit?.();
  }
  return out;
}

/**
 * The first `limit` bytes of `source`, then the connection is cut (the "cut-body" fault):
 * `cut` runs shortly after the last byte was handed to the socket.
 */
export function cutAfterBytes(source: Readable, limit: number, cut: () => void): Readable {
  return stallAfterBytes(source, limit, () => setTimeout(cut, 50));
}

/** `source`, its first byte held back for `ms` (the "slow-first-byte" fault). */
export function slowFirstByte(source: Readable, ms: number, timers: Set<NodeJS.Timeout>): Readable {
  return pace(source, ms, () => 0, timers);
}

/** `source` in pieces of `bytes`, one every `everyMs` (the "trickle" fault). */
export function trickle(
  source: Readable,
  bytes: number,
  everyMs: number,
  timers: Set<NodeJS.Timeout>,
): Readable {
  return pace(source, everyMs, () => everyMs, timers, Math.max(1, bytes));
}

/** Sends `source` after `firstMs`, in pieces of at most `piece` bytes, waiting `gapMs()` between them. */
function pace(
  source: Readable,
  firstMs: number,
  gapMs: () => number,
  timers: Set<NodeJS.Timeout>,
  piece = Number.POSITIVE_INFINITY,
): Readable {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer = Buffer.alloc(0);
  let first = true;
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  return new Readable({
    async read() {
      try {
        await wait(first ? firstMs : gapMs());
        first = false;
        if (this.destroyed) return;
        if (pending.length === 0) {
          const next = await iterator.next();
          if (next.done) {
            this.push(null);
            return;
          }
          pending = next.value;
        }
        const take = Math.min(pending.length, piece);
        const chunk = pending.subarray(0, take);
        pending = pending.subarray(take);
        this.push(chunk);
      } catch (err) {
        // the client went away: the source was destroyed under us
        this.destroy(err as Error);
      }
    },
    destroy(err, callback) {
      source.destroy();
      callback(err);
    },
  });
}
