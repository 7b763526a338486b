/**
 * The doctor's checks of the way to the API, in order: DNS, a TCP connection, TLS (and which
 * CA verified it), the proxy, the API's answer to /api/me, and the clock against the
 * server's Date header. When a proxy applies, DNS and TCP are about the proxy (the proxy
 * resolves and reaches the API host), and TLS is checked through its tunnel, so every step
 * looks at what the requests really use. A check after a failed one is skipped.
 */
import { lookup } from "node:dns/promises";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type DetailedPeerCertificate, type TLSSocket } from "node:tls";
import { notTheApi } from "../account/advice.js";
import { type ProxyChoice, routeFor } from "../net/proxy.js";
import { openTunnel } from "../net/tunnel.js";
import { certName, extraCaProblem, type TrustAnchor, trustAnchorOf } from "../net/trust.js";
import { GigaReels } from "../sdk/client.js";
import { errorFromResponse, type RawResponse } from "../sdk/transport.js";
import { check, failFrom } from "./local.js";
import type { Check } from "./types.js";

const UNREACHABLE = "connection_error";
/** Largest clock difference that passes. */
export const MAX_SKEW_MS = 60_000;

export interface NetTarget {
  url: URL;
  host: string;
  port: number;
  proxy: ProxyChoice | null;
  route: ReturnType<typeof routeFor>;
  timeoutMs: number;
  signal?: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** Set by the DNS check: the addresses the TCP check tries, in order. */
  addresses?: string[];
  /** Set by the TCP check: the address that answered (TLS connects there). */
  address?: string;
  /** The tunnel through the proxy, opened once (TLS and proxy checks share it). */
  tunnel?: Promise<Socket>;
}

export function netTarget(
  baseUrl: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  signal?: AbortSignal,
): NetTarget {
  const url = new URL(baseUrl);
  const route = routeFor(url, env);
  return {
    url,
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    proxy: route.proxy,
    route,
    timeoutMs,
    signal,
    env,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`no answer within ${Math.round(ms / 1000)} s`), {
            code: "ETIMEDOUT",
            what,
          }),
        ),
      ms,
    );
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

function proxyEndpoint(proxy: ProxyChoice): { host: string; port: number } {
  const u = new URL(proxy.url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: Number(u.port || (u.protocol === "https:" ? 443 : 80)),
  };
}

export async function checkDns(t: NetTarget): Promise<Check> {
  const target = t.proxy ? proxyEndpoint(t.proxy).host : t.host;
  const about = t.proxy ? `${target} (the proxy from ${t.proxy.variable})` : target;
  const later = t.proxy ? `; the proxy resolves ${t.host}` : "";
  if (isIP(target)) {
    t.addresses = [target];
    return check("dns", "pass", `${about} is an IP address: nothing to resolve${later}`, {
      data: { host: target, addresses: [target] },
    });
  }
  try {
    const t0 = Date.now();
    const found = await withTimeout(lookup(target, { all: true }), t.timeoutMs, "dns");
    const list = found.map((a) => a.address);
    t.addresses = list;
    return check(
      "dns",
      "pass",
      `${about} -> ${list.slice(0, 3).join(", ")}${list.length > 3 ? ", ..." : ""}${later}`,
      {
        data: { host: target, addresses: list, ms: Date.now() - t0 },
      },
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    const why =
      code === "ENOTFOUND"
        ? "no such host"
        : code === "EAI_AGAIN"
          ? "the DNS server did not answer"
          : code === "ETIMEDOUT"
            ? (err as Error).message
            : code;
    return check("dns", "fail", `${about} could not be resolved (${why})`, {
      fix: t.proxy
        ? `Check the proxy's host name in ${t.proxy.variable}`
        : "Check the host in GIGAREELS_BASE_URL (or --base-url) and your network's DNS; where only a proxy can resolve names, set HTTPS_PROXY",
      code: UNREACHABLE,
      data: { host: target, code },
    });
  }
}

export async function checkTcp(t: NetTarget): Promise<Check> {
  const { host, port } = t.proxy ? proxyEndpoint(t.proxy) : { host: t.host, port: t.port };
  const addresses = t.addresses ?? [host];
  const about = (a: string) =>
    `${t.proxy ? "the proxy at " : ""}${host}:${port}${a !== host ? ` (${a})` : ""}`;
  const t0 = Date.now();
  // Each address in turn, as a client falls back from one to the next (e.g. ::1, then 127.0.0.1).
  let lastErr: unknown;
  for (const address of addresses) {
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          const s = netConnect({ host: address, port });
          s.once("connect", () => {
            s.destroy();
            resolve();
          });
          s.once("error", reject);
        }),
        t.timeoutMs,
        "tcp",
      );
      t.address = address;
      return check("tcp", "pass", `Connected to ${about(address)} in ${Date.now() - t0} ms`, {
        data: { host, address, port, ms: Date.now() - t0 },
      });
    } catch (err) {
      lastErr = err;
    }
  }
  const code = (lastErr as NodeJS.ErrnoException).code ?? "error";
  const why =
    code === "ECONNREFUSED"
      ? "the connection was refused"
      : code === "ETIMEDOUT"
        ? (lastErr as Error).message
        : code;
  return check("tcp", "fail", `Could not connect to ${about(addresses.join(", "))}: ${why}`, {
    fix: t.proxy
      ? `Check that the proxy in ${t.proxy.variable} is running`
      : code === "ECONNREFUSED"
        ? `Check that the server at ${t.url.origin} is running (and the port in GIGAREELS_BASE_URL)`
        : `A firewall may block port ${port}; behind a proxy, set HTTPS_PROXY`,
    code: UNREACHABLE,
    data: { host, addresses, port, code },
  });
}

function tunnelOf(t: NetTarget): Promise<Socket> {
  if (!t.proxy) throw new Error("no proxy");
  t.tunnel ??= openTunnel(t.proxy, t.host, t.port, { timeoutMs: t.timeoutMs, signal: t.signal });
  t.tunnel.catch(() => {});
  return t.tunnel;
}

const STORE_TEXT: Record<TrustAnchor["store"], string> = {
  bundled: "Node's bundled CA store",
  extra: "NODE_EXTRA_CA_CERTS",
  system: "the system CA store",
};

export async function checkTls(t: NetTarget): Promise<Check> {
  if (t.url.protocol !== "https:") {
    return check("tls", "skip", `Not used: ${t.url.origin} is plain http (allowed on loopback only)`);
  }
  let socket: Socket | undefined;
  if (t.proxy) {
    try {
      socket = await tunnelOf(t);
    } catch {
      return check("tls", "skip", "No tunnel through the proxy to check TLS through (see Proxy)");
    }
  }
  const servername = isIP(t.host) ? undefined : t.host;
  try {
    const tls = await withTimeout(
      new Promise<TLSSocket>((resolve, reject) => {
        // Verification stays on (rejectUnauthorized defaults to true): an untrusted certificate fails here.
        const s = tlsConnect({
          host: t.address ?? t.host,
          port: t.port,
          servername,
          ...(socket ? { socket } : {}),
        });
        s.once("secureConnect", () => resolve(s));
        s.once("error", reject);
      }),
      t.timeoutMs,
      "tls",
    );
    const peer = tls.getPeerCertificate(true) as DetailedPeerCertificate;
    const protocol = tls.getProtocol();
    tls.destroy();
    const anchor = trustAnchorOf(peer, t.env);
    const from = anchor.store === "extra" ? `NODE_EXTRA_CA_CERTS (${anchor.file})` : STORE_TEXT[anchor.store];
    return check(
      "tls",
      "pass",
      `${protocol}, certificate for ${certName(peer.subject as unknown as Record<string, string>)} valid until ${peer.valid_to}, verified by "${anchor.name}" from ${from}`,
      {
        data: {
          protocol,
          subject: peer.subject?.CN,
          validTo: peer.valid_to,
          ca: anchor.name,
          caStore: anchor.store,
          caFile: anchor.file,
        },
      },
    );
  } catch (err) {
    socket?.destroy();
    const e = err as NodeJS.ErrnoException;
    const code = e.code ?? "error";
    const extra = extraCaProblem(t.env);
    let fix: string;
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
      fix = "The certificate is not for this host name: check GIGAREELS_BASE_URL";
    else if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID")
      fix = "Check this machine's clock; else the server's certificate has expired";
    else if (extra) fix = `${extra}: point it at a readable PEM file`;
    else
      fix =
        "If your network inspects TLS (a corporate proxy), set NODE_EXTRA_CA_CERTS to its CA certificate (PEM) file; verification is never switched off";
    return check("tls", "fail", `The TLS handshake with ${t.host}:${t.port} failed: ${e.message} (${code})`, {
      fix,
      code: UNREACHABLE,
      data: { code },
    });
  }
}

export async function checkProxy(t: NetTarget): Promise<Check> {
  const r = t.route;
  if (!r.proxy) {
    const detail =
      r.reason === "unset"
        ? `None: ${t.url.protocol === "https:" ? "HTTPS_PROXY and HTTP_PROXY are" : "HTTP_PROXY is"} not set, requests go directly`
        : r.reason === "loopback"
          ? `Not used for ${t.host}: loopback is never proxied`
          : `Not used for ${t.host}: it matches ${r.variable ?? "NO_PROXY"}`;
    return check("proxy", "pass", detail, { data: { proxy: null, reason: r.reason } });
  }
  const p = r.proxy;
  try {
    const t0 = Date.now();
    const s = await tunnelOf(t);
    const ms = Date.now() - t0;
    if (t.url.protocol !== "https:") s.destroy();
    return check("proxy", "pass", `${p.shown} (from ${p.variable}) opened a tunnel to ${t.host}:${t.port}`, {
      data: { proxy: p.shown, variable: p.variable, ms },
    });
  } catch (err) {
    return failFrom("proxy", err, { code: UNREACHABLE, data: { proxy: p.shown, variable: p.variable } });
  }
}

export interface ApiOutcome {
  check: Check;
  /** The answer (any status), its round trip, for the clock check. */
  answer?: { raw: RawResponse; sentAt: number; receivedAt: number };
}

/** GET /api/me with the key; with none (null) the request goes without one, only for the clock's Date. */
export async function checkApi(t: NetTarget, key: string | null, userAgent?: string): Promise<ApiOutcome> {
  const client = new GigaReels({
    ...(key ? { apiKey: key } : {}),
    baseUrl: t.url.href,
    env: {},
    maxRetries: 0,
    timeoutMs: t.timeoutMs,
    deadlineMs: t.timeoutMs,
    userAgent,
  });
  const sentAt = Date.now();
  let raw: RawResponse;
  try {
    raw = await client.transport.send({
      method: "GET",
      path: "/api/me",
      auth: key !== null,
      signal: t.signal,
    });
  } catch (err) {
    return { check: failFrom("api", err) };
  }
  const receivedAt = Date.now();
  const answer = { raw, sentAt, receivedAt };
  const ms = receivedAt - sentAt;
  const base = t.url.href.replace(/\/$/, "");
  if (raw.status === 404) {
    // Every GigaReels API serves /api/me: some other server answered (as status and whoami say).
    const wrong = notTheApi(base, errorFromResponse(raw).message);
    return {
      check: check("api", "fail", wrong.message, {
        fix: wrong.fix[0],
        code: "malformed_response",
        data: { status: raw.status, ms },
      }),
      answer,
    };
  }
  if (raw.status < 200 || raw.status > 299) {
    const err = errorFromResponse(raw);
    return { check: failFrom("api", err, { data: { status: raw.status, ms } }), answer };
  }
  let me: { email?: unknown; plan?: unknown; key?: { name?: unknown; id?: unknown } } = {};
  try {
    me = JSON.parse(raw.text());
  } catch {
    return {
      check: check("api", "fail", `${raw.status} but the answer to GET /api/me is not JSON`, {
        fix: notTheApi(base, "").fix[0], // the 404 case's fix: the base URL, and where it comes from
        code: "malformed_response",
        data: { status: raw.status, ms },
      }),
      answer,
    };
  }
  const who = typeof me.email === "string" ? me.email : "an account";
  const plan = typeof me.plan === "string" ? ` (plan ${me.plan})` : "";
  const keyName = typeof me.key?.name === "string" ? `, key "${me.key.name}"` : "";
  return {
    check: check("api", "pass", `${raw.status} in ${ms} ms: ${who}${plan}${keyName}`, {
      data: { status: raw.status, ms, email: me.email, plan: me.plan },
    }),
    answer,
  };
}

function formatSkew(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/**
 * Local clock against the server's Date header (1 s resolution: the server's time lies in
 * [Date, Date + 1 s); compared with the middle of the round trip).
 */
export function checkClock(answer: ApiOutcome["answer"]): Check {
  const date = answer?.raw.headers.date;
  const server = date ? Date.parse(date) : Number.NaN;
  if (!answer || Number.isNaN(server)) {
    return check(
      "clock",
      "skip",
      answer ? "The server's answer has no Date header" : "No answer from the server to compare with",
    );
  }
  const local = (answer.sentAt + answer.receivedAt) / 2;
  const skewMs = Math.round(local - (server + 500));
  const uncertainty = Math.ceil((answer.receivedAt - answer.sentAt) / 2) + 500;
  if (Math.abs(skewMs) <= MAX_SKEW_MS) {
    return check(
      "clock",
      "pass",
      `In step with the server (within ${formatSkew(Math.abs(skewMs) + uncertainty)})`,
      {
        data: { skewMs, serverDate: date },
      },
    );
  }
  return check(
    "clock",
    "fail",
    `This machine's clock is ${formatSkew(skewMs)} ${skewMs > 0 ? "ahead of" : "behind"} the server's (${date})`,
    {
      fix: "Turn on automatic time synchronisation (e.g. timedatectl set-ntp true, or Date & Time settings)",
      code: "clock_skew",
      data: { skewMs, serverDate: date },
    },
  );
}
