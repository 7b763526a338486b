/**
 * The emulator's programmatic surface, shared by `gigareels emulator` and by the tests.
 * The emulator imports nothing from the client side (SDK, credentials, auth flows).
 */

export interface EmulatorOptions {
  /** 0 picks a free port. Default 3000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keys that are valid from the start. When empty, one random key is generated. */
  keys?: string[];
  /** How long a render takes, queued -> rendering -> done. Default 6000 ms. */
  renderDurationMs?: number;
  /** Approve /oauth/authorize requests without a click. */
  autoApprove?: boolean;
  /** The length of a rate-limit "minute" in ms, so limit tests run in seconds. Default 60000.
   *  The hour and day windows shrink in the same proportion. */
  rateLimitMinuteMs?: number;
  /** false: count requests and send X-RateLimit-* headers, but never refuse with 429 (for
   *  functional tests that make many requests). Default true. */
  rateLimits?: boolean;
  /** Size in bytes of the served output video (a real MP4 header, padded). Default ~64 KiB. */
  outputSizeBytes?: number;
  /** Device flow polling interval in seconds. Default 5. */
  deviceIntervalSeconds?: number;
  /** Device / authorization code lifetime in seconds. Default 600. */
  codeTtlSeconds?: number;
  /** Plan reported by /api/me for new keys ("free" plans get 403 on split renders). Default "pro". */
  plan?: string;
  /** Optional TLS: serve HTTPS with this key/cert (PEM). */
  tls?: { key: string; cert: string };
  /** Print each request to stderr. */
  verbose?: boolean;
}

/** What the emulator remembers of each request (for assertions). Authorization is redacted. */
export interface RequestLogEntry {
  time: number;
  method: string;
  path: string;
  /** Query string without the leading "?". */
  query: string;
  status: number;
  /** Lower-cased request headers, with `authorization` redacted to "Bearer giga_****abcd". */
  headers: Record<string, string>;
  /** The key's last 4 characters when a Bearer key was sent. */
  keyLast4?: string;
  body?: string;
}

/**
 * A fault applies to requests whose path matches `route` (exact path, or a prefix ending in
 * `*`, e.g. "/api/render/status/*"), optionally only for `method`. `times` limits how many
 * requests it hits (default: unlimited until cleared).
 */
export type Fault =
  | { kind: "latency"; ms: number }
  | { kind: "hang" }
  | { kind: "status"; status: 500 | 502 | 503; retryAfterSeconds?: number }
  | { kind: "rate-limit"; retryAfterSeconds?: number }
  | { kind: "reset-before" }
  | { kind: "reset-after" }
  | { kind: "malformed-json" }
  /** An HTML page (a proxy's or CDN's): status 502 by default; 200 is a login page where a video was expected. */
  | { kind: "html"; status?: 200 | 502 }
  /** Sends the headers and the first `afterBytes` bytes of a streamed body (an output file), then
   *  holds the connection open: a download that stalls midway. */
  | { kind: "stall-body"; afterBytes: number }
  /** Sends the headers and the first `afterBytes` bytes of a streamed body, then cuts the connection. */
  | { kind: "cut-body"; afterBytes: number }
  /** Sends the headers at once and the first byte of the body only after `ms`. */
  | { kind: "slow-first-byte"; ms: number }
  /** Sends the body `bytes` at a time, one piece every `everyMs`. */
  | { kind: "trickle"; bytes: number; everyMs: number }
  /** Output files: served without ETag and Last-Modified (no validator for If-Range). */
  | { kind: "no-validators" }
  /** Output files: a Range request answered 200 with the whole file. */
  | { kind: "ignore-range" }
  /** Output files: the file served as if it had `sizeBytes` bytes (its total changed). */
  | { kind: "resize"; sizeBytes: number }
  /** Render status: a done render names this `outputFile` (e.g. a URL that is not http(s)). */
  | { kind: "output-file"; url: string }
  /** Revokes the key the request carries, then processes it (so it answers 401): a key revoked mid-session. */
  | { kind: "revoke-key" };

export interface FaultRule {
  route: string;
  method?: string;
  times?: number;
  fault: Fault;
}

export type RenderOutcome = "done" | "error" | "never";

export interface EmulatorRender {
  id: string;
  type: string;
  status: "queued" | "rendering" | "done" | "error";
  progress: number;
  createdAt: number;
  outcome: RenderOutcome;
  error?: string;
  /** The Idempotency-Key of the request that created it (a replay creates nothing). */
  idempotencyKey?: string;
  /** The last 4 characters of the key that created it (tests count renders per key). */
  keyLast4: string;
}

export interface EmulatorKey {
  key: string;
  id: string;
  name: string;
  createdAt: string;
  revoked: boolean;
  account: { id: string; email: string; name: string };
  plan: string;
}

export interface EmulatorHandle {
  /** e.g. "http://127.0.0.1:54321" (no trailing slash). */
  url: string;
  port: number;
  /** Keys valid at start (the first is the "ready-to-use" one printed by the CLI). */
  keys: string[];
  /** Every request served, in order. */
  requests: RequestLogEntry[];
  /** Adds a fault rule; returns a function that removes it. */
  addFault(rule: FaultRule): () => void;
  clearFaults(): void;
  /** Creates a valid key (optionally with a creation date in the past, for rotation tests). */
  createKey(options?: { createdAt?: Date; plan?: string; email?: string; name?: string }): string;
  /** Revokes a key (mid-session revocation). */
  revokeKey(key: string): void;
  /** Key metadata, for assertions (e.g. revoked after logout). */
  keyInfo(key: string): EmulatorKey | undefined;
  /** The outcome of the next renders created: "error" fails them, "never" keeps them rendering. */
  setNextRenderOutcome(outcome: RenderOutcome, options?: { error?: string; count?: number }): void;
  /** Every render created, in order. */
  renders(): EmulatorRender[];
  /** Approve or deny a pending device code (what the /device page does). */
  approveDevice(userCode: string, approve?: boolean): void;
  /** Changes the render duration for renders created from now on. */
  setRenderDurationMs(ms: number): void;
  stop(): Promise<void>;
}
