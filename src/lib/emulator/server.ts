/**
 * Request handling: the request log, fault injection, authentication, rate limits, and the
 * routes of gigareels-api.md (parts A and B). Handlers return a `Reply`; `send` writes it.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { apiError, BodyTooLargeError, html, json, page, parseForm, type Reply, readBody } from "./http.js";
import { fingerprint, type IdempotencyStore, MAX_IDEMPOTENCY_KEY_LENGTH } from "./idempotency.js";
import { type KeyStore, maskForLog, redactForLog } from "./keys.js";
import { Mp4File, parseRange } from "./mp4.js";
import type { OAuthServer } from "./oauth.js";
import { type RateGroup, type RateLimiter, rateGroupFor, rateLimitMessage } from "./rate-limit.js";
import { type RenderStore, type RenderType, validateRenderBody } from "./renders.js";
import {
  changesAnswer,
  cutAfterBytes,
  type FaultList,
  LOGIN_PAGE,
  PROXY_ERROR_PAGE,
  STATUS_FAULT_MESSAGES,
  slowFirstByte,
  stallAfterBytes,
  trickle,
  TRUNCATED_JSON,
} from "./faults.js";
import type { EmulatorKey, Fault, RequestLogEntry } from "./types.js";

/** The published error bodies (part A), word for word. */
export const ERRORS = {
  invalidKey: "Invalid API key",
  forbidden: "Insufficient permissions for this operation",
  renderNotFound: "Render not found",
  notFound: "Not found",
  idempotencyMismatch: "Idempotency-Key was used with a different request body",
} as const;

export interface ServerContext {
  keys: KeyStore;
  renders: RenderStore;
  limiter: RateLimiter;
  idempotency: IdempotencyStore;
  oauth: OAuthServer;
  faults: FaultList;
  log: RequestLogEntry[];
  baseUrl: () => string;
  outputSizeBytes: number;
  verbose: boolean;
  /** Responses held open by the "hang" fault, and timers of the "latency" fault. */
  hung: Set<ServerResponse>;
  timers: Set<NodeJS.Timeout>;
}

const RENDER_PATHS: Record<string, RenderType> = {
  "/api/render": "render",
  "/api/render/text": "text",
  "/api/render/split": "split",
};

/** Every API path and its allowed methods (for 404 vs 405). */
function allowedMethods(path: string): string[] | undefined {
  if (path in RENDER_PATHS) return ["POST"];
  if (/^\/api\/render\/status\/[^/]+$/.test(path)) return ["GET"];
  if (path === "/api/me") return ["GET"];
  if (path === "/api/social-media/accounts") return ["GET"];
  if (path === "/api/social-media/posts") return ["GET", "POST"];
  return undefined;
}

function logHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    const text = Array.isArray(value) ? value.join(", ") : (value ?? "");
    if (name === "authorization") {
      const m = /^(\S+)\s+(\S+)/.exec(text);
      out[name] = m ? `${m[1]} ${maskForLog(m[2])}` : "(redacted)";
    } else {
      out[name] = redactForLog(text);
    }
  }
  return out;
}

function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? "")?.[1];
}

function sleep(ctx: ServerContext, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      ctx.timers.delete(t);
      resolve();
    }, ms);
    ctx.timers.add(t);
  });
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  res.statusCode = reply.status;
  for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
  const body = reply.body;
  if (body instanceof Readable) {
    if (req.method === "HEAD") {
      body.destroy();
      res.end();
      return;
    }
    res.on("close", () => body.destroy());
    body.pipe(res);
    return;
  }
  if (body !== undefined && !res.hasHeader("content-length"))
    res.setHeader("content-length", Buffer.byteLength(body));
  res.end(req.method === "HEAD" ? undefined : body);
}

export function createHandler(ctx: ServerContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(ctx, req, res).catch((err: unknown) => {
      if (ctx.verbose) process.stderr.write(`[emulator] handler error: ${redactForLog(String(err))}\n`);
      if (!res.headersSent && !res.destroyed) send(req, res, apiError(500, "Internal server error"));
    });
  };
}

async function handle(ctx: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const method = (req.method ?? "GET").toUpperCase();
  const url = new URL(req.url ?? "/", "http://emulator.invalid");
  const path = url.pathname;
  const token = bearerToken(req);
  const entry: RequestLogEntry = {
    time: started,
    method,
    path,
    query: url.search.replace(/^\?/, ""),
    status: 0,
    headers: logHeaders(req),
    ...(token ? { keyLast4: token.slice(-4) } : {}),
  };
  ctx.log.push(entry);
  const done = () => {
    entry.status = res.headersSent ? res.statusCode : 0;
    if (ctx.verbose) {
      const who = token ? ` ${maskForLog(token)}` : "";
      const status = entry.status || "(no answer)";
      process.stderr.write(`[emulator] ${method} ${path} ${status} ${Date.now() - started}ms${who}\n`);
    }
  };
  res.on("close", done);

  let resetAfter = false;
  /** A fault that changes how a streamed body is sent, or what a route answers. */
  let bodyFault: Fault | undefined;
  const routeFault = ctx.faults.take(method, path, changesAnswer);
  const fault = ctx.faults.take(method, path, (f) => !changesAnswer(f));
  if (fault) {
    switch (fault.kind) {
      case "reset-before":
        req.socket.destroy();
        return;
      case "hang":
        ctx.hung.add(res);
        res.on("close", () => ctx.hung.delete(res));
        return;
      case "latency":
        await sleep(ctx, fault.ms);
        if (res.destroyed) return;
        break;
      case "status": {
        // An error of the API itself: it carries X-RateLimit-* like every answer (without counting).
        const headers: Record<string, string> = {
          ...ctx.limiter.peek(token ?? "anonymous", rateGroupFor(method, path)),
        };
        if (fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(fault.retryAfterSeconds);
        send(
          req,
          res,
          apiError(fault.status, STATUS_FAULT_MESSAGES[fault.status] ?? "Server error", headers),
        );
        return;
      }
      case "rate-limit": {
        const seconds = Math.max(1, Math.ceil(fault.retryAfterSeconds ?? 60));
        const limit = ctx.limiter.peek(token ?? "anonymous", rateGroupFor(method, path));
        send(
          req,
          res,
          apiError(429, rateLimitMessage(seconds), {
            ...limit,
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": String(Math.ceil(Date.now() / 1000) + seconds),
            "retry-after": String(seconds),
          }),
        );
        return;
      }
      case "html":
        send(req, res, fault.status === 200 ? html(200, LOGIN_PAGE) : html(502, PROXY_ERROR_PAGE));
        return;
      case "malformed-json":
        send(req, res, {
          status: 200,
          headers: { "content-type": "application/json; charset=utf-8" },
          body: TRUNCATED_JSON,
        });
        return;
      case "reset-after":
        resetAfter = true;
        break;
      case "stall-body":
      case "cut-body":
      case "slow-first-byte":
      case "trickle":
        bodyFault = fault;
        break;
      case "revoke-key":
        if (token) ctx.keys.revoke(token);
        break;
      default:
        break; // faults that change the answer: routeFault
    }
  }

  let body = "";
  if (method !== "GET" && method !== "HEAD") {
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        // The rest of the body is never read, so the connection cannot carry another request.
        send(
          req,
          res,
          apiError(413, "Request body too large", {
            ...ctx.limiter.peek(token ?? "anonymous", rateGroupFor(method, path)),
            connection: "close",
          }),
        );
        return;
      }
      throw err;
    }
    entry.body = redactForLog(body);
  }

  const reply = await route(ctx, req, method, url, body, routeFault);
  if (resetAfter) {
    req.socket.destroy();
    return;
  }
  if (bodyFault && reply.body instanceof Readable) {
    if (bodyFault.kind === "stall-body") {
      reply.body = stallAfterBytes(reply.body, Math.max(0, bodyFault.afterBytes));
      ctx.hung.add(res);
      res.on("close", () => ctx.hung.delete(res));
    } else if (bodyFault.kind === "cut-body") {
      reply.body = cutAfterBytes(reply.body, Math.max(0, bodyFault.afterBytes), () => req.socket.destroy());
    } else if (bodyFault.kind === "slow-first-byte") {
      reply.body = slowFirstByte(reply.body, bodyFault.ms, ctx.timers);
    } else if (bodyFault.kind === "trickle") {
      reply.body = trickle(reply.body, bodyFault.bytes, bodyFault.everyMs, ctx.timers);
    }
  }
  send(req, res, reply);
}

async function route(
  ctx: ServerContext,
  req: IncomingMessage,
  method: string,
  url: URL,
  body: string,
  fault?: Fault,
): Promise<Reply> {
  const path = url.pathname;
  const form = () => parseForm(body, req.headers["content-type"]);
  const anonymous = (reply: Reply): Reply => {
    reply.headers = { ...ctx.limiter.peek("anonymous", rateGroupFor(method, path)), ...reply.headers };
    return reply;
  };

  if (path === "/" && (method === "GET" || method === "HEAD")) return homePage(ctx);
  if (path === "/oauth/authorize") {
    if (method === "GET" || method === "HEAD") return ctx.oauth.authorizePage(url.searchParams);
    if (method === "POST") return ctx.oauth.authorizeDecision(form());
    return { status: 405, headers: { allow: "GET, POST" }, body: "" };
  }
  if (path === "/device") {
    if (method === "GET" || method === "HEAD") return ctx.oauth.devicePage(url.searchParams);
    if (method === "POST") return ctx.oauth.deviceDecision(form());
    return { status: 405, headers: { allow: "GET, POST" }, body: "" };
  }
  const file = /^\/files\/([A-Za-z0-9_]+)\.mp4$/.exec(path);
  if (file) return serveFile(ctx, req, method, file[1]!, fault);

  if (path === "/api/oauth/token" || path === "/api/oauth/device/code" || path === "/api/oauth/revoke") {
    if (method !== "POST") return anonymous(apiError(405, "Method not allowed", { allow: "POST" }));
    if (path === "/api/oauth/token") return anonymous(ctx.oauth.token(form()));
    if (path === "/api/oauth/device/code") return anonymous(ctx.oauth.deviceCode(form()));
    return anonymous(ctx.oauth.revoke(form()));
  }

  if (path === "/api" || path.startsWith("/api/")) return api(ctx, req, method, path, body, fault);
  return { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "Not found\n" };
}

async function api(
  ctx: ServerContext,
  req: IncomingMessage,
  method: string,
  path: string,
  body: string,
  fault?: Fault,
) {
  const group: RateGroup = rateGroupFor(method, path);
  const allowed = allowedMethods(path);
  const social = path.startsWith("/api/social-media/");
  if (!allowed && !social) return apiError(404, ERRORS.notFound, ctx.limiter.peek("anonymous", group));

  const key = ctx.keys.authenticate(req.headers.authorization);
  if (!key) return apiError(401, ERRORS.invalidKey, ctx.limiter.peek("anonymous", group));

  const decision = ctx.limiter.take(key.key, group);
  if (!decision.allowed) return apiError(429, rateLimitMessage(decision.retryAfterSeconds), decision.headers);
  const withLimits = (reply: Reply): Reply => {
    reply.headers = { ...reply.headers, ...decision.headers };
    return reply;
  };

  if (!allowed) return withLimits(apiError(404, ERRORS.notFound));
  if (!allowed.includes(method) && !(method === "HEAD" && allowed.includes("GET"))) {
    return withLimits(apiError(405, "Method not allowed", { allow: allowed.join(", ") }));
  }

  const renderType = RENDER_PATHS[path];
  if (renderType) return withLimits(createRender(ctx, req, key, renderType, path, body));

  const status = /^\/api\/render\/status\/([^/]+)$/.exec(path);
  if (status) return withLimits(renderStatus(ctx, key, decodeURIComponent(status[1]!), fault));

  if (path === "/api/me") {
    return withLimits(
      json(200, {
        id: key.account.id,
        email: key.account.email,
        name: key.account.name,
        plan: key.plan,
        key: { id: key.id, name: key.name, createdAt: key.createdAt },
      }),
    );
  }
  return withLimits(socialMedia(ctx, key, method, path, body));
}

function parseJsonBody(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false };
  }
}

function createRender(
  ctx: ServerContext,
  req: IncomingMessage,
  key: EmulatorKey,
  type: RenderType,
  path: string,
  body: string,
): Reply {
  if (type === "split" && key.plan === "free") return apiError(403, ERRORS.forbidden);

  const raw = req.headers["idempotency-key"];
  const idemKey = Array.isArray(raw) ? raw[0] : raw;
  let fp = "";
  if (idemKey !== undefined) {
    if (idemKey.length === 0 || idemKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)
      return apiError(400, `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
    fp = fingerprint("POST", path, body);
    const found = ctx.idempotency.lookup(key.account.id, idemKey, fp);
    if (found.kind === "mismatch") return apiError(422, ERRORS.idempotencyMismatch);
    if (found.kind === "replay") {
      return { ...found.reply, headers: { ...found.reply.headers, "idempotent-replayed": "true" } };
    }
  }

  const parsed = parseJsonBody(body);
  let reply: Reply;
  if (!parsed.ok) {
    reply = apiError(400, "Request body must be valid JSON");
  } else {
    const problem = validateRenderBody(type, parsed.value);
    if (problem) {
      reply = apiError(400, problem);
    } else {
      const render = ctx.renders.create(
        type === "render" ? String((parsed.value as { type: string }).type) : type,
        key.account.id,
        { idempotencyKey: idemKey, key: key.key },
      );
      reply = json(200, { success: true, renderId: render.id });
    }
  }
  if (idemKey !== undefined) ctx.idempotency.record(key.account.id, idemKey, fp, { ...reply });
  return reply;
}

function renderStatus(ctx: ServerContext, key: EmulatorKey, id: string, fault?: Fault): Reply {
  const render = ctx.renders.get(id, key.account.id);
  const s = render && ctx.renders.status(id);
  if (!render || !s) return apiError(404, ERRORS.renderNotFound);
  if (s.status === "done") {
    const outputFile = fault?.kind === "output-file" ? fault.url : `${ctx.baseUrl()}/files/${id}.mp4`;
    return json(200, { status: "done", progress: 100, outputFile });
  }
  if (s.status === "error") return json(200, { status: "error", error: s.error });
  return json(200, { status: s.status, progress: s.progress });
}

interface SocialPost {
  id: string;
  accountId: string;
  createdAt: string;
  [field: string]: unknown;
}
const socialPosts: WeakMap<ServerContext, SocialPost[]> = new WeakMap();

/** /api/social-media/*: the shapes are not published; a minimal plausible pair. */
function socialMedia(
  ctx: ServerContext,
  key: EmulatorKey,
  method: string,
  path: string,
  body: string,
): Reply {
  let posts = socialPosts.get(ctx);
  if (!posts) {
    posts = [];
    socialPosts.set(ctx, posts);
  }
  if (path === "/api/social-media/accounts") return json(200, { accounts: [] });
  if (method === "GET") {
    const mine = posts.filter((p) => p.accountId === key.account.id).map(({ accountId: _a, ...p }) => p);
    return json(200, { posts: mine });
  }
  const parsed = parseJsonBody(body);
  if (!parsed.ok || !parsed.value || typeof parsed.value !== "object" || Array.isArray(parsed.value)) {
    return apiError(400, "Request body must be a JSON object");
  }
  const post: SocialPost = {
    ...(parsed.value as Record<string, unknown>),
    id: `post_${randomBytes(8).toString("hex")}`,
    accountId: key.account.id,
    createdAt: new Date().toISOString(),
    status: "scheduled",
  };
  posts.push(post);
  const { accountId: _a, ...shown } = post;
  return json(201, shown);
}

function serveFile(
  ctx: ServerContext,
  req: IncomingMessage,
  method: string,
  id: string,
  fault?: Fault,
): Reply {
  const notFound: Reply = {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: "Not found\n",
  };
  if (method !== "GET" && method !== "HEAD")
    return { status: 405, headers: { allow: "GET, HEAD" }, body: "" };
  const render = ctx.renders.get(id);
  const s = render && ctx.renders.status(id);
  if (s?.status !== "done") return notFound;
  const file = new Mp4File(fault?.kind === "resize" ? fault.sizeBytes : ctx.outputSizeBytes);
  const lastModified = new Date(Math.floor((s.finishedAt ?? Date.now()) / 1000) * 1000);
  const validators = fault?.kind !== "no-validators";
  const common: Record<string, string> = {
    "content-type": "video/mp4",
    "accept-ranges": fault?.kind === "ignore-range" ? "none" : "bytes",
    ...(validators ? { etag: file.etag, "last-modified": lastModified.toUTCString() } : {}),
    "cache-control": "private, max-age=3600",
  };
  const ifNoneMatch = req.headers["if-none-match"];
  if (validators && ifNoneMatch?.split(",").some((t) => t.trim().replace(/^W\//, "") === file.etag)) {
    return { status: 304, headers: common };
  }
  let rangeHeader = fault?.kind === "ignore-range" ? undefined : req.headers.range;
  const ifRangeRaw = req.headers["if-range"];
  const ifRange = Array.isArray(ifRangeRaw) ? ifRangeRaw[0] : ifRangeRaw;
  if (rangeHeader && ifRange) {
    // If-Range: serve the range only when the validator still matches (strong ETag or date).
    const trimmed = ifRange.trim();
    const matches = !validators
      ? false
      : trimmed.startsWith('"')
        ? trimmed === file.etag
        : !Number.isNaN(Date.parse(trimmed)) && Date.parse(trimmed) >= lastModified.getTime();
    if (!matches) rangeHeader = undefined;
  }
  const range = parseRange(rangeHeader, file.size);
  if (range.kind === "unsatisfiable") {
    return {
      status: 416,
      headers: {
        ...common,
        "content-range": `bytes */${file.size}`,
        "content-type": "text/plain; charset=utf-8",
      },
      body: "Requested range not satisfiable\n",
    };
  }
  if (range.kind === "partial") {
    return {
      status: 206,
      headers: {
        ...common,
        "content-length": String(range.end - range.start + 1),
        "content-range": `bytes ${range.start}-${range.end}/${file.size}`,
      },
      body: file.stream(range.start, range.end),
    };
  }
  return { status: 200, headers: { ...common, "content-length": String(file.size) }, body: file.stream() };
}

function homePage(ctx: ServerContext): Reply {
  const base = ctx.baseUrl();
  return html(
    200,
    page(
      "GigaReels local emulator",
      `<p>Serving the GigaReels API at <code>${base}</code>.</p>
<ul><li><code>POST /api/render</code>, <code>/api/render/text</code>, <code>/api/render/split</code></li>
<li><code>GET /api/render/status/{id}</code>, <code>GET /api/me</code></li>
<li><a href="/device">/device</a> (device login)</li></ul>`,
    ),
  );
}
