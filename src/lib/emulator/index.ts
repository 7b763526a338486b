/**
 * The local GigaReels API emulator: `startEmulator({port: 0})` for tests, `gigareels emulator`
 * for people. Pure Node (node:http / node:https), state in memory.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { IdempotencyStore } from "./idempotency.js";
import { KeyStore } from "./keys.js";
import { OAuthServer } from "./oauth.js";
import { RateLimiter } from "./rate-limit.js";
import { RenderStore } from "./renders.js";
import { createHandler, type ServerContext } from "./server.js";
import { FaultList } from "./faults.js";
import type { EmulatorHandle, EmulatorOptions, RequestLogEntry } from "./types.js";

export type * from "./types.js";
export { emulatorConfigDir, emulatorKeysFile, writeKeysFile } from "./keys-file.js";
export { ERRORS } from "./server.js";
export { LIMITS, PUBLISHED_LIMITS } from "./rate-limit.js";

export const DEFAULT_PORT = 3000;
export const DEFAULT_OUTPUT_SIZE = 64 * 1024;

/** Thrown when the emulator cannot listen (e.g. the port is taken). */
export class EmulatorStartError extends Error {
  readonly code: string;
  readonly suggestions: string[];
  constructor(message: string, code: string, suggestions: string[] = []) {
    super(message);
    this.name = "EmulatorStartError";
    this.code = code;
    this.suggestions = suggestions;
  }
}

function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? DEFAULT_PORT;
  const keys = new KeyStore(options.plan ?? "pro");
  const initialKeys = options.keys && options.keys.length > 0 ? options.keys : [keys.create().key];
  for (const [i, k] of initialKeys.entries()) {
    if (!keys.get(k)) keys.add(k, { keyName: `Emulator key ${i + 1}` });
  }

  let baseUrl = "";
  const log: RequestLogEntry[] = [];
  const ctx: ServerContext = {
    keys,
    renders: new RenderStore(options.renderDurationMs ?? 6000),
    limiter: new RateLimiter(options.rateLimitMinuteMs ?? 60_000, options.rateLimits ?? true),
    idempotency: new IdempotencyStore(),
    oauth: new OAuthServer({
      keys,
      baseUrl: () => baseUrl,
      autoApprove: options.autoApprove ?? false,
      codeTtlMs: (options.codeTtlSeconds ?? 600) * 1000,
      deviceIntervalSeconds: options.deviceIntervalSeconds ?? 5,
    }),
    faults: new FaultList(),
    log,
    baseUrl: () => baseUrl,
    outputSizeBytes: options.outputSizeBytes ?? DEFAULT_OUTPUT_SIZE,
    verbose: options.verbose ?? false,
    hung: new Set(),
    timers: new Set(),
  };

  const handler = createHandler(ctx);
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : createHttpServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE") {
        reject(
          new EmulatorStartError(`Port ${port} on ${host} is already in use.`, "port_in_use", [
            "Stop the other server or pick another port with --port.",
          ]),
        );
      } else if (err.code === "EACCES") {
        reject(
          new EmulatorStartError(`Not allowed to listen on ${host}:${port}.`, "port_in_use", [
            "Pick a port above 1023 with --port.",
          ]),
        );
      } else {
        reject(err);
      }
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });

  const actualPort = (server.address() as AddressInfo).port;
  baseUrl = `${options.tls ? "https" : "http"}://${urlHost(host)}:${actualPort}`;

  let stopped: Promise<void> | undefined;
  const handle: EmulatorHandle = {
    url: baseUrl,
    port: actualPort,
    keys: [...initialKeys],
    requests: log,
    addFault: (rule) => ctx.faults.add(rule),
    clearFaults: () => ctx.faults.clear(),
    createKey: (o = {}) => keys.create(o).key,
    revokeKey: (key) => {
      keys.revoke(key);
    },
    keyInfo: (key) => {
      const info = keys.get(key);
      return info ? { ...info, account: { ...info.account } } : undefined;
    },
    setNextRenderOutcome: (outcome, o) => ctx.renders.setNextOutcome(outcome, o),
    renders: () => ctx.renders.all(),
    approveDevice: (userCode, approve = true) => {
      const result = ctx.oauth.decideDevice(userCode, approve);
      if (result !== "ok") throw new Error(`approveDevice: the user code is ${result}`);
    },
    setRenderDurationMs: (ms) => ctx.renders.setDurationMs(ms),
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        for (const t of ctx.timers) clearTimeout(t);
        ctx.timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      return stopped;
    },
  };
  return handle;
}
