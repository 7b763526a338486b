/**
 * `new GigaReels(options)`: the SDK client. Key from the option, else GIGAREELS_API_KEY,
 * else the stored CLI credentials (loaded lazily on the first request, through a dynamic
 * import, so importing the SDK loads neither the store nor keytar). The constructor never
 * throws for the key: a malformed or missing key is a 401 AuthenticationError
 * (InvalidApiKeyError, MissingApiKeyError) raised by the first request, before sending.
 */
import { describeKeySource, maskKey } from "../credentials/key-format.js";
import type { RateLimitState } from "./backoff.js";
import { DEFAULT_BASE_URL, validateApiKey, validateBaseUrl } from "./config.js";
import {
  APIError,
  GigaReelsError,
  MalformedResponseError,
  MissingApiKeyError,
  RateLimitError,
} from "./errors.js";
import type { SharedBudget } from "./poll/budget.js";
import type { DownloadCallOptions, DownloadOutcome } from "./download/client.js";
import { checkBaseUrl, type FetchLike, type RawResponse, Transport } from "./transport.js";
import type {
  CallOptions,
  ClientCredentials,
  CredentialSource,
  EducationalBrainrotParams,
  Env,
  GigaReelsOptions,
  KeySource,
  Me,
  RateLimits,
  RawRequestOptions,
  RenderCallOptions,
  RenderCreated,
  RenderCreatedBody,
  RenderEndpoint,
  RenderRequest,
  RenderStatus,
  SplitRenderRequest,
  TextRenderRequest,
} from "./types.js";
import { processEnv } from "./env.js";
import { hasNodeApis, nodeOnly } from "./runtime.js";
import { type WaitForRenderOptions, waitForRender } from "./wait.js";
import type { BatchEvent, BatchItem, BatchOptions } from "./batch/engine.js";

interface KeyState {
  key: string;
  source: CredentialSource;
  profile?: string;
}

/** A key given as an option or in GIGAREELS_API_KEY, validated when a request needs it. */
interface GivenKey {
  raw: string;
  source: "option" | "env";
}

/** The environment without the key variables: what a stored login is looked up with. */
function withoutKeyVars(env: Env): Env {
  const { GIGAREELS_API_KEY: _k, GIGAREELS_API_KEY_FILE: _f, ...rest } = env;
  return rest;
}

const ignore = (_message: string): void => {};

/** The rate-limit minute: the option, else GIGAREELS_RATE_LIMIT_MINUTE_MS (whole ms), else undefined (60 s). */
function minuteOption(option: number | undefined, env: string | undefined): number | undefined {
  if (option !== undefined) {
    if (!Number.isFinite(option) || option < 1)
      throw new GigaReelsError(`rateLimitMinuteMs must be a positive number of milliseconds, not ${option}`);
    return Math.round(option);
  }
  if (env === undefined || env.trim() === "") return undefined;
  if (!/^\d+$/.test(env.trim()) || Number(env) < 1)
    throw new GigaReelsError(
      `GIGAREELS_RATE_LIMIT_MINUTE_MS must be a whole number of milliseconds (e.g. 1000), not "${env}"`,
      { suggestions: ["Unset GIGAREELS_RATE_LIMIT_MINUTE_MS unless the server's minute is shortened"] },
    );
  return Number(env);
}

interface StoreLookup {
  key: KeyState | null;
  baseUrl?: string;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v !== undefined && v.trim() !== "" ? v : undefined;
}

const MISSING_KEY_SUGGESTIONS = [
  "Run gigareels login",
  "or set GIGAREELS_API_KEY (a key from the dashboard: Settings -> API Keys)",
];

/** The config folder (GIGAREELS_CONFIG_DIR or ~/.gigareels), loaded with node:os on first use. */
async function configDirOf(env: Env): Promise<string> {
  const { configDir } = await import("../fs/index.js");
  return configDir(env);
}

/**
 * Loads the credential store on demand (never at import time); reads only, never rewrites.
 * Where there is no file system (Workers, edge) there is no stored key.
 */
async function lookupStore(
  profile: string | undefined,
  env: Env,
  onWarning: (message: string) => void,
): Promise<StoreLookup> {
  if (!hasNodeApis()) return { key: null };
  const { resolveApiKey } = await import("../credentials/index.js");
  const found = await resolveApiKey({ profile, env, onWarning, readOnly: true });
  if (!found) return { key: null };
  const { where, fix } = describeKeySource(found);
  const key = validateApiKey(found.key, where, fix);
  const baseUrl = found.baseUrl ? validateBaseUrl(found.baseUrl, `the base URL of ${where}`) : undefined;
  return { key: { key, source: found.source, profile: found.profile }, baseUrl };
}

export class GigaReels {
  /** Template helpers: `client.templates.brainrot.educational({ prompt, characterPack, backgroundVideoPack })`. */
  readonly templates: {
    brainrot: {
      educational(params: EducationalBrainrotParams, options?: RenderCallOptions): Promise<RenderCreated>;
    };
  };
  /**
   * Many renders: `for await (const event of client.renders.batch(items, { state: "batch.state.json" }))`.
   * Paced to the key's render limits (shared with every process of the key), each item's
   * Idempotency-Key recorded in the state file before it is sent (a rerun never renders an
   * item twice), each render followed to its end and downloaded when the item names an
   * output. See src/lib/sdk/batch/engine.ts. Node only (it writes files).
   */
  readonly renders: {
    batch(items: Iterable<BatchItem>, options?: BatchOptions): AsyncGenerator<BatchEvent, void, undefined>;
  };
  /** The HTTP transport (for layers that need raw or OAuth requests with the same settings). */
  readonly transport: Transport;

  readonly #env: Env;
  readonly #onWarning: (message: string) => void;
  readonly #given: GivenKey | undefined;
  readonly #profile: string | undefined;
  readonly #explicitBaseUrl: string | undefined;
  readonly #fetch: FetchLike | undefined;
  readonly #minuteMs: number | undefined;
  #key: KeyState | null = null;
  #budget: Promise<SharedBudget | undefined> | undefined;
  #storeBaseUrl: string | undefined;
  #lookup: Promise<StoreLookup> | null = null;

  /**
   * Never throws for the key: a missing key (MissingApiKeyError) or a malformed one given as
   * an option or in GIGAREELS_API_KEY (InvalidApiKeyError) is a 401 AuthenticationError with
   * `detectedBeforeSending: true`, raised by the first request before anything is sent.
   * Throws InvalidBaseUrlError for a base URL that is not https (outside loopback).
   */
  constructor(options: GigaReelsOptions = {}) {
    this.#env = options.env ?? processEnv();
    this.#onWarning = options.onWarning ?? ignore;
    this.#profile = options.profile;
    const optKey = nonEmpty(options.apiKey);
    const envKey = nonEmpty(this.#env.GIGAREELS_API_KEY);
    if (optKey !== undefined) this.#given = { raw: optKey, source: "option" };
    else if (envKey !== undefined) this.#given = { raw: envKey, source: "env" };

    const optBase = nonEmpty(options.baseUrl);
    const envBase = nonEmpty(this.#env.GIGAREELS_BASE_URL);
    if (optBase !== undefined) this.#explicitBaseUrl = validateBaseUrl(optBase);
    else if (envBase !== undefined) this.#explicitBaseUrl = validateBaseUrl(envBase, "GIGAREELS_BASE_URL");

    this.#fetch = options.fetch;
    this.#minuteMs = minuteOption(options.rateLimitMinuteMs, this.#env.GIGAREELS_RATE_LIMIT_MINUTE_MS);
    this.transport = new Transport({
      baseUrl: () => this.#resolveBaseUrl(),
      apiKey: async () => (await this.#resolveKey()).key,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      deadlineMs: options.deadlineMs,
      maxRetries: options.maxRetries,
      retry: options.retry,
      debug: options.debug,
      userAgent: options.userAgent,
    });

    this.templates = {
      brainrot: {
        educational: (params, callOptions) =>
          this.render({ ...params, type: "educational-brainrot" }, callOptions),
      },
    };
    this.renders = { batch: (items, batchOptions) => this.#batch(items, batchOptions) };
  }

  async *#batch(
    items: Iterable<BatchItem>,
    options: BatchOptions = {},
  ): AsyncGenerator<BatchEvent, void, undefined> {
    if (typeof process === "undefined" || !process.versions?.node)
      throw new GigaReelsError(
        "client.renders.batch needs Node, Bun or Deno: it keeps its state in a file and downloads to files",
        { suggestions: ["Submit renders one by one with client.render(...) in this runtime"] },
      );
    // Loaded on first use: the engine writes files (node:fs), which the rest of the SDK does not need.
    const { runBatch } = await import("./batch/engine.js");
    yield* runBatch(
      {
        // the batch's pacer took the budget slot: the creation only records the answer
        create: (endpoint, body, o) => this.#create(endpoint, body, o, true),
        renderRateLimit: () => this.transport.rateLimit("render"),
        waitForRender: (id, o) => this.waitForRender(id, o),
        download: (id, o) => this.download(id, o),
        apiKey: async () => (await this.#resolveKey()).key,
        configDir: await configDirOf(this.#env),
        minuteMs: this.#minuteMs,
      },
      items,
      options,
    );
  }

  /**
   * True when stored CLI credentials (`gigareels login`) exist for the active profile
   * (`profile`, else GIGAREELS_PROFILE, else the stored active profile). Environment keys
   * (GIGAREELS_API_KEY, GIGAREELS_API_KEY_FILE) are not a login: see `keySource()` for the
   * key a client would use. Never throws, never sends a request, never writes a file.
   * Node only (it reads the keychain and ~/.gigareels); elsewhere it answers false.
   */
  static async isLoggedIn(options: { profile?: string; env?: Env } = {}): Promise<boolean> {
    const env = withoutKeyVars(options.env ?? processEnv());
    try {
      const { key } = await lookupStore(options.profile, env, ignore);
      return key !== null;
    } catch {
      return false;
    }
  }

  /**
   * Which key `new GigaReels(options)` would use, without the key: the `apiKey` option, else
   * GIGAREELS_API_KEY, else GIGAREELS_API_KEY_FILE, else the active profile's stored key
   * (keychain, then credentials.json). Null when there is none. Does not check the key's
   * format or send anything; throws the credential store's errors (a corrupt file, say).
   */
  static async keySource(
    options: { apiKey?: string; profile?: string; env?: Env; onWarning?: (message: string) => void } = {},
  ): Promise<KeySource | null> {
    const env = options.env ?? processEnv();
    if (nonEmpty(options.apiKey) !== undefined) return { source: "option", origin: "the apiKey option" };
    if (nonEmpty(env.GIGAREELS_API_KEY) !== undefined) return { source: "env", origin: "GIGAREELS_API_KEY" };
    if (!hasNodeApis()) return null;
    const { resolveApiKey } = await import("../credentials/index.js");
    const found = await resolveApiKey({
      profile: options.profile,
      env,
      onWarning: options.onWarning ?? ignore,
      readOnly: true,
    });
    if (!found) return null;
    const out: KeySource = { source: found.source, origin: found.origin };
    if (found.source === "keychain" || found.source === "file") out.profile = found.profile;
    return out;
  }

  /**
   * The base URL requests go to. Before the first request this is the option, GIGAREELS_BASE_URL
   * or the default; when the key comes from a stored profile, that profile's base URL applies
   * once resolved (see `credentials()`).
   */
  get baseUrl(): string {
    return this.#explicitBaseUrl ?? this.#storeBaseUrl ?? DEFAULT_BASE_URL;
  }

  /** The last rate-limit state seen, per endpoint group ("render", "status", "social-media", "other"). */
  get rateLimit(): RateLimits {
    return this.transport.rateLimits();
  }

  /** The last rate-limit state for one group. */
  rateLimitFor(group: "render" | "status" | "social-media" | "other"): RateLimitState | undefined {
    return this.transport.rateLimit(group);
  }

  /** Resolves the key (loading stored credentials if needed) and says where it came from. Never the key itself. */
  async credentials(): Promise<ClientCredentials> {
    const k = await this.#resolveKey();
    const baseUrl = await this.#resolveBaseUrl();
    return { source: k.source, masked: maskKey(k.key), profile: k.profile, baseUrl };
  }

  /** POST /api/render with any `type`. Always sends an Idempotency-Key (yours or a fresh UUID), reused on retries. */
  render(body: RenderRequest, options: RenderCallOptions = {}): Promise<RenderCreated> {
    return this.#create("/api/render", body, options);
  }

  /**
   * POST a body as it is to one of the render endpoints (for bodies built elsewhere, such as
   * the CLI's `--body FILE` or a batch line). Same Idempotency-Key handling as `render`.
   */
  createRender(
    endpoint: RenderEndpoint,
    body: Record<string, unknown>,
    options: RenderCallOptions = {},
  ): Promise<RenderCreated> {
    return this.#create(endpoint, body, options);
  }

  /** POST /api/render/text: text overlays on a video. */
  renderText(body: TextRenderRequest, options: RenderCallOptions = {}): Promise<RenderCreated> {
    return this.#create("/api/render/text", body, options);
  }

  /** POST /api/render/split: split screen. */
  renderSplit(body: SplitRenderRequest, options: RenderCallOptions = {}): Promise<RenderCreated> {
    return this.#create("/api/render/split", body, options);
  }

  /** GET /api/render/status/{id}: status, outputFile, error, progress; unknown fields kept. */
  async getRenderStatus(renderId: string, options: CallOptions = {}): Promise<RenderStatus> {
    if (typeof renderId !== "string" || renderId.trim() === "") {
      throw new GigaReelsError("A render id is required", {
        suggestions: ["Pass the renderId a render call returned"],
      });
    }
    const res = await this.transport.request<Record<string, unknown>>({
      method: "GET",
      path: `/api/render/status/${encodeURIComponent(renderId)}`,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      // waitForRender passes retry: false, so its scheduler alone decides when to ask again
      retry: (options as CallOptions & { retry?: boolean }).retry,
    });
    const data = res.data;
    if (!data || typeof data !== "object" || typeof data.status !== "string") {
      throw new MalformedResponseError(
        `${res.status} The status answer for render ${renderId} has no "status" field`,
        { suggestions: [checkBaseUrl(res.raw.url)] },
      );
    }
    const out: RenderStatus = { renderId, ...data, status: data.status };
    if (typeof data.progress === "string" && /^\d+(\.\d+)?$/.test(data.progress))
      out.progress = Number(data.progress);
    return out;
  }

  /** Alias of getRenderStatus (the name the guide uses). */
  getTaskStatus(taskId: string, options: CallOptions = {}): Promise<RenderStatus> {
    return this.getRenderStatus(taskId, options);
  }

  /**
   * Follows a render until it ends: resolves with the final status when it is `done`, throws
   * RenderFailedError (the server's message) for `error`. Polls as the scheduler says (1 s
   * after submission, every 2–2.5 s for the first 40 s, growing to 10 s for long renders,
   * within the key's rate limits, shared with other watchers of the key); transient trouble is retried until it lasts longer than
   * `maxOutageMs` (default 5 min; then OutageError). `timeoutMs` -> DeadlineExceededError;
   * the signal -> AbortedError at once. `onUpdate` receives status/throttled/retry/done/error events.
   */
  async waitForRender(renderId: string, options: WaitForRenderOptions = {}): Promise<RenderStatus> {
    // The budget shared with other processes is a file: on by default where there is a file
    // system (Node, Bun, Deno), off elsewhere; asking for it there is an UnsupportedRuntimeError.
    const shareBudget = options.shareBudget ?? hasNodeApis();
    return waitForRender(
      {
        getStatus: (id, o) => this.getRenderStatus(id, { signal: o.signal, retry: false } as CallOptions),
        rateLimit: () => this.transport.rateLimit("status"),
        apiKey: async () => (await this.#resolveKey()).key,
        budgetDir: shareBudget && hasNodeApis() ? await configDirOf(this.#env) : undefined,
        minuteMs: this.#minuteMs,
      },
      renderId,
      { ...options, shareBudget },
    );
  }

  /**
   * Downloads a finished render's video (by render id, or its output URL) to `path` (default
   * `<renderId>.mp4`): streamed to `<path>.part`, resumed if interrupted, length-checked, then
   * renamed into place. Refuses to overwrite without `force`. The key is only sent to the
   * API's own origin.
   */
  async download(urlOrRenderId: string, options: DownloadCallOptions = {}): Promise<DownloadOutcome> {
    const { downloadRender } = await nodeOnly(
      "download() (it writes a file)",
      "read outputFile from getTaskStatus() and fetch it yourself",
      () => import("./download/client.js"),
    );
    return downloadRender(
      {
        getStatus: (id, o) => this.getRenderStatus(id, o),
        baseUrl: () => this.transport.baseUrl(),
        apiKey: async () => (await this.#resolveKey()).key,
        fetch: this.#fetch,
        userAgent: this.transport.userAgent,
      },
      urlOrRenderId,
      options,
    );
  }

  /** GET /api/me: the account and key behind the client's key. */
  async me(options: CallOptions = {}): Promise<Me> {
    const res = await this.transport.request<Me>({
      method: "GET",
      path: "/api/me",
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    if (!res.data || typeof res.data !== "object" || Array.isArray(res.data)) {
      throw new MalformedResponseError(`${res.status} The answer to GET /api/me is not an object`);
    }
    return res.data;
  }

  /**
   * An arbitrary authenticated request (for `gigareels api`): returns the raw answer whatever
   * its status. Retried like any request (GET, or with an idempotency key).
   */
  requestRaw(path: string, options: RawRequestOptions = {}): Promise<RawResponse> {
    return this.transport.send({
      method: options.method ?? "GET",
      path,
      query: options.query,
      headers: options.headers,
      json: options.json,
      body: options.body,
      idempotencyKey: options.idempotencyKey,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
  }

  /**
   * POSTs a render creation: first a slot in the key's shared budget ("render" group; `paced`:
   * the caller took it already), then the request, then what the answer said (its
   * X-RateLimit-* headers, a 429's Retry-After) into the budget for every process of the key.
   */
  async #create(
    path: string,
    body: object,
    options: RenderCallOptions,
    paced = false,
  ): Promise<RenderCreated> {
    const idempotencyKey = options.idempotencyKey ?? globalThis.crypto.randomUUID();
    const budget = options.shareBudget === false ? undefined : await this.#sharedBudget(options.shareBudget);
    if (budget && !paced) {
      await budget.acquire("render", {
        signal: options.signal,
        onWait: options.onBudgetWait && ((w) => options.onBudgetWait?.(w)),
      });
    }
    let res: Awaited<ReturnType<Transport["request"]>>;
    try {
      res = await this.transport.request<RenderCreatedBody>({
        method: "POST",
        path,
        json: body,
        idempotencyKey,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      });
    } catch (err) {
      if (budget && err instanceof APIError)
        await budget.observe("render", {
          rateLimit: this.transport.rateLimit("render"),
          retryAfterMs: err instanceof RateLimitError ? err.retryAfterMs : undefined,
        });
      throw err;
    }
    if (budget) await budget.observe("render", { rateLimit: this.transport.rateLimit("render") });
    const data = (res.data ?? {}) as RenderCreatedBody;
    const raw = [data.renderId, data.taskId, data.id].find(
      (v) => (typeof v === "string" && v !== "") || typeof v === "number",
    );
    if (raw === undefined) {
      throw new MalformedResponseError(
        `${res.status} The server accepted POST ${path} but its answer has no renderId, taskId or id`,
        { suggestions: [`Retry with the same idempotency key (${idempotencyKey}) to get the same answer`] },
      );
    }
    return { renderId: String(raw), idempotencyKey, body: data };
  }

  /**
   * The key's shared request budget (a file: Node, Bun, Deno), made on first use; undefined
   * where there is no file system, unless asked for (`true`: UnsupportedRuntimeError).
   */
  #sharedBudget(asked: boolean | undefined): Promise<SharedBudget | undefined> {
    if (!asked && !hasNodeApis()) return Promise.resolve(undefined);
    if (!this.#budget) {
      this.#budget = (async () => {
        const key = (await this.#resolveKey()).key;
        const { SharedBudget } = await nodeOnly(
          "The shared request budget (shareBudget)",
          "pass shareBudget: false",
          () => import("./poll/budget.js"),
        );
        return new SharedBudget(key, { dir: await configDirOf(this.#env), minuteMs: this.#minuteMs });
      })();
      this.#budget.catch(() => {
        this.#budget = undefined;
      });
    }
    return this.#budget;
  }

  #lookupStore(): Promise<StoreLookup> {
    if (!this.#lookup) {
      this.#lookup = lookupStore(this.#profile, this.#env, this.#onWarning).then((r) => {
        this.#storeBaseUrl = r.baseUrl;
        return r;
      });
      this.#lookup.catch(() => {
        this.#lookup = null;
      });
    }
    return this.#lookup;
  }

  async #resolveKey(): Promise<KeyState> {
    if (this.#key) return this.#key;
    if (this.#given) {
      // Throws InvalidApiKeyError (401, detected before sending) for a malformed key.
      const key =
        this.#given.source === "env"
          ? validateApiKey(this.#given.raw, "GIGAREELS_API_KEY", describeKeySource({ source: "env" }).fix)
          : validateApiKey(this.#given.raw);
      this.#key = { key, source: this.#given.source };
      return this.#key;
    }
    const { key } = await this.#lookupStore();
    if (!key && !hasNodeApis()) {
      throw new MissingApiKeyError("No API key given: pass new GigaReels({ apiKey })", {
        suggestions: ["Stored CLI credentials and GIGAREELS_API_KEY_FILE need Node.js, Bun or Deno"],
      });
    }
    if (!key) {
      throw new MissingApiKeyError(
        "No API key found: none was given, GIGAREELS_API_KEY is not set and you are not logged in",
        {
          suggestions: MISSING_KEY_SUGGESTIONS,
        },
      );
    }
    this.#key = key;
    return key;
  }

  async #resolveBaseUrl(): Promise<string> {
    if (this.#explicitBaseUrl) return this.#explicitBaseUrl;
    // A key from the option or the environment goes with the default base URL; a stored
    // key goes with its profile's base URL.
    if (this.#given || (this.#key && this.#key.source !== "keychain" && this.#key.source !== "file"))
      return DEFAULT_BASE_URL;
    const { baseUrl } = await this.#lookupStore();
    return baseUrl ?? DEFAULT_BASE_URL;
  }
}
