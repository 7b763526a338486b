/**
 * Which proxy a request goes through: the one place that decides, for the SDK's transport,
 * downloads and `gigareels doctor`. Pure (no undici, no I/O): the dispatcher that carries
 * the proxied requests is in ./dispatcher.ts and is loaded only when a proxy applies.
 *
 * The rules are undici's EnvHttpProxyAgent's (the agent that carries the requests), plus one:
 *  - a loopback host (127.0.0.0/8, ::1, localhost) is never proxied;
 *  - `http_proxy` else `HTTP_PROXY` for http URLs; `https_proxy` else `HTTPS_PROXY` for https
 *    URLs, falling back to the http proxy; an empty value means none;
 *  - `no_proxy` else `NO_PROXY`: entries separated by commas or spaces; `*` matches every
 *    host; `host` matches that host exactly; `.example.com` or `*.example.com` match it and
 *    every name ending so; `host:port` matches only that port.
 */
import { GigaReelsError } from "../sdk/errors.js";
import { type Env, processEnv } from "../sdk/env.js";

/** True for 127.0.0.0/8, ::1 and localhost (and *.localhost). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  // IPv4-mapped IPv6 loopback (::ffff:127.0.0.1, normalised by URL to ::ffff:7f00:1)
  if (/^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h) || /^::ffff:127\./.test(h)) return true;
  return false;
}

/** The proxy variables as set (lower case wins over upper case, as in undici and curl). */
export interface ProxySettings {
  httpProxy?: { value: string; variable: string };
  httpsProxy?: { value: string; variable: string };
  noProxy?: { value: string; variable: string };
}

function pick(env: Env, lower: string): { value: string; variable: string } | undefined {
  const upper = lower.toUpperCase();
  if (env[lower] !== undefined) return env[lower] === "" ? undefined : { value: env[lower], variable: lower };
  if (env[upper] !== undefined && env[upper] !== "") return { value: env[upper], variable: upper };
  return undefined;
}

export function proxySettings(env: Env = processEnv()): ProxySettings {
  const out: ProxySettings = {};
  const http = pick(env, "http_proxy");
  const https = pick(env, "https_proxy") ?? http;
  const no = pick(env, "no_proxy");
  if (http) out.httpProxy = http;
  if (https) out.httpsProxy = https;
  if (no) out.noProxy = no;
  return out;
}

/** True when any proxy variable is set (so the proxy dispatcher may be needed at all). */
export function anyProxyConfigured(env: Env = processEnv()): boolean {
  const s = proxySettings(env);
  return s.httpProxy !== undefined || s.httpsProxy !== undefined;
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/** True when NO_PROXY says `url` goes direct (undici's matching, see the module comment). */
export function matchesNoProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const entries = noProxy.split(/[,\s]/).filter(Boolean);
  if (entries.length === 0) return false;
  if (noProxy === "*") return true;
  const hostname = url.host.replace(/:\d*$/, "").toLowerCase();
  const port = Number.parseInt(url.port, 10) || DEFAULT_PORTS[url.protocol] || 0;
  for (const raw of entries) {
    const m = /^(.+):(\d+)$/.exec(raw);
    const host = (m ? m[1]! : raw).toLowerCase();
    const entryPort = m ? Number.parseInt(m[2]!, 10) : 0;
    if (entryPort && entryPort !== port) continue;
    if (!/^[.*]/.test(host)) {
      if (hostname === host) return true;
    } else if (hostname.endsWith(host.replace(/^\*/, ""))) {
      return true;
    }
  }
  return false;
}

export interface ProxyChoice {
  /** The proxy URL as configured (may hold a user and password: never print it, use `shown`). */
  url: string;
  /** The proxy URL with its password masked, for messages. */
  shown: string;
  /** The variable it came from ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY"...). */
  variable: string;
}

/** Why a URL goes direct. */
export type DirectReason = "loopback" | "no_proxy" | "unset";

/** The proxy for a URL, or why there is none. */
export function routeFor(
  target: string | URL,
  env: Env = processEnv(),
): { proxy: ProxyChoice } | { proxy: null; reason: DirectReason; variable?: string } {
  const url = typeof target === "string" ? new URL(target) : target;
  const s = proxySettings(env);
  const chosen =
    url.protocol === "https:" ? s.httpsProxy : url.protocol === "http:" ? s.httpProxy : undefined;
  if (!chosen) return { proxy: null, reason: "unset" };
  if (isLoopbackHost(url.hostname)) return { proxy: null, reason: "loopback" };
  if (matchesNoProxy(url, s.noProxy?.value)) {
    return { proxy: null, reason: "no_proxy", variable: s.noProxy?.variable };
  }
  return { proxy: { url: chosen.value, shown: maskProxyUrl(chosen.value), variable: chosen.variable } };
}

/** The proxy for a URL, or null when it goes direct. */
export function proxyFor(target: string | URL, env: Env = processEnv()): ProxyChoice | null {
  return routeFor(target, env).proxy;
}

/** A proxy URL fit to print: `http://user:****@host:port` (no password, no path). */
export function maskProxyUrl(raw: string): string {
  try {
    const u = new URL(raw);
    const user = u.username ? `${decodeURIComponent(u.username)}${u.password ? ":****" : ""}@` : "";
    return `${u.protocol}//${user}${u.host}`;
  } catch {
    return "(an unparsable proxy URL)";
  }
}

/** The proxy refused or could not be reached. Messages name the proxy (masked), never a password. */
export class ProxyError extends GigaReelsError {
  override readonly code = "proxy_error";
  constructor(
    message: string,
    /** "auth" (407), "forbidden" (403), "status" (another refusal), "unreachable" (down, DNS). */
    readonly kind: "auth" | "forbidden" | "status" | "unreachable",
    suggestions: string[],
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, { cause: options?.cause, suggestions });
  }
}

/** The codes and messages of an error and its causes (fetch wraps the real one a few levels down). */
export function errorChain(err: unknown): { codes: string; messages: string } {
  const codes: string[] = [];
  const messages: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && e && typeof e === "object"; i++) {
    const o = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof o.code === "string") codes.push(o.code);
    if (typeof o.message === "string") messages.push(o.message);
    e = o.cause;
  }
  return { codes: codes.join(" "), messages: messages.join(" | ") };
}

const STATUS_TEXT: Record<number, string> = {
  403: "Forbidden",
  407: "Proxy Authentication Required",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/**
 * A ProxyError for a refusal answered by the proxy with `status` when opening a tunnel (or
 * forwarding) to `target` (host:port).
 */
export function proxyRefusal(
  proxy: ProxyChoice,
  target: string,
  status: number,
  cause?: unknown,
): ProxyError {
  const via = `through the proxy ${proxy.shown} (from ${proxy.variable})`;
  const code = `${status}${STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : ""}`;
  const host = target.replace(/:\d+$/, "");
  if (status === 407) {
    return new ProxyError(
      `Could not reach ${target} ${via}: the proxy asks for a user name and password (${code})`,
      "auth",
      [
        `Put them in ${proxy.variable} (http://USER:PASSWORD@HOST:PORT)`,
        `or add ${host} to NO_PROXY if it can be reached directly`,
      ],
      status,
      { cause },
    );
  }
  if (status === 403) {
    return new ProxyError(
      `Could not reach ${target} ${via}: the proxy refused to connect to it (${code})`,
      "forbidden",
      [
        `Ask your network administrator to allow ${host}`,
        `or add ${host} to NO_PROXY if it can be reached directly`,
      ],
      status,
      { cause },
    );
  }
  return new ProxyError(
    `Could not reach ${target} ${via}: the proxy could not connect to it (${code})`,
    "status",
    ["Check the host in GIGAREELS_BASE_URL", "Try again in a moment"],
    status,
    { cause },
  );
}

/** A ProxyError for a proxy that could not be reached at all. */
export function proxyUnreachable(proxy: ProxyChoice, why: string, cause?: unknown): ProxyError {
  return new ProxyError(
    `Could not reach the proxy ${proxy.shown} (from ${proxy.variable}): ${why}`,
    "unreachable",
    [
      `Check ${proxy.variable} and that the proxy is running`,
      `or unset ${proxy.variable} to connect directly`,
    ],
    undefined,
    { cause },
  );
}

/**
 * Explains the failure of a request that went through `proxy`: a ProxyError when the proxy
 * refused (an answer other than 200 to CONNECT, 407 to a forwarded request) or could not be
 * reached; null when the failure lies beyond the proxy (TLS with the server, a reset...).
 */
export function explainProxyFailure(err: unknown, proxy: ProxyChoice, target: URL): ProxyError | null {
  if (err instanceof ProxyError) return err;
  const { codes, messages } = errorChain(err);
  const hostPort = `${target.hostname}:${target.port || DEFAULT_PORTS[target.protocol] || ""}`;
  const m =
    /Proxy response \((\d{3})\)/.exec(messages) ?? /Proxy Authentication Required \((\d{3})\)/.exec(messages);
  if (m) return proxyRefusal(proxy, hostPort, Number(m[1]), err);
  let proxyHost = "";
  try {
    proxyHost = new URL(proxy.url).hostname.replace(/^\[|\]$/g, "");
  } catch {}
  // The connection to the proxy itself failed (the tunnel's far end is the proxy's business).
  if (/ECONNREFUSED/.test(codes)) return proxyUnreachable(proxy, "the connection was refused", err);
  if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME/.test(codes) && (!proxyHost || messages.includes(proxyHost)))
    return proxyUnreachable(proxy, "its host name could not be resolved", err);
  if (/EHOSTUNREACH|ENETUNREACH/.test(codes))
    return proxyUnreachable(proxy, "the network cannot reach it", err);
  return null;
}
