/**
 * A CONNECT tunnel through a proxy with node:http, for `gigareels doctor` (whether the proxy
 * answers, and the server's certificate through it). API requests and downloads go through
 * undici's agent instead (./dispatcher.ts). Failures are ProxyErrors naming the proxy (masked).
 */
import type { Socket } from "node:net";
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
