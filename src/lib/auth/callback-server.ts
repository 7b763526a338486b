/**
 * The loopback callback server of the browser flow (RFC 8252): bound to 127.0.0.1 only, on an
 * ephemeral port unless one is asked for, accepting exactly one GET on the exact path
 * `/callback`. Only a callback that carries this login's `state` ends the wait: everything
 * else gets an error page and the wait goes on until the caller's timeout, so that a forged
 * request (any local process, or a web page that found the port) cannot end a login:
 * other paths answer 404, other methods 405, requests that are not for `127.0.0.1:<port>`
 * (DNS rebinding) 400, a wrong or missing `state` 400, a callback after the accepted one 409.
 * The accepted callback is held open until `respond()` so that the browser page tells the real
 * outcome of the code exchange.
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { LoginDeniedError, LoginFailedError, PortInUseError } from "./errors.js";
import { type ResultPage, renderResultPage } from "./html.js";
import { CALLBACK_PATH, loopbackRedirectUri } from "./pkce.js";

export const LOOPBACK_HOST = "127.0.0.1";

export interface CallbackServerOptions {
  /** The state sent in the authorize URL. */
  state: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Told about every refused request (the wait goes on). */
  onRefused?: (event: CallbackEvent) => void;
}

export type CallbackEvent =
  | { kind: "not-found"; path: string }
  | { kind: "bad-host"; host: string }
  | { kind: "method-not-allowed"; method: string }
  | { kind: "state-mismatch" }
  | { kind: "duplicate-callback" };

export interface CallbackServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>/callback` */
  readonly redirectUri: string;
  /**
   * Resolves with the authorization code of the one accepted callback (the first with this
   * login's state). Rejects with LoginDeniedError or LoginFailedError when that callback
   * carries an OAuth error or no code (the browser has then been answered already), or with
   * `signal.reason` when the signal fires (the caller's timeout or Ctrl-C).
   */
  waitForCode(signal?: AbortSignal): Promise<string>;
  /** Answers the held callback request with the final page (after the exchange). */
  respond(page: ResultPage): void;
  /** Closes the listener and every connection. Idempotent. */
  close(): Promise<void>;
  /** Requests that were refused without ending the wait, for diagnostics and tests. */
  readonly refused: CallbackEvent[];
}

const SECURITY_HEADERS = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  connection: "close",
};

const INTERRUPTED_PAGE: ResultPage = {
  ok: false,
  title: "Login did not finish",
  message: "The command stopped before the login finished. Run gigareels login again.",
};

export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const expectedState = Buffer.from(options.state, "utf8");
  const sockets = new Set<Socket>();
  const refused: CallbackEvent[] = [];
  const refuse = (event: CallbackEvent) => {
    refused.push(event);
    options.onRefused?.(event);
  };
  let accepted = false;
  let held: ServerResponse | undefined;
  let closed = false;
  let port = options.port ?? 0;

  let settle!: { resolve: (code: string) => void; reject: (err: unknown) => void };
  const outcome = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  outcome.catch(() => {});

  const send = (
    res: ServerResponse,
    status: number,
    page: ResultPage,
    extra: Record<string, string> = {},
  ) => {
    if (res.writableEnded) return;
    res.writeHead(status, { "content-type": "text/html; charset=utf-8", ...SECURITY_HEADERS, ...extra });
    res.end(renderResultPage(page));
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host ?? "";
    if (host !== `${LOOPBACK_HOST}:${port}`) {
      refuse({ kind: "bad-host", host: clip(host) });
      send(res, 400, { ok: false, title: "Bad request", message: "This address only serves the login." });
      return;
    }
    const url = new URL(req.url ?? "/", `http://${LOOPBACK_HOST}:${port}`);
    if (url.pathname !== CALLBACK_PATH) {
      refuse({ kind: "not-found", path: clip(url.pathname) });
      send(res, 404, { ok: false, title: "Not found", message: "This address only serves the login." });
      return;
    }
    if (req.method !== "GET") {
      refuse({ kind: "method-not-allowed", method: clip(req.method ?? "") });
      send(res, 405, { ok: false, title: "Method not allowed", message: "Use GET." }, { allow: "GET" });
      return;
    }
    if (accepted) {
      refuse({ kind: "duplicate-callback" });
      send(res, 409, {
        ok: false,
        title: "Already used",
        message: "This login already received its callback; this one was refused.",
      });
      return;
    }
    const params = url.searchParams;
    const state = Buffer.from(params.get("state") ?? "", "utf8");
    if (state.length !== expectedState.length || !timingSafeEqual(state, expectedState)) {
      // Not this login's browser: refused, and the real callback is still awaited.
      refuse({ kind: "state-mismatch" });
      send(res, 400, {
        ok: false,
        title: "Login refused",
        message:
          "This callback does not belong to the login that is waiting, so it was refused. Approve only the page that the gigareels command opened.",
      });
      return;
    }
    accepted = true;
    const error = params.get("error");
    if (error) {
      const description = params.get("error_description");
      if (error === "access_denied") {
        send(res, 200, {
          ok: false,
          title: "Login denied",
          message: "You denied access. Nothing was stored.",
        });
        settle.reject(new LoginDeniedError());
      } else {
        const why = clip(description ? `${error}: ${description}` : error);
        send(res, 200, { ok: false, title: "Login failed", message: `The server said: ${why}` });
        settle.reject(
          new LoginFailedError(`The login failed: the server said ${why}`, {
            suggestions: ["Run gigareels login again"],
          }),
        );
      }
      return;
    }
    const code = params.get("code");
    if (!code) {
      send(res, 400, { ok: false, title: "Login failed", message: "The callback carried no code." });
      settle.reject(
        new LoginFailedError("The browser callback carried no authorization code", {
          suggestions: ["Run gigareels login again"],
        }),
      );
      return;
    }
    held = res;
    res.on("close", () => {
      if (held === res) held = undefined;
    });
    settle.resolve(code);
  };

  const server = createServer(handle);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE") reject(new PortInUseError(port, err));
      else if (err.code === "EACCES") reject(new PortInUseError(port, err, "permission denied"));
      else reject(err);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ host: LOOPBACK_HOST, port, exclusive: true });
  });
  port = (server.address() as AddressInfo).port;

  const close = async () => {
    if (closed) return;
    closed = true;
    if (held) send(held, 200, INTERRUPTED_PAGE);
    held = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Let answered responses flush, then drop whatever is left (keep-alive, stalled clients).
      setImmediate(() => {
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    });
  };

  return {
    port,
    redirectUri: loopbackRedirectUri(port),
    refused,
    respond(page) {
      if (held) send(held, 200, page);
      held = undefined;
    },
    close,
    waitForCode(signal) {
      if (!signal) return outcome;
      if (signal.aborted) return Promise.reject(signal.reason);
      return new Promise<string>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        outcome.then(
          (code) => {
            signal.removeEventListener("abort", onAbort);
            resolve(code);
          },
          (err) => {
            signal.removeEventListener("abort", onAbort);
            reject(err);
          },
        );
      });
    },
  };
}

/** Printable, bounded text from a request (it goes into pages and terminal messages). */
function clip(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
