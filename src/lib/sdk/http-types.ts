/** The transport's public types: its configuration, what a request sends and what it returns. */
import type { DebugOption } from "./debug.js";

/** The `fetch` signature the transport calls (ky passes unknown options such as `dispatcher` as the 2nd argument). */
export type FetchLike = (input: Request, init?: RequestInit) => Promise<Response>;

export interface RetryTuning {
  /** Bound of the first backoff delay, and of the random spread added to a server-asked wait. Default 500 ms. */
  baseDelayMs?: number;
  /** Cap of a computed backoff delay. Default 10 s. */
  maxDelayMs?: number;
  /** Smallest gap between two attempts, whatever else says. Default 250 ms. */
  minGapMs?: number;
  /** Longest server-asked wait we honour by sleeping; longer asks fail at once with the wait in the error. Default 60 s. */
  maxServerWaitMs?: number;
  /** Random source in [0, 1) for the jitter (tests). */
  random?: () => number;
}

export interface TransportConfig {
  /** The base URL, already validated, or a lazy resolver (stored profile). */
  baseUrl: string | (() => Promise<string>);
  /** Resolves the API key (already validated) for authenticated requests. */
  apiKey?: () => Promise<string>;
  /** Custom fetch. Default: the global fetch, through the proxy that HTTPS_PROXY/HTTP_PROXY/NO_PROXY in process.env name (src/lib/net). */
  fetch?: FetchLike;
  /** Per-attempt timeout. Default 30 000 ms. */
  timeoutMs?: number;
  /** Overall deadline for one logical request, retries and waits included. Default 120 000 ms. */
  deadlineMs?: number;
  /** Retries after the first attempt. Default 2. */
  maxRetries?: number;
  retry?: RetryTuning;
  debug?: DebugOption;
  /** Extra User-Agent product token, e.g. "gigareels-cli/0.1.0". */
  userAgent?: string;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface SendOptions {
  method: string;
  /** Path below the base URL ("/api/me"), or an absolute URL on the base URL's origin. */
  path: string;
  query?: Record<string, QueryValue | QueryValue[]>;
  headers?: Record<string, string>;
  /** JSON body (sets Content-Type: application/json). */
  json?: unknown;
  /** Raw body (string, bytes or form fields). */
  body?: string | Uint8Array | URLSearchParams;
  /** Send `Authorization: Bearer <key>`. Default true. */
  auth?: boolean;
  /** Sent as `Idempotency-Key` on every attempt; makes a POST retryable. */
  idempotencyKey?: string;
  /** false: never retry; true: retry even a non-GET (only for requests that are safe to repeat). Default: GET/HEAD, or any method with an idempotency key. */
  retry?: boolean;
  signal?: AbortSignal;
  /** Per-attempt timeout for this request. */
  timeoutMs?: number;
  /** Overall deadline for this request. */
  deadlineMs?: number;
}

export interface RawResponse {
  status: number;
  statusText: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Uint8Array;
  /** The final URL (after same-origin redirects). */
  url: string;
  method: string;
  /** Attempts made (1 = no retry). */
  attempts: number;
  /** The body as UTF-8 text. */
  text(): string;
}

export interface JsonResponse<T> {
  status: number;
  headers: Record<string, string>;
  data: T;
  raw: RawResponse;
}

export interface FormResponse {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body, or null for an empty body. */
  body: unknown;
}
