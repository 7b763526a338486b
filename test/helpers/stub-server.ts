/**
 * A server on 127.0.0.1 that gives every request the same answer: a web server's 404 page, a
 * captive portal, a proxy's error page. For tests of a base URL that is not the API.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface StubServer {
  url: string;
  stop: () => Promise<void>;
}

export async function stubServer(
  status: number,
  body: string,
  contentType = "text/html",
): Promise<StubServer> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { "content-type": contentType });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
