/**
 * The SDK's one error hierarchy. Every error carries a stable `code` (the CLI maps codes to
 * exit codes in `src/lib/cli/exit-codes.ts`) and optional `suggestions` (what to do).
 * Messages start with the HTTP status when there is one ("401 Invalid API key"), so the
 * guide's `error.message.includes("401")` checks work, and never contain a key.
 */
import { redactKeys } from "../credentials/key-format.js";

/** The last rate-limit headers seen for an endpoint group (resetAt in local epoch ms, skew-corrected). */
export interface RateLimitInfo {
  limit: number | null;
  remaining: number | null;
  resetAt: number | null;
}

export interface ErrorOptions {
  cause?: unknown;
  suggestions?: string[];
}

export class GigaReelsError extends Error {
  code = "error";
  suggestions: string[];
  constructor(message: string, options: ErrorOptions = {}) {
    super(redactKeys(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.suggestions = options.suggestions ?? [];
  }
}

export interface APIErrorInit extends ErrorOptions {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  requestId?: string;
  method?: string;
  url?: string;
  /** The rate-limit state the failing answer carried, when it had X-RateLimit-* headers. */
  rateLimit?: RateLimitInfo;
}

/** The server answered with an error status. */
export class APIError extends GigaReelsError {
  override code = "api_error";
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  readonly requestId: string | undefined;
  readonly method: string | undefined;
  /** The request URL (never contains a key). */
  readonly url: string | undefined;
  readonly rateLimit: RateLimitInfo | undefined;
  constructor(message: string, init: APIErrorInit) {
    super(message, init);
    this.status = init.status;
    this.body = init.body;
    this.headers = init.headers ?? {};
    this.requestId = init.requestId;
    this.method = init.method;
    this.url = init.url;
    this.rateLimit = init.rateLimit;
  }
}

export class BadRequestError extends APIError {
  override code = "bad_request";
}
export class AuthenticationError extends APIError {
  override code = "authentication_error";
}
export class PermissionDeniedError extends APIError {
  override code = "permission_denied";
}
export class NotFoundError extends APIError {
  override code = "not_found";
}
export class RateLimitError extends APIError {
  override code = "rate_limited";
  /** The wait the server asked for, in milliseconds, when it said. */
  retryAfterMs: number | undefined;
  constructor(message: string, init: APIErrorInit & { retryAfterMs?: number }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
  }
}
export class ServerError extends APIError {
  override code = "server_error";
}

/** No answer: DNS, refused, reset, TLS. `reason` is a short word such as "dns", "refused", "tls". */
export class ConnectionError extends GigaReelsError {
  override code = "connection_error";
  reason: string;
  constructor(message: string, options: ErrorOptions & { reason?: string } = {}) {
    super(message, options);
    this.reason = options.reason ?? "network";
  }
}

/** A request (one attempt or the overall deadline) got no answer in time. */
export class TimeoutError extends GigaReelsError {
  override code = "timeout";
}

/** The key fails the `giga_` + 32 letters/digits format check. Never contains the key. */
export class InvalidApiKeyError extends GigaReelsError {
  override code = "invalid_api_key";
}

/** No key was found in the option, the environment or the stored credentials. */
export class MissingApiKeyError extends GigaReelsError {
  override code = "missing_api_key";
}

/** A base URL that is not https (outside loopback), or not a URL at all. */
export class InvalidBaseUrlError extends GigaReelsError {
  override code = "invalid_base_url";
}

/** The server redirected an API call to another origin; the key was not sent there. */
export class CrossOriginRedirectError extends GigaReelsError {
  override code = "cross_origin_redirect";
}

/** The server answered 2xx with a body we could not read (malformed JSON, HTML). */
export class MalformedResponseError extends GigaReelsError {
  override code = "malformed_response";
}

/** A render ended with status `error`. */
export class RenderFailedError extends GigaReelsError {
  override code = "render_failed";
  renderId: string;
  constructor(renderId: string, message: string, options: ErrorOptions = {}) {
    super(message, options);
    this.renderId = renderId;
  }
}

/** A caller-set time limit (`timeoutMs` of a wait, `--timeout`) was reached. */
export class DeadlineExceededError extends GigaReelsError {
  override code = "deadline_exceeded";
}

/** The caller's AbortSignal fired (Ctrl-C in the CLI). */
export class AbortedError extends GigaReelsError {
  override code = "aborted";
}
