/**
 * The requests that go through a proxy: undici's fetch with its EnvHttpProxyAgent as the
 * dispatcher (the SDK transport, and downloads through ky). undici is
 * loaded here only, and only when ./proxy.ts says a request needs a proxy: a process with no
 * proxy variable, or talking to loopback, never loads it.
 *
 * The agent gets the proxy values and NO_PROXY explicitly (from the environment the SDK was
 * given, which may not be process.env); TLS to the server goes through the tunnel with
 * Node's default CAs (the bundled store plus NODE_EXTRA_CA_CERTS), verification always on.
 */
import type { Dispatcher } from "undici";
import { explainProxyFailure, type ProxyChoice, proxyFor, proxySettings, proxyUnreachable } from "./proxy.js";
import { type Env, processEnv } from "../sdk/env.js";
import { socketFetch } from "./socket-fetch.js";

/** The `fetch` signature of the SDK transport. */
export type FetchFn = (input: Request, init?: RequestInit) => Promise<Response>;

const agents = new Map<string, Dispatcher>();

/** The EnvHttpProxyAgent for these settings (one per distinct setting, kept for the process). */
export async function proxyDispatcher(env: Env = processEnv()): Promise<Dispatcher> {
  const s = proxySettings(env);
  const opts = {
    httpProxy: s.httpProxy?.value,
    httpsProxy: s.httpsProxy?.value,
    noProxy: s.noProxy?.value ?? "",
  };
  const id = JSON.stringify(opts);
  const cached = agents.get(id);
  if (cached) return cached;
  const { EnvHttpProxyAgent } = await import("undici");
  // undici 6 flags the agent experimental with a process warning on first use; the flag
  // is undici's, not a problem of this process, so it is not shown to users.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = (rest[0] as { code?: string } | undefined)?.code;
    if (code === "UNDICI-EHPA") return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  let agent: Dispatcher;
  try {
    agent = new EnvHttpProxyAgent(opts);
  } finally {
    process.emitWarning = emit;
  }
  agents.set(id, agent);
  return agent;
}

function rethrow(err: unknown, proxy: ProxyChoice, url: URL): never {
  throw explainProxyFailure(err, proxy, url) ?? err;
}

/**
 * The SDK's fetch on Node: each request goes through the proxy its URL needs, or directly
 * through socket-fetch (./socket-fetch.ts; what it does not take goes to the global fetch).
 * The environment is read on every request. A proxied request goes through undici's
 * own fetch with the agent as dispatcher: an agent from the undici package handed to Node's
 * built-in fetch works only while both are the same major version (Node 24 ships undici 7).
 */
export function proxyAwareFetch(env: Env = processEnv()): FetchFn {
  const direct = socketFetch((input, init) => globalThis.fetch(input, init));
  return async (input, init) => {
    const url = new URL(input.url);
    const proxy = proxyFor(url, env);
    if (!proxy) return direct(input, init);
    let dispatcher: Dispatcher;
    try {
      dispatcher = await proxyDispatcher(env);
    } catch (err) {
      throw proxyUnreachable(proxy, `the proxy URL is not usable (${(err as Error).message})`, err);
    }
    const { fetch } = await import("undici");
    // Request bodies are small JSON or form text: read whole, so no stream crosses the two
    // fetches (answers stream: a download's body is read as it arrives).
    const body = input.body ? new Uint8Array(await input.arrayBuffer()) : undefined;
    try {
      const res = await fetch(input.url, {
        method: input.method,
        headers: [...input.headers],
        body,
        redirect: input.redirect,
        signal: input.signal,
        dispatcher,
      });
      return res as unknown as Response;
    } catch (err) {
      rethrow(err, proxy, url);
    }
  };
}
