/**
 * A hostile API on 127.0.0.1 (issue 16): every answer echoes the caller's key (and a second,
 * foreign key) in its fields and headers, and carries terminal escape sequences in the text
 * a person is shown (status words, error messages, account fields). It speaks just enough of
 * the API for every command to get to its output: /api/me, renders and their status, the
 * OAuth device and revoke endpoints; any other path echoes too.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Escape sequences a server could use against a terminal: clear screen, a window title, a CR overwrite, C1 CSI. */
export const NASTY = "\u001b[2J\u001b]0;pwned\u0007\rfake\u009b31m";

export interface HostileServer {
  url: string;
  /** The foreign key the server adds to every answer. */
  foreignKey: string;
  stop: () => Promise<void>;
}

export interface HostileOptions {
  /** Status of /api/render/status/*: "error" (default: ends the follow) or a word. */
  renderStatus?: string;
  /** Put NASTY into the texts people are shown (default true). */
  escapes?: boolean;
}

export async function hostileServer(options: HostileOptions = {}): Promise<HostileServer> {
  const foreignKey = `giga_${"F".repeat(28)}f0r3`;
  const nasty = options.escapes === false ? "" : NASTY;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const auth = req.headers.authorization ?? "";
      const form = new URLSearchParams(body);
      // The key the client sent: in Authorization, or in a revoke/token form.
      const key = auth.replace(/^Bearer\s+/i, "") || form.get("token") || foreignKey;
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-echo-key": key,
        "x-foreign-key": foreignKey,
        "x-ratelimit-limit": "60",
        "x-ratelimit-remaining": "59",
        "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 60),
        "set-cookie": `session=${key}`,
      };
      const send = (status: number, json: unknown) => {
        res.writeHead(status, headers);
        res.end(JSON.stringify(json));
      };
      const me = {
        id: `acct_${key}`,
        email: `${key}@example.com`,
        name: `Eve ${key}${nasty}`,
        plan: `pro ${foreignKey}${nasty}`,
        key: { id: key, name: `cli ${key}${nasty}`, createdAt: new Date().toISOString() },
        echo: { authorization: auth, body },
      };
      if (path === "/api/me") return send(200, me);
      if (path === "/api/render" || path === "/api/render/text" || path === "/api/render/split") {
        return send(200, { success: true, renderId: "rnd_hostile", echo: key, foreign: foreignKey });
      }
      if (path.startsWith("/api/render/status/")) {
        const status = options.renderStatus ?? "error";
        return send(200, {
          status: status === "error" ? "error" : `${status}${nasty}`,
          progress: 50,
          error: `render failed for ${key} and ${foreignKey}${nasty}`,
          echo: key,
        });
      }
      if (path === "/api/oauth/device/code") {
        return send(400, { error: "invalid_client", error_description: `no ${key} ${foreignKey}${nasty}` });
      }
      if (path === "/api/oauth/revoke") {
        return send(500, { error: "server_error", error_description: `cannot revoke ${key}${nasty}` });
      }
      if (path === "/api/oauth/token") {
        return send(400, { error: "invalid_grant", error_description: `${key}${nasty}` });
      }
      return send(200, { echo: key, foreign: foreignKey, text: `hello${nasty}` });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    foreignKey,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
