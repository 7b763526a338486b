/**
 * The SDK's HTTP transport, shared by the client, the login flows and `gigareels api`.
 *
 * Stable surface (other layers build on it):
 *  - `new Transport(config)`: base URL (string or lazy resolver), API key resolver, custom
 *    `fetch` (e.g. undici's with a proxy dispatcher), per-attempt timeout, overall deadline,
 *    retry tuning, debug sink, extra User-Agent token.
 *  - `transport.request<T>(options)`: an authenticated JSON call. Non-2xx answers throw the
 *    matching error from errors.ts; a 2xx body that is not JSON throws MalformedResponseError.
 *  - `transport.send(options)`: the same request pipeline, but returns the final raw answer
 *    (status, headers, bytes) whatever its status: for `gigareels api`.
 *  - `transport.form(path, fields)`: an unauthenticated form POST for the OAuth endpoints
 *    (`/api/oauth/token`, `/api/oauth/device/code`, `/api/oauth/revoke`); returns status
 *    and the parsed JSON body so RFC 6749 / RFC 8628 error bodies can be read. Never retried
 *    (authorization codes are single-use).
 *  - `transport.rateLimit(group)` / `transport.rateLimits()`: the last X-RateLimit-* state
 *    seen per endpoint group.
 *
 * Split in modules: ./http-types.ts (the types above), ./answers.ts (answer -> error, via
 * APIError.generate; connection failure -> reason), ./abort.ts (abortable sleep), ./urls.ts
 * (URLs below the base URL); re-exported here, so importers keep using this module.
 *
 * The HTTP client is ky (one instance per transport, `#ky`): it sends every attempt with the
 * transport's fetch, sets the default headers, and runs the debug and rate-limit hooks. The
 * retry policy is the pure function of ./retry.ts; `send()` runs it: attempt -> policy ->
 * sleep -> attempt. ky's own retry and timeout and fetch's redirects are off, each for the
 * reason written at the option:
 *  - GET/HEAD are retried on network errors, per-attempt timeouts, 408, 429 and 5xx; a POST
 *    only when it carries an Idempotency-Key (the same key on every retry).
 *  - The wait is what the server asked (Retry-After, X-RateLimit-Reset with skew correction,
 *    the 429 body's "Try again in N seconds") as a lower bound plus a small random spread,
 *    else full-jitter capped exponential backoff; never less than a minimum gap; never past
 *    the overall deadline.
 *  - Redirects are followed by hand within the base URL's origin only; a redirect to another
 *    origin throws CrossOriginRedirectError, so the key never leaves the origin.
 */
import type { KyInstance } from "ky";
import { maskKey } from "../credentials/key-format.js";
import { ProxyError } from "../net/proxy.js";
import {
  type EndpointGroup,
  endpointGroup,
  formatMs,
  parseRateLimit,
  type RateLimitState,
} from "./backoff.js";
import { createDebugLogger, type DebugLogger } from "./debug.js";
import {
  BugError,
  ConnectionError,
  CrossOriginRedirectError,
  MalformedResponseError,
  TimeoutError,
} from "./errors.js";
import { userAgent } from "./version.js";
import { abortedError, sleep, throwIfAborted } from "./abort.js";
import {
  connectionReason,
  decodeText,
  errorFromResponse,
  headersToRecord,
  parseJsonBody,
  REASON_TEXT,
  recordHeaders,
  what,
} from "./answers.js";
import type {
  FetchLike,
  FormResponse,
  JsonResponse,
  RawResponse,
  SendOptions,
  TransportConfig,
} from "./http-types.js";
import {
  type AttemptOutcome,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_SERVER_WAIT_MS,
  isRetryableStatus,
  isSafeToRepeat,
  retryDecision,
  stopLine,
} from "./retry.js";
import { buildUrl, checkBaseUrl, originOf } from "./urls.js";

// The transport's surface, split into modules (types, answers, abort, urls) and re-exported here.
export { sleep } from "./abort.js";
export { connectionReason, errorFromResponse, parseJsonBody } from "./answers.js";
export type * from "./http-types.js";
export { buildUrl, checkBaseUrl } from "./urls.js";

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_DEADLINE_MS = 120_000;
const MAX_REDIRECTS = 5;

class AttemptTimeout extends Error {}

/** What the ky hooks need to know about an attempt (ky's `context` option). */
type AttemptContext = {
  attempt: number;
  total: number;
  /** Local epoch ms when the request was handed to ky. */
  sentAt: number;
};

/**
 * ky, loaded on the first request: its module touches `Request`/`ReadableStream` at load
 * time, which makes Node load its internal fetch (about 0.6x `node -e 0` of start-up).
 */
let kyModule: Promise<KyInstance> | undefined;
function loadKy(): Promise<KyInstance> {
  kyModule ??= import("ky").then((m) => m.default);
  return kyModule;
}

/**
 * The default fetch: where there is a `process` (Node, Bun, Deno), the proxy-aware one of
 * src/lib/net (HTTPS_PROXY/HTTP_PROXY/NO_PROXY; undici only when a proxy applies, else
 * socket-fetch: Node 20's own fetch costs about 0.25 s and 30 MB on its first request), loaded
 * on first use; elsewhere (Workers, edge, browsers) the global fetch.
 */
async function defaultFetch(): Promise<FetchLike> {
  if ((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node) {
    const { proxyAwareFetch } = await import("../net/dispatcher.js");
    return proxyAwareFetch();
  }
  return (input, init) => globalThis.fetch(input, init);
}

export class Transport {
  readonly #config: TransportConfig;
  #fetch: Promise<FetchLike> | undefined;
  #kyInstance: Promise<KyInstance> | undefined;
  readonly #log: DebugLogger;
  readonly #userAgent: string;
  readonly #rateLimits = new Map<EndpointGroup, RateLimitState>();
  #baseUrl: Promise<string> | null = null;

  constructor(config: TransportConfig) {
    this.#config = config;
    if (config.fetch) this.#fetch = Promise.resolve(config.fetch);
    this.#log = createDebugLogger(config.debug);
    this.#userAgent = userAgent(config.userAgent);
  }

  #fetchFn(): Promise<FetchLike> {
    this.#fetch ??= defaultFetch();
    return this.#fetch;
  }

  /** The debug logger (other layers may add their own lines to the same sink). */
  get debug(): DebugLogger {
    return this.#log;
  }

  get userAgent(): string {
    return this.#userAgent;
  }

  /** The resolved base URL (resolves the lazy one on first use). */
  baseUrl(): Promise<string> {
    if (!this.#baseUrl) {
      const b = this.#config.baseUrl;
      this.#baseUrl = typeof b === "string" ? Promise.resolve(b) : b();
      // Let a failed resolution be retried by the next call.
      this.#baseUrl.catch(() => {
        this.#baseUrl = null;
      });
    }
    return this.#baseUrl;
  }

  /** Last rate-limit state seen for an endpoint group ("render", "status", "social-media", "other"). */
  rateLimit(group: EndpointGroup): RateLimitState | undefined {
    return this.#rateLimits.get(group);
  }

  /** Every group seen so far. */
  rateLimits(): Partial<Record<EndpointGroup, RateLimitState>> {
    return Object.fromEntries(this.#rateLimits) as Partial<Record<EndpointGroup, RateLimitState>>;
  }

  /** An authenticated JSON request: throws the mapped error for non-2xx answers. */
  async request<T = unknown>(options: SendOptions): Promise<JsonResponse<T>> {
    const res = await this.send(options);
    if (res.status < 200 || res.status > 299) {
      throw errorFromResponse(res, {
        rateLimit: this.#rateLimits.get(endpointGroup(new URL(res.url).pathname)),
      });
    }
    if (res.status === 204 || res.body.length === 0) {
      return { status: res.status, headers: res.headers, data: null as T, raw: res };
    }
    const parsed = parseJsonBody(res.body, res.headers["content-type"]);
    if (!parsed.ok) {
      const kind = (res.headers["content-type"] ?? "").split(";")[0]?.trim() || "unlabelled";
      throw new MalformedResponseError(
        `${res.status} ${res.statusText || "OK"} but the answer to ${what(res.method, res.url)} was not valid JSON (${kind}, ${res.body.length} bytes)`,
        { suggestions: [checkBaseUrl(res.url), "Try again in a moment"] },
      );
    }
    return { status: res.status, headers: res.headers, data: parsed.value as T, raw: res };
  }

  /**
   * An unauthenticated, form-encoded POST (the OAuth endpoints). Returns the status and the
   * parsed JSON body for any 2xx/4xx answer with a JSON (or empty) body; throws the mapped
   * error for 5xx and for bodies that are not JSON. Never retried.
   */
  async form(
    path: string,
    fields: Record<string, string>,
    options: { signal?: AbortSignal; timeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<FormResponse> {
    const res = await this.send({
      method: "POST",
      path,
      body: new URLSearchParams(fields),
      headers: options.headers,
      auth: false,
      retry: false,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    const parsed = parseJsonBody(res.body, res.headers["content-type"]);
    if (res.status >= 500) throw errorFromResponse(res);
    if (parsed.ok) return { status: res.status, headers: res.headers, body: parsed.value };
    if (parsed.empty) return { status: res.status, headers: res.headers, body: null };
    if (res.status >= 200 && res.status <= 299) {
      const kind = (res.headers["content-type"] ?? "").split(";")[0]?.trim() || "unlabelled";
      throw new MalformedResponseError(
        `${res.status} ${res.statusText || "OK"} but the answer to POST ${path} was not valid JSON (${kind}, ${res.body.length} bytes)`,
        { suggestions: [checkBaseUrl(res.url), "Try again in a moment"] },
      );
    }
    throw errorFromResponse(res);
  }

  /**
   * Sends a request with retries, timeouts and same-origin redirects, and returns the final
   * answer whatever its status. Throws ConnectionError, TimeoutError, AbortedError,
   * CrossOriginRedirectError; HTTP error statuses are returned, not thrown.
   */
  async send(options: SendOptions): Promise<RawResponse> {
    const cfg = this.#config;
    const method = options.method.toUpperCase();
    const timeoutMs = options.timeoutMs ?? cfg.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadlineMs = options.deadlineMs ?? cfg.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const tuning = cfg.retry ?? {};
    const policyTuning = { ...tuning, maxRetries: cfg.maxRetries ?? DEFAULT_MAX_RETRIES };
    const random = tuning.random ?? Math.random;
    const hasKey = options.idempotencyKey !== undefined && options.idempotencyKey !== "";
    const signal = options.signal;
    const deadline = Date.now() + deadlineMs;

    throwIfAborted(signal);
    const baseUrl = await this.baseUrl();
    const url = buildUrl(baseUrl, options.path, options.query);
    const origin = new URL(baseUrl).origin;
    if (new URL(url).origin !== origin) {
      throw new CrossOriginRedirectError(
        `Refused to send ${method} ${new URL(url).pathname} to ${new URL(url).origin}: requests only go to ${origin}`,
      );
    }

    // Accept and User-Agent are the ky instance's defaults (#ky); these override them.
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.headers ?? {})) headers[k.toLowerCase()] = v;
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    } else if (options.body instanceof URLSearchParams) {
      body = options.body.toString();
      headers["content-type"] ??= "application/x-www-form-urlencoded";
    } else if (options.body !== undefined) {
      body = options.body;
    }
    if (hasKey) headers["idempotency-key"] = options.idempotencyKey as string;
    if (options.auth !== false) {
      if (!cfg.apiKey) throw new BugError("Transport: an authenticated request needs an apiKey resolver");
      headers.authorization = `Bearer ${await cfg.apiKey()}`;
    }

    const total = isSafeToRepeat(method, hasKey, options.retry)
      ? Math.max(0, policyTuning.maxRetries) + 1
      : 1;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.#deadlineError(method, url, deadlineMs, attempt - 1);
      let res: RawResponse | undefined;
      let failure: ConnectionError | TimeoutError | undefined;
      let outcome: AttemptOutcome;
      const t0 = Date.now();
      try {
        res = await this.#attempt(
          method,
          url,
          origin,
          headers,
          body,
          Math.min(timeoutMs, remaining),
          signal,
          {
            attempt,
            total,
          },
        );
        res.attempts = attempt;
        const h = recordHeaders(res.headers);
        outcome = { kind: "answer", status: res.status, headers: h };
        if (isRetryableStatus(res.status)) {
          const parsed = parseJsonBody(res.body, res.headers["content-type"]);
          outcome.body = parsed.ok ? parsed.value : res.text();
        }
      } catch (err) {
        if (err instanceof AttemptTimeout) {
          failure = new TimeoutError(
            `Request timed out: no answer to ${what(method, url)} within ${formatMs(timeoutMs)}`,
            { suggestions: ["Check your connection, or try again with a longer timeout"] },
          );
          outcome = { kind: "timeout" };
        } else if (err instanceof ConnectionError) {
          failure = err;
          outcome = { kind: "connection", reason: err.reason };
        } else {
          throw err;
        }
        this.#log(`<- ${failure.message} (${Date.now() - t0} ms)`);
      }

      const now = Date.now();
      const decision = retryDecision({
        method,
        idempotencyKey: hasKey,
        retry: options.retry,
        attempt,
        outcome,
        now,
        timeLeftMs: deadline - now,
        tuning: policyTuning,
        random,
      });
      if (!decision.retry) {
        if (decision.reason === "deadline-reached")
          throw this.#deadlineError(method, url, deadlineMs, attempt);
        const line = stopLine(
          decision,
          { method, url, attempt, outcome },
          tuning.maxServerWaitMs ?? DEFAULT_MAX_SERVER_WAIT_MS,
        );
        if (line) this.#log(line);
        if (res) return res;
        throw failure;
      }
      this.#log(`retrying ${method} ${url} in ${formatMs(decision.delayMs)} (${decision.why})`);
      await sleep(decision.delayMs, signal);
    }
  }

  #deadlineError(method: string, url: string, deadlineMs: number, attempts: number): TimeoutError {
    return new TimeoutError(
      `Request timed out: no answer to ${what(method, url)} within the overall deadline of ${formatMs(deadlineMs)}${attempts > 1 ? ` (${attempts} attempts)` : ""}`,
      { suggestions: ["Check your connection and try again"] },
    );
  }

  /**
   * The transport's ky instance, made on the first request. What each ky feature does here:
   *  - `fetch`, `headers`: the transport's fetch (proxy-aware on Node) and default headers.
   *  - `hooks.beforeRequest`: the debug line of every request sent (key masked).
   *  - `hooks.afterResponse`: the X-RateLimit-* bookkeeping and the debug line of every answer.
   *  - `throwHttpErrors: false`, so no `beforeError` hook: `send()` returns every answer (the
   *    retry policy reads 408/429/5xx answers, `gigareels api` prints any status), and
   *    `request()` maps a non-2xx answer to its error class with APIError.generate.
   */
  #ky(): Promise<KyInstance> {
    this.#kyInstance ??= Promise.all([loadKy(), this.#fetchFn()]).then(([ky, fetchFn]) =>
      ky.create({
        fetch: fetchFn as typeof fetch,
        headers: { accept: "application/json", "user-agent": this.#userAgent },
        throwHttpErrors: false,
        // Off: ky's retry cannot run the policy (retry.ts). After a failed fetch its wait is
        // `retry.delay(retryCount)`, which sees neither the error nor the time left, and
        // `shouldRetry` answers before that wait exists, so "no retry that would pass the
        // deadline" cannot be said; for an answer it sleeps min(Retry-After, maxRetryAfter)
        // (retrying early at the cap instead of failing with the wait, no spread, no minimum
        // gap, X-RateLimit-Reset read on the local clock rather than the server's Date); its
        // limit counts attempts, not time. send() runs attempt -> retryDecision -> sleep.
        retry: 0,
        // Off: ky's timer stops when the response headers arrive (a body that stalls after them
        // would hang until the overall deadline) and restarts on every redirect hop; the
        // per-attempt timer in #attempt covers headers, body and hops, capped by the deadline.
        timeout: false,
        // Off (fetch's): "follow" would send the request, body included, to any origin the
        // server names, and "error" does not say where it pointed. #attempt follows
        // same-origin redirects and refuses others with CrossOriginRedirectError.
        redirect: "manual",
        hooks: {
          beforeRequest: [
            (request, options) => {
              if (!this.#log.enabled) return;
              const { attempt, total } = options.context as AttemptContext;
              const shown: string[] = [];
              request.headers.forEach((v, k) => {
                shown.push(
                  `${k}: ${k === "authorization" ? v.replace(/^(Bearer )(.*)$/i, (_m, b, t) => b + maskKey(t)) : v}`,
                );
              });
              this.#log(
                `-> ${request.method} ${request.url} (attempt ${attempt}/${total}) [${shown.join(", ")}]`,
              );
            },
          ],
          afterResponse: [
            (request, options, response) => {
              const { sentAt } = options.context as AttemptContext;
              const rl = parseRateLimit(response.headers, Date.now());
              if (rl) this.#rateLimits.set(endpointGroup(new URL(request.url).pathname), rl);
              this.#log(
                `<- ${response.status} ${request.method} ${request.url} (${Date.now() - sentAt} ms)${rl ? ` ratelimit ${rl.remaining ?? "?"}/${rl.limit ?? "?"}` : ""}`,
              );
            },
          ],
        },
      }),
    );
    return this.#kyInstance;
  }

  /** One attempt, following same-origin redirects by hand. */
  async #attempt(
    method: string,
    url: string,
    origin: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    count: { attempt: number; total: number },
  ): Promise<RawResponse> {
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ctl.abort(new AttemptTimeout("attempt timeout"));
    }, timeoutMs);
    // The caller's signal aborts this attempt too (forwarded by hand: AbortSignal.any is
    // missing from some edge runtimes, e.g. Vercel's edge-runtime VM).
    const forward = () => ctl.abort(signal?.reason);
    if (signal?.aborted) forward();
    else signal?.addEventListener("abort", forward, { once: true });
    const combined = ctl.signal;
    let currentUrl = url;
    let currentMethod = method;
    let currentBody = body;
    const currentHeaders = { ...headers };
    try {
      for (let hop = 0; ; hop++) {
        let response: Response;
        try {
          const ky = await this.#ky();
          const context: AttemptContext = { ...count, sentAt: Date.now() };
          response = await ky(currentUrl, {
            method: currentMethod,
            headers: currentHeaders,
            body: currentBody,
            signal: combined,
            context,
          });
        } catch (err) {
          throw this.#mapFetchError(err, timedOut, signal, currentMethod, currentUrl);
        }
        const location = response.headers.get("location");
        if (response.status >= 300 && response.status < 400 && location) {
          await response.body?.cancel().catch(() => {});
          const next = new URL(location, currentUrl);
          if (next.origin !== origin) {
            this.#log(`redirect to another origin (${next.origin}); not followed`);
            throw new CrossOriginRedirectError(
              `${response.status} The server redirected ${what(currentMethod, currentUrl)} to another origin (${next.origin}); the request was not sent there, so the API key stays with ${origin}`,
              {
                suggestions: [
                  "Check GIGAREELS_BASE_URL (e.g. https://gigareels.com, not a redirecting alias)",
                ],
              },
            );
          }
          if (hop >= MAX_REDIRECTS) {
            throw new ConnectionError(`Too many redirects for ${what(method, url)}`, { reason: "network" });
          }
          this.#log(`redirect to ${next.href}`);
          if (
            response.status === 303 ||
            ((response.status === 301 || response.status === 302) && currentMethod === "POST")
          ) {
            currentMethod = "GET";
            currentBody = undefined;
            delete currentHeaders["content-type"];
          }
          currentUrl = next.href;
          continue;
        }
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(await response.arrayBuffer());
        } catch (err) {
          throw this.#mapFetchError(err, timedOut, signal, currentMethod, currentUrl);
        }
        const rec = headersToRecord(response.headers);
        return {
          status: response.status,
          statusText: response.statusText,
          headers: rec,
          body: bytes,
          url: currentUrl,
          method: currentMethod,
          attempts: 1,
          text: () => decodeText(bytes),
        };
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    }
  }

  #mapFetchError(
    err: unknown,
    timedOut: boolean,
    signal: AbortSignal | undefined,
    method: string,
    url: string,
  ): Error {
    if (signal?.aborted) return abortedError(signal);
    if (timedOut) return new AttemptTimeout("attempt timeout");
    if (err instanceof CrossOriginRedirectError) return err;
    if (err instanceof ProxyError) {
      // A refusal by the proxy is final; a proxy that is down is retried like any refused connection.
      return new ConnectionError(err.message, {
        reason: err.kind === "unreachable" ? "refused" : "proxy",
        cause: err,
        suggestions: err.suggestions,
      });
    }
    const reason = connectionReason(err);
    let host = "";
    try {
      host = new URL(url).host;
    } catch {}
    return new ConnectionError(
      `Could not reach ${host || "the server"} (${what(method, url)}): ${REASON_TEXT[reason]}`,
      {
        reason,
        cause: err,
        suggestions:
          reason === "blocked-port"
            ? ["Use another port in GIGAREELS_BASE_URL (the emulator: gigareels emulator --port 3000)"]
            : reason === "tls"
              ? [
                  "Check the server's certificate and your system clock",
                  "behind a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS to its CA certificate file",
                ]
              : [
                  `Check your internet connection and the base URL (${originOf(url)})`,
                  "Try again in a moment",
                ],
      },
    );
  }
}
