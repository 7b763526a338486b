/**
 * The published per-key rate limits (gigareels-api.md, part A): fixed minute, hour and day
 * windows per key and endpoint group. `minuteMs` shrinks the minute for tests; the hour
 * (60 minutes) and the day (1440 minutes) shrink in the same proportion.
 */

export type RateGroup = "render" | "status" | "social" | "other";

export interface GroupLimits {
  minute: number;
  hour: number;
  day: number;
}

/** Requests per minute / hour / day, exactly as the published table. */
export const PUBLISHED_LIMITS: Record<Exclude<RateGroup, "other">, GroupLimits> = {
  render: { minute: 10, hour: 100, day: 1000 },
  status: { minute: 60, hour: 1000, day: 10000 },
  social: { minute: 30, hour: 300, day: 3000 },
};

/**
 * /api/me, the OAuth endpoints and any path the table does not list have no published limits;
 * the emulator gives them the status group's numbers (its own counters, not shared).
 */
export const LIMITS: Record<RateGroup, GroupLimits> = {
  ...PUBLISHED_LIMITS,
  other: PUBLISHED_LIMITS.status,
};

const WINDOWS = ["minute", "hour", "day"] as const;
type WindowName = (typeof WINDOWS)[number];
const MINUTES: Record<WindowName, number> = { minute: 1, hour: 60, day: 1440 };

/** Which group a request counts against. */
export function rateGroupFor(method: string, path: string): RateGroup {
  if (path.startsWith("/api/render/status/")) return "status";
  if (method === "POST" && /^\/api\/render(\/(text|split))?$/.test(path)) return "render";
  if (path === "/api/social-media" || path.startsWith("/api/social-media/")) return "social";
  return "other";
}

interface Counter {
  start: number;
  count: number;
}

export interface RateDecision {
  allowed: boolean;
  /** X-RateLimit-* (and, when refused, Retry-After) headers. */
  headers: Record<string, string>;
  /** Seconds until the exhausted window resets (rounded up, at least 1); 0 when allowed. */
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly counters = new Map<string, Record<WindowName, Counter>>();

  constructor(
    private readonly minuteMs: number,
    private readonly enforce = true,
    private readonly now: () => number = Date.now,
  ) {}

  private windowMs(w: WindowName): number {
    return this.minuteMs * MINUTES[w];
  }

  private bucket(id: string, group: RateGroup): Record<WindowName, Counter> {
    const name = `${id}\u0000${group}`;
    let b = this.counters.get(name);
    const now = this.now();
    if (!b) {
      b = { minute: { start: now, count: 0 }, hour: { start: now, count: 0 }, day: { start: now, count: 0 } };
      this.counters.set(name, b);
    }
    for (const w of WINDOWS) {
      if (now >= b[w].start + this.windowMs(w)) b[w] = { start: now, count: 0 };
    }
    return b;
  }

  /** The policy header: every window, with its (possibly shrunken) length in seconds. */
  policy(group: RateGroup): string {
    const limits = LIMITS[group];
    return WINDOWS.map((w) => `${limits[w]};w=${+(this.windowMs(w) / 1000).toFixed(3)}`).join(", ");
  }

  /**
   * Counts one request of key `id` against `group`, or refuses it when a window is exhausted.
   * The X-RateLimit-* headers describe the most constrained window (fewest requests left).
   */
  take(id: string, group: RateGroup): RateDecision {
    const b = this.bucket(id, group);
    const limits = LIMITS[group];
    const now = this.now();
    const exhausted = WINDOWS.filter((w) => b[w].count >= limits[w]);
    if (exhausted.length > 0 && this.enforce) {
      // The wait is until the last exhausted window resets.
      const resetAt = Math.max(...exhausted.map((w) => b[w].start + this.windowMs(w)));
      const w = exhausted.find((x) => b[x].start + this.windowMs(x) === resetAt) ?? exhausted[0]!;
      const retryAfterSeconds = Math.max(1, Math.ceil((resetAt - now) / 1000));
      return {
        allowed: false,
        retryAfterSeconds,
        headers: {
          "x-ratelimit-limit": String(limits[w]),
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(Math.ceil(resetAt / 1000)),
          "x-ratelimit-policy": this.policy(group),
          "retry-after": String(retryAfterSeconds),
        },
      };
    }
    for (const w of WINDOWS) b[w].count++;
    return { allowed: true, retryAfterSeconds: 0, headers: this.describe(b, group) };
  }

  /** Headers without counting (answers to requests that carry no valid key). */
  peek(id: string, group: RateGroup): Record<string, string> {
    return this.describe(this.bucket(id, group), group);
  }

  private describe(b: Record<WindowName, Counter>, group: RateGroup): Record<string, string> {
    const limits = LIMITS[group];
    let best: WindowName = "minute";
    for (const w of WINDOWS) {
      if (limits[w] - b[w].count < limits[best] - b[best].count) best = w;
    }
    return {
      "x-ratelimit-limit": String(limits[best]),
      "x-ratelimit-remaining": String(Math.max(0, limits[best] - b[best].count)),
      "x-ratelimit-reset": String(Math.ceil((b[best].start + this.windowMs(best)) / 1000)),
      "x-ratelimit-policy": this.policy(group),
    };
  }
}

/** The published 429 message, with the real wait. */
export function rateLimitMessage(seconds: number): string {
  return `Rate limit exceeded. Try again in ${seconds} seconds.`;
}
