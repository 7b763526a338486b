/** Request and response types of the GigaReels API, as the SDK exposes them. */
import type { RateLimitState } from "./backoff.js";
import type { DebugOption } from "./debug.js";
import type { Env } from "./env.js";
import type { FetchLike, RetryTuning } from "./transport.js";

export type { EndpointGroup, RateLimitState } from "./backoff.js";
export type { DebugOption, DebugSink } from "./debug.js";
export type {
  FetchLike,
  FormResponse,
  JsonResponse,
  QueryValue,
  RawResponse,
  RetryTuning,
  SendOptions,
} from "./transport.js";

export interface GigaReelsOptions {
  /** The API key. Default: GIGAREELS_API_KEY, else the stored CLI credentials. */
  apiKey?: string;
  /** Default: GIGAREELS_BASE_URL, else the stored profile's, else https://gigareels.com. */
  baseUrl?: string;
  /** Stored credentials profile to use when no key is given. Default: GIGAREELS_PROFILE, else the active profile. */
  profile?: string;
  /** Per-attempt timeout. Default 30 000 ms. */
  timeoutMs?: number;
  /** Overall deadline of one call, retries and waits included. Default 120 000 ms. */
  deadlineMs?: number;
  /** Retries after the first attempt (GETs, and POSTs that carry an Idempotency-Key). Default 2. */
  maxRetries?: number;
  /** Backoff tuning (mostly for tests and tools). */
  retry?: RetryTuning;
  /** Custom fetch. Default: the global fetch, through the proxy HTTPS_PROXY/HTTP_PROXY/NO_PROXY name. */
  fetch?: FetchLike;
  /** Debug log on stderr (true), to a function, or off (false). Default: on when DEBUG matches gigareels*. */
  debug?: DebugOption;
  /** Extra User-Agent product token, e.g. "gigareels-cli/0.1.0". */
  userAgent?: string;
  /** Environment to read GIGAREELS_* from. Default process.env where there is one (Node, Bun, Deno), else none. */
  env?: Env;
  /**
   * Receives the SDK's warnings (a keychain that could not be read, a credentials file others
   * can read, a v1 file that the CLI will migrate on its next write). Default: dropped; the
   * SDK never writes to stderr itself (debug output aside, which you switch on).
   */
  onWarning?: (message: string) => void;
  /**
   * The length of the server's rate-limit minute, for a server that shortens it (an emulator
   * started with --rate-limit-minute; its hour and day scale alike): the key's shared request
   * budget counts in windows of this length. Default: GIGAREELS_RATE_LIMIT_MINUTE_MS, else
   * 60 000.
   */
  rateLimitMinuteMs?: number;
}

export type { Env } from "./env.js";

/**
 * Which key a client built with the same options would use, without the key:
 * `GigaReels.keySource()`. `origin` says where exactly (the variable, the file, the keychain
 * item); `profile` is the stored profile for keychain/file keys.
 */
export interface KeySource {
  source: CredentialSource;
  origin: string;
  profile?: string;
}

/** Options accepted by every API method. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Per-attempt timeout for this call. */
  timeoutMs?: number;
}

/** Options for the methods that create a render. */
export interface RenderCallOptions extends CallOptions {
  /** Reused on every retry; the server returns the first answer for a repeated key. Default: a fresh UUID. */
  idempotencyKey?: string;
  /**
   * Take a slot in the key's request budget shared with every process of the key on this
   * machine (renders, batches, watchers) before sending: the creation waits while 90 % of a
   * render window (10/min, 100/h, 1000/day) is used or after a 429 (the signal stops the
   * wait). Default: on where there is a file system (Node, Bun, Deno), off elsewhere.
   */
  shareBudget?: boolean;
  /** Told when the creation waits for the budget: how long, which window, until when (local epoch ms). */
  onBudgetWait?: (wait: {
    waitMs: number;
    reason: "minute" | "hour" | "day" | "server";
    until: number;
  }) => void;
}

/** The published endpoints that create a render. */
export type RenderEndpoint = "/api/render" | "/api/render/text" | "/api/render/split";

/** Any render request: POST /api/render with a `type`. */
export interface RenderRequest {
  type: string;
  [field: string]: unknown;
}

export interface EducationalBrainrotParams {
  prompt: string;
  /** e.g. "rick-and-morty" */
  characterPack: string;
  /** e.g. "minecraft-parkour" */
  backgroundVideoPack: string;
  [field: string]: unknown;
}

export interface EducationalBrainrotRequest extends EducationalBrainrotParams {
  type: "educational-brainrot";
}

export interface TextOverlay {
  text: string;
  position: { x: number; y: number };
}

export interface TextStyle {
  fontFamily?: string;
  fontSize?: number;
  /** "#RRGGBB" */
  color?: string;
}

/** POST /api/render/text */
export interface TextRenderRequest {
  videoUrl: string;
  textOverlays: TextOverlay[];
  textStyle?: TextStyle;
  [field: string]: unknown;
}

export type SplitPosition = "left" | "right" | "top" | "bottom";

/** POST /api/render/split */
export interface SplitRenderRequest {
  videoUrl: string;
  position: SplitPosition;
  brollVideo?: string;
  /** Default "contain" for left/right, "cover" for top/bottom. */
  objectFit?: "cover" | "contain";
  [field: string]: unknown;
}

/** What the server answers when a render is created. */
export interface RenderCreatedBody {
  success?: boolean;
  renderId?: string;
  taskId?: string;
  id?: string;
  [field: string]: unknown;
}

/** What the SDK returns when a render is created. */
export interface RenderCreated {
  renderId: string;
  /** The Idempotency-Key sent (reuse it to repeat the call safely). */
  idempotencyKey: string;
  /** The server's answer as received. */
  body: RenderCreatedBody;
}

/** Published: rendering, done, error. Also seen: queued. Anything but done/error means "not finished". */
export type RenderStatusWord = "queued" | "rendering" | "done" | "error" | (string & {});

/** GET /api/render/status/{id}; unknown fields are kept. */
export interface RenderStatus {
  /** The id asked about. */
  renderId: string;
  status: RenderStatusWord;
  /** URL of the finished video (status "done"). */
  outputFile?: string;
  /** The failure message (status "error"). */
  error?: string;
  /** 0-100 when the server says. */
  progress?: number;
  [field: string]: unknown;
}

/** GET /api/me */
export interface Me {
  id: string;
  email: string;
  name?: string;
  plan?: string;
  key?: { id: string; name?: string; createdAt?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export type CredentialSource = "option" | "env" | "env-file" | "keychain" | "file";

/** Where the client's key came from, for display. Never contains the key. */
export interface ClientCredentials {
  source: CredentialSource;
  /** giga_**** + last 4 */
  masked: string;
  /** The stored profile, when the key came from one. */
  profile?: string;
  /** The base URL requests go to. */
  baseUrl: string;
}

/** The rate-limit state per endpoint group. */
export type RateLimits = Partial<Record<"render" | "status" | "social-media" | "other", RateLimitState>>;

/** Options for `gigareels api`-style raw calls. */
export interface RawRequestOptions extends CallOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined | null | Array<string | number | boolean>>;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Uint8Array;
  idempotencyKey?: string;
}
