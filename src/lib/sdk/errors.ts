/**
 * The SDK's one error hierarchy: every error the SDK (and the CLI) throws on purpose extends
 * `GigaReelsError`, including the credential store's, the lock's, the proxy's, the download's
 * and usage errors (defined beside their code, exported from the package entry). Every error
 * carries a stable `code` (the CLI maps codes to exit codes in `src/lib/cli/exit-codes.ts`)
 * and `suggestions` (what to do). Messages start with the HTTP status when there is one
 * ("401 Invalid API key"), so the guide's `error.message.includes("401")` checks work, and
 * never contain a key. `APIError.generate` is the one status -> class mapping.
 */
import { redactKeys } from "../credentials/key-format.js";
import { formatMs } from "./backoff.js";

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

/** The stable `code` of a thrown value ("error" when it has none): what reports carry. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === "string" && code !== "" ? code : "error";
}

export class GigaReelsError extends Error {
  code: string = "error";
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
  /** For a 429: the wait the server asked for, in milliseconds, when it said. */
  retryAfterMs?: number;
  /** The SDK decided this before sending anything (a malformed or missing key). */
  detectedBeforeSending?: boolean;
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

  /**
   * The one mapping of an HTTP status to its error class (as openai-node's `APIError.generate`):
   * 400/422 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404
   * NotFoundError, 429 RateLimitError, 5xx ServerError, anything else APIError. `message`
   * should start with the status ("404 Render not found"). Suggestions are added per status
   * unless `init.suggestions` gives some.
   */
  static generate(status: number, message: string, init: Omit<APIErrorInit, "status"> = {}): APIError {
    const with_ = (suggestions: string[]): APIErrorInit => ({
      ...init,
      status,
      suggestions: init.suggestions ?? suggestions,
    });
    if (status === 401)
      return new AuthenticationError(
        message,
        with_(["Run gigareels login", "or set GIGAREELS_API_KEY to a valid key"]),
      );
    if (status === 403)
      return new PermissionDeniedError(
        message,
        with_(["Check your plan in the dashboard; this key may not allow this operation"]),
      );
    if (status === 404) return new NotFoundError(message, with_([]));
    if (status === 400 || status === 422) return new BadRequestError(message, with_([]));
    if (status === 429) {
      const ms = init.retryAfterMs;
      return new RateLimitError(
        message,
        with_([
          ms !== undefined ? `Wait ${formatMs(ms)} and try again` : "Wait a minute and try again",
          "Check your rate limits in the dashboard",
        ]),
      );
    }
    if (status >= 500) return new ServerError(message, with_(["Try again in a moment"]));
    return new APIError(message, with_([]));
  }
}

export class BadRequestError extends APIError {
  override code = "bad_request";
}
/**
 * 401: the server refused the key, or the SDK found before sending that there is no usable
 * key (`detectedBeforeSending`: a malformed key, see InvalidApiKeyError; no key at all, see
 * MissingApiKeyError). The message starts with "401" either way, as the guide expects.
 */
export class AuthenticationError extends APIError {
  override code = "authentication_error";
  /** True when no request was sent: the SDK itself found the key malformed or missing. */
  readonly detectedBeforeSending: boolean;
  constructor(message: string, init: APIErrorInit) {
    super(message, init);
    this.detectedBeforeSending = init.detectedBeforeSending ?? false;
  }
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
  constructor(message: string, init: APIErrorInit) {
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

/** The init of a 401 the SDK raises itself, before sending anything. */
function local401(options: ErrorOptions): APIErrorInit {
  return { ...options, status: 401, detectedBeforeSending: true };
}

/** "401 ..." for an error decided before sending, so it reads like the server's 401. */
function with401(message: string): string {
  return /^401\b/.test(message) ? message : `401 ${message}`;
}

/**
 * The key fails the `giga_` + 32 letters/digits format check: a 401 found before sending
 * (raised by the first request, never by the constructor). Never contains the key.
 */
export class InvalidApiKeyError extends AuthenticationError {
  override code = "invalid_api_key";
  constructor(message: string, options: ErrorOptions = {}) {
    super(with401(message), local401(options));
  }
}

/** No key was found in the option, the environment or the stored credentials: a 401 found before sending. */
export class MissingApiKeyError extends AuthenticationError {
  override code = "missing_api_key";
  constructor(message: string, options: ErrorOptions = {}) {
    super(with401(message), local401(options));
  }
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

/**
 * A bad argument or input value (the CLI exits 2). The message names what is wrong and the fix.
 * The CLI's flag errors use it too (src/lib/cli/usage-error.ts re-exports it).
 */
export class UsageError extends GigaReelsError {
  override code = "usage";
  constructor(message: string, suggestions: string[] = []) {
    super(message, { suggestions });
  }
}

/**
 * "This is a bug, please report it": something that should not happen did (as Shopify
 * cli-kit's BugError). The CLI shows any error that is not one of ours as a BugError.
 */
export class BugError extends GigaReelsError {
  override code = "bug";
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, {
      ...options,
      suggestions: options.suggestions ?? [
        "This is a bug in gigareels: please report it, with the command and its output when run with DEBUG=1",
      ],
    });
  }

  /** Wraps an unexpected thrown value (kept as the cause), keeping its message. */
  static from(err: unknown): BugError {
    if (err instanceof BugError) return err;
    const message = err instanceof Error ? err.message || err.name : String(err);
    const bug = new BugError(`Unexpected error: ${message}`, { cause: err });
    if (err instanceof Error && err.stack) bug.stack = err.stack;
    return bug;
  }
}

/**
 * A Node-only part (stored credentials, download to a file, the cross-process poll budget,
 * proxies) was asked for on a runtime without Node's APIs (Workers, edge, browsers). The
 * message names what to pass instead.
 */
export class UnsupportedRuntimeError extends GigaReelsError {
  override code = "unsupported_runtime";
}
