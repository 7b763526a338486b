/**
 * Pacing of render creation for a key: how a batch stays inside the key's render limits
 * (10 a minute, 100 an hour, 1000 a day) without ever being refused, alongside any other
 * process creating renders with the same key.
 *
 * `RenderPacer` is what the batch engine needs; `sharedRenderPacer` is the implementation
 * used by default. It follows what the server says: the X-RateLimit-* headers of each
 * creation name the most constrained window (its limit, what is left, when it resets).
 * Rules, in order:
 * 1. With fresh headers (their reset still ahead), a creation may go while what is left,
 *    minus every creation sent since the request those headers answered, stays above the
 *    reserve (10 % of the window's limit, at least 1: room for other clients of the key and
 *    for counts that are a moment old). Otherwise wait for the reset.
 * 2. Without fresh headers (the first creation, or after a reset) one creation at a time goes
 *    as a probe; its answer brings fresh headers for everyone. A server that never sends
 *    them gets 9 creations a minute (the published 10 less the reserve).
 * The headers, the probe and the creations sent are kept in a small JSON file per key,
 * `<configDir>/state/renders-<sha256(key) prefix>.json` (never the key), changed under a file
 * lock, so every process of the key paces against the same numbers. A folder that cannot be
 * written makes the pacer work alone, in memory, by the same rules.
 */
import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  configDir,
  ensurePrivateDir,
  pidAlive,
  readJsonFile,
  withFileLock,
  writeFileAtomic,
} from "../../fs/index.js";
import type { RateLimitState } from "../backoff.js";
import { sleep } from "../transport.js";

/** The published render limits and the names of their windows. */
export const RENDER_WINDOWS: Record<number, "minute" | "hour" | "day"> = {
  10: "minute",
  100: "hour",
  1000: "day",
};

export type PaceWindow = "minute" | "hour" | "day" | "window";

/** Told when a creation has to wait. */
export interface PaceWait {
  /** Local epoch ms when creations may go on. */
  until: number;
  /** Which window is spent ("window" when the limit is not one of the published ones). */
  window: PaceWindow;
  /** The window's limit, when known. */
  limit: number | null;
}

/** One granted creation. */
export interface PaceTicket {
  /** Local epoch ms when it was granted. */
  at: number;
}

export interface RenderPacer {
  /** Resolves when one render may be created now. Rejects (AbortedError) when the signal fires. */
  acquire(options?: { signal?: AbortSignal; onWait?: (wait: PaceWait) => void }): Promise<PaceTicket>;
  /** After the creation: the render group's rate-limit state from its answer (undefined when it failed). */
  settle(ticket: PaceTicket, state: RateLimitState | undefined): Promise<void>;
}

interface Observation {
  limit: number | null;
  remaining: number | null;
  resetAt: number | null;
  /** When the request these headers answered was granted. */
  sentAt: number;
}

interface PaceFile {
  version: 1;
  obs?: Observation;
  /** Grant times since the observation's request (and the last minute without one). */
  sends: number[];
  probe?: { at: number; pid: number; host: string };
}

/** A probe that has not come back after this long no longer holds the others. */
const PROBE_TIMEOUT_MS = 15_000;
/** Sent this soon after the reset the server announced (its clock rounds to the second). */
const RESET_MARGIN_MS = 100;
const MAX_SENDS = 2_000;
/** Creations a minute when the server never says anything of its limits. */
const NO_HEADERS_PER_MINUTE = 9;

function windowOf(limit: number | null): PaceWindow {
  return (limit !== null && RENDER_WINDOWS[limit]) || "window";
}

/** 10 % of the limit, at least 1. */
export function reserveOf(limit: number | null): number {
  return limit === null ? 1 : Math.max(1, Math.ceil(limit * 0.1));
}

type Decision = { grant: true } | { grant: false; waitMs: number; wait?: PaceWait };

/** The pacing rules on the file's content at `now` (pure; changes `file` when it grants). */
export function decide(file: PaceFile, now: number, host: string = hostname()): Decision {
  const obs = file.obs;
  file.sends = file.sends.filter((t) => (obs ? t > obs.sentAt : t > now - 60_000)).slice(-MAX_SENDS);
  if (obs && obs.resetAt !== null && obs.remaining !== null && obs.resetAt > now) {
    const left = obs.remaining - file.sends.length;
    if (left > reserveOf(obs.limit)) {
      file.sends.push(now);
      return { grant: true };
    }
    const until = obs.resetAt + RESET_MARGIN_MS;
    return {
      grant: false,
      waitMs: until - now,
      wait: { until, window: windowOf(obs.limit), limit: obs.limit },
    };
  }
  const p = file.probe;
  const probeLive = p && now - p.at < PROBE_TIMEOUT_MS && (p.host !== host || pidAlive(p.pid));
  if (probeLive) return { grant: false, waitMs: 20 + Math.floor(Math.random() * 60) };
  if (!obs && file.sends.length >= NO_HEADERS_PER_MINUTE) {
    // A server that sends no X-RateLimit-* headers: 9 a minute, the published 10 less the reserve.
    const until = file.sends[file.sends.length - NO_HEADERS_PER_MINUTE]! + 60_000;
    return { grant: false, waitMs: until - now, wait: { until, window: "minute", limit: 10 } };
  }
  file.probe = { at: now, pid: process.pid, host };
  file.sends.push(now);
  return { grant: true };
}

/** Records the answer of a granted creation (pure; changes `file`). */
export function record(file: PaceFile, ticket: PaceTicket, state: RateLimitState | undefined): void {
  if (file.probe && file.probe.at === ticket.at && file.probe.pid === process.pid) delete file.probe;
  if (!state || state.remaining === null || state.resetAt === null) return;
  if (file.obs && file.obs.sentAt > ticket.at) return; // a fresher answer is known
  file.obs = { limit: state.limit, remaining: state.remaining, resetAt: state.resetAt, sentAt: ticket.at };
  file.sends = file.sends.filter((t) => t > ticket.at);
}

function sanitize(v: unknown): PaceFile {
  const out: PaceFile = { version: 1, sends: [] };
  if (!v || typeof v !== "object") return out;
  const f = v as Partial<PaceFile>;
  const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
  if (Array.isArray(f.sends)) out.sends = f.sends.filter(num);
  const o = f.obs;
  if (o && num(o.sentAt))
    out.obs = {
      limit: num(o.limit) ? o.limit : null,
      remaining: num(o.remaining) ? o.remaining : null,
      resetAt: num(o.resetAt) ? o.resetAt : null,
      sentAt: o.sentAt,
    };
  if (f.probe && num(f.probe.at) && num(f.probe.pid) && typeof f.probe.host === "string") out.probe = f.probe;
  return out;
}

export function renderPaceFilePath(apiKey: string, dir: string = configDir()): string {
  const digest = createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
  return join(dir, "state", `renders-${digest}.json`);
}

export interface SharedRenderPacerOptions {
  /** The config folder. Default configDir(). */
  dir?: string;
  now?: () => number;
}

/** The default pacer: the rules above, shared through the key's file. */
export function sharedRenderPacer(apiKey: string, options: SharedRenderPacerOptions = {}): RenderPacer {
  const dir = options.dir ?? configDir();
  const path = renderPaceFilePath(apiKey, dir);
  const now = options.now ?? Date.now;
  let alone: PaceFile | undefined; // set once the file cannot be used

  async function withFile<T>(fn: (file: PaceFile) => T): Promise<T> {
    if (!alone) {
      try {
        await ensurePrivateDir(join(dir, "state"));
        return await withFileLock(
          `${path}.lock`,
          async () => {
            let file: PaceFile;
            try {
              const r = await readJsonFile(path);
              file = sanitize(r.kind === "ok" ? r.value : undefined);
            } catch {
              file = sanitize(undefined);
            }
            const result = fn(file);
            await writeFileAtomic(path, `${JSON.stringify(file)}\n`, { mode: 0o600 });
            return result;
          },
          { timeoutMs: 5_000, staleMs: 10_000 },
        );
      } catch {
        alone = { version: 1, sends: [] };
      }
    }
    return fn(alone);
  }

  return {
    async acquire({ signal, onWait } = {}) {
      let told = 0;
      for (;;) {
        if (signal?.aborted) await sleep(0, signal); // throws AbortedError
        const t = now();
        const d = await withFile((file) => decide(file, t));
        if (d.grant) return { at: t };
        if (d.wait && onWait && d.wait.until !== told) {
          told = d.wait.until;
          onWait(d.wait);
        }
        await sleep(Math.max(10, d.waitMs), signal);
      }
    },
    async settle(ticket, state) {
      await withFile((file) => record(file, ticket, state));
    },
  };
}
