/**
 * A small forward proxy on 127.0.0.1 for the tests: CONNECT tunnels (https targets) and
 * absolute-form requests (`GET http://host/path`, http targets), like squid or tinyproxy in
 * their default setup. It counts what it carried, can require Basic proxy authentication
 * (407), can refuse tunnels (403), and resolves host names through its own table first, so a
 * name such as `gigareels.test` reaches the emulator only through the proxy: a client that
 * tries to connect directly fails with a DNS error.
 */
import { createServer, type IncomingMessage, request as httpRequest } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";

export interface ProxyRequest {
  /** "CONNECT" for tunnels, else the forwarded method. */
  method: string;
  /** host:port of the target. */
  target: string;
  /** The path, for forwarded (plain http) requests. */
  path?: string;
  /** The answer the proxy gave (200 for a tunnel it opened). */
  status: number;
  /** The Proxy-Authorization header was present and right. */
  authorized: boolean;
}

export interface TestProxyOptions {
  /** Host names the proxy resolves itself, e.g. { "gigareels.test": "127.0.0.1" }. */
  hosts?: Record<string, string>;
  /** Require `Proxy-Authorization: Basic base64(user:password)`; else answer 407. */
  auth?: { user: string; password: string };
  /** Refuse every request with 403 (a proxy whose policy forbids the target). */
  refuse?: boolean;
}

export interface TestProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Everything the proxy was asked, in order. */
  requests: ProxyRequest[];
  /** Requests it carried (tunnels opened, requests forwarded). */
  carried(): ProxyRequest[];
  stop(): Promise<void>;
}

function splitHostPort(target: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(target);
  return { host: m?.[1] ?? target, port: m?.[2] ? Number(m[2]) : defaultPort };
}

export async function startProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const requests: ProxyRequest[] = [];
  const sockets = new Set<Socket>();
  const hosts = options.hosts ?? {};
  const resolve = (host: string) => hosts[host.toLowerCase()] ?? host;
  const expectedAuth = options.auth
    ? `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString("base64")}`
    : undefined;

  /** null when the request may go on; else the status and head to refuse it with. */
  const gate = (req: IncomingMessage): { status: number; head: string } | null => {
    if (expectedAuth && req.headers["proxy-authorization"] !== expectedAuth) {
      return {
        status: 407,
        head: 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      };
    }
    if (options.refuse) {
      return {
        status: 403,
        head: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
      };
    }
    return null;
  };

  const server = createServer((req, res) => {
    // Absolute-form request: GET http://host:port/path
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end();
      return;
    }
    const entry: ProxyRequest = {
      method: req.method ?? "GET",
      target: target.host,
      path: target.pathname,
      status: 0,
      authorized: expectedAuth === undefined || req.headers["proxy-authorization"] === expectedAuth,
    };
    requests.push(entry);
    const refused = gate(req);
    if (refused) {
      entry.status = refused.status;
      req.socket.end(refused.head);
      return;
    }
    const headers = { ...req.headers };
    delete headers["proxy-authorization"];
    delete headers["proxy-connection"];
    const upstream = httpRequest(
      {
        host: resolve(target.hostname),
        port: Number(target.port || 80),
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (up) => {
        entry.status = up.statusCode ?? 0;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      entry.status = 502;
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("bad gateway\n");
    });
    req.pipe(upstream);
  });

  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? "";
    const entry: ProxyRequest = {
      method: "CONNECT",
      target,
      status: 0,
      authorized: expectedAuth === undefined || req.headers["proxy-authorization"] === expectedAuth,
    };
    requests.push(entry);
    client.on("error", () => {});
    const refused = gate(req);
    if (refused) {
      entry.status = refused.status;
      client.end(refused.head);
      return;
    }
    const { host, port } = splitHostPort(target, 443);
    const upstream = connect(port, resolve(host));
    upstream.on("error", () => {
      if (entry.status === 0) {
        entry.status = 502;
        client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      } else client.destroy();
    });
    upstream.on("connect", () => {
      entry.status = 200;
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    carried: () => requests.filter((r) => r.status > 0 && r.status < 400),
    stop: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then released): a proxy that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}
