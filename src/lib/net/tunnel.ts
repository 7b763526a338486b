/**
 * Proxied connections with node:http, for downloads (node:http(s) runs the same streamed
 * request as without a proxy, so memory stays flat and undici is not loaded) and for
 * `gigareels doctor` (whether the proxy answers, and the server's certificate through it):
 * a CONNECT tunnel for https, an absolute-form request (`GET http://host/path`) for http, as
 * proxies expect (many allow CONNECT to port 443 only). API requests go through undici's
 * agent instead (./dispatcher.ts). Failures are ProxyErrors naming the proxy (masked).
 */
import { isIP, type Socket } from "node:net";
import { type ProxyChoice, ProxyError, proxyRefusal, proxyUnreachable } from "./proxy.js";

export interface TunnelOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** `Proxy-Authorization` from the user and password in the proxy URL, if any. */
function proxyAuthorization(p: URL): Record<string, string> {
  if (!p.username && !p.password) return {};
  const cred = `${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`;
  return { "proxy-authorization": `Basic ${Buffer.from(cred).toString("base64")}` };
}

/**
 * node:http request options that send a plain-http request for `target` to the proxy in
 * absolute form. The caller adds its own headers to `headers`.
 */
export function forwardOptions(
  proxy: ProxyChoice,
  target: string | URL,
): { host: string; port: number; path: string; headers: Record<string, string> } {
  const p = new URL(proxy.url);
  const u = new URL(target);
  return {
    host: p.hostname.replace(/^\[|\]$/g, ""),
    port: Number(p.port || (p.protocol === "https:" ? 443 : 80)),
    path: u.href,
    headers: { host: u.host, ...proxyAuthorization(p) },
  };
}

export async function openTunnel(
  proxy: ProxyChoice,
  host: string,
  port: number,
  options: TunnelOptions = {},
): Promise<Socket> {
  const p = new URL(proxy.url);
  const { request } = p.protocol === "https:" ? await import("node:https") : await import("node:http");
  const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: target };
  const timeoutMs = options.timeoutMs ?? 10_000;
  Object.assign(headers, proxyAuthorization(p));
  return new Promise<Socket>((resolve, reject) => {
    const req = request({
      host: p.hostname.replace(/^\[|\]$/g, ""),
      port: Number(p.port || (p.protocol === "https:" ? 443 : 80)),
      method: "CONNECT",
      path: target,
      headers,
      signal: options.signal,
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(proxyUnreachable(proxy, `no answer within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    req.on("connect", (res, socket) => {
      clearTimeout(timer);
      if (res.statusCode === 200) {
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(proxyRefusal(proxy, target, res.statusCode ?? 0));
    });
    req.on("response", (res) => {
      // A proxy that answers CONNECT with a plain response (no tunnel)
      clearTimeout(timer);
      res.resume();
      reject(proxyRefusal(proxy, target, res.statusCode ?? 0));
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err instanceof ProxyError) return reject(err);
      const code = err.code ?? "";
      const why =
        code === "ECONNREFUSED"
          ? "the connection was refused"
          : code === "ENOTFOUND" || code === "EAI_AGAIN"
            ? "its host name could not be resolved"
            : code === "ABORT_ERR"
              ? "the check was cancelled"
              : `${code || "error"}: ${err.message}`;
      reject(proxyUnreachable(proxy, why, err));
    });
    req.end();
  });
}

/**
 * A connection to `target`'s host through the proxy, ready for node:http(s) as
 * `createConnection`: the tunnel itself for http, TLS over it for https (verified as any
 * connection of Node's: its CAs and NODE_EXTRA_CA_CERTS, never switched off).
 */
export async function tunnelTo(
  proxy: ProxyChoice,
  target: string | URL,
  options: TunnelOptions = {},
): Promise<Socket> {
  const u = new URL(target);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const https = u.protocol === "https:";
  const socket = await openTunnel(proxy, host, Number(u.port || (https ? 443 : 80)), options);
  if (!https) return socket;
  const { connect } = await import("node:tls");
  return connect({ socket, host, servername: isIP(host) ? undefined : host });
}
