import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type CallbackServer, startCallbackServer } from "../../src/lib/auth/callback-server.js";
import { LoginDeniedError, LoginFailedError, PortInUseError } from "../../src/lib/auth/errors.js";
import { escapeHtml } from "../../src/lib/auth/html.js";
import { AbortedError } from "../../src/lib/sdk/errors.js";

const STATE = "s".repeat(43);
let server: CallbackServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(port = 0) {
  server = await startCallbackServer({ state: STATE, port });
  return server;
}

function cb(s: CallbackServer, query: Record<string, string>, path = "/callback") {
  return fetch(`http://127.0.0.1:${s.port}${path}?${new URLSearchParams(query)}`);
}

describe("callback server", () => {
  it("listens on 127.0.0.1 on an ephemeral port with the /callback redirect URI", async () => {
    const s = await start();
    expect(s.port).toBeGreaterThan(0);
    expect(s.redirectUri).toBe(`http://127.0.0.1:${s.port}/callback`);
  });

  it("hands over the code and holds the browser until respond(), then shows the escaped page", async () => {
    const s = await start();
    const answer = cb(s, { code: "the-code", state: STATE });
    await expect(s.waitForCode()).resolves.toBe("the-code");
    s.respond({ ok: true, title: "Logged in", message: "as <b>a@b.c</b>" });
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain("as &lt;b&gt;a@b.c&lt;/b&gt;");
    expect(html).not.toContain("<b>a@b.c");
  });

  it("answers 404 on other paths and keeps waiting", async () => {
    const s = await start();
    expect((await fetch(`http://127.0.0.1:${s.port}/`)).status).toBe(404);
    expect((await cb(s, { code: "c", state: STATE }, "/callback/")).status).toBe(404);
    expect((await cb(s, { code: "c", state: STATE }, "/favicon.ico")).status).toBe(404);
    expect(s.refused.map((e) => e.kind)).toEqual(["not-found", "not-found", "not-found"]);
    const answer = cb(s, { code: "c2", state: STATE });
    await expect(s.waitForCode()).resolves.toBe("c2");
    s.respond({ ok: true, title: "ok", message: "ok" });
    expect((await answer).status).toBe(200);
  });

  it("refuses other methods without consuming the callback", async () => {
    const s = await start();
    const res = await fetch(`http://127.0.0.1:${s.port}/callback?code=c&state=${STATE}`, { method: "POST" });
    expect(res.status).toBe(405);
    const answer = cb(s, { code: "c", state: STATE });
    await expect(s.waitForCode()).resolves.toBe("c");
    s.respond({ ok: true, title: "ok", message: "ok" });
    await answer;
  });

  it("refuses a wrong or missing state with an error page and keeps waiting for the real callback", async () => {
    const seen: string[] = [];
    server = await startCallbackServer({ state: STATE, onRefused: (e) => seen.push(e.kind) });
    const s = server;
    let settled = false;
    const waiting = s.waitForCode().finally(() => {
      settled = true;
    });
    const wrong = await cb(s, { code: "forged", state: "x".repeat(43) });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain("Login refused");
    const missing = await cb(s, { code: "forged" });
    expect(missing.status).toBe(400);
    const denied = await cb(s, { error: "access_denied", state: "y".repeat(43) });
    expect(denied.status).toBe(400);
    expect(await cb(s, { code: "forged", state: STATE }, "/other")).toHaveProperty("status", 404);
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    expect(seen).toEqual(["state-mismatch", "state-mismatch", "state-mismatch", "not-found"]);
    const real = cb(s, { code: "the-real-code", state: STATE });
    await expect(waiting).resolves.toBe("the-real-code");
    s.respond({ ok: true, title: "ok", message: "ok" });
    expect((await real).status).toBe(200);
  });

  it("a forged callback alone ends nothing: the wait ends only with the caller's signal", async () => {
    const s = await start();
    expect((await cb(s, { code: "c", state: "x".repeat(43) })).status).toBe(400);
    const timeout = AbortSignal.timeout(200);
    const err = await s.waitForCode(timeout).catch((e: unknown) => e);
    expect(timeout.aborted).toBe(true);
    expect((err as Error).name).toBe("TimeoutError");
  });

  it("refuses a second callback while the first is being exchanged", async () => {
    const s = await start();
    const first = cb(s, { code: "c1", state: STATE });
    await expect(s.waitForCode()).resolves.toBe("c1");
    const second = await cb(s, { code: "c2", state: STATE });
    expect(second.status).toBe(409);
    expect(s.refused).toContainEqual({ kind: "duplicate-callback" });
    s.respond({ ok: true, title: "ok", message: "ok" });
    expect((await first).status).toBe(200);
  });

  it("turns error=access_denied into a denial", async () => {
    const s = await start();
    const res = await cb(s, { error: "access_denied", state: STATE });
    expect(await res.text()).toContain("Login denied");
    await expect(s.waitForCode()).rejects.toBeInstanceOf(LoginDeniedError);
  });

  it("reports other OAuth errors with their description, escaped in the page", async () => {
    const s = await start();
    const res = await cb(s, { error: "server_error", error_description: "<script>x</script>", state: STATE });
    const html = await res.text();
    expect(html).toContain(escapeHtml("<script>x</script>"));
    expect(html).not.toContain("<script>x");
    const err = await s.waitForCode().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LoginFailedError);
    expect((err as Error).message).toContain("server_error");
  });

  it("refuses requests whose Host is not 127.0.0.1:<port> (DNS rebinding)", async () => {
    const s = await start();
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: s.port,
          path: `/callback?code=c&state=${STATE}`,
          headers: { host: "evil.test" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(400);
    expect(s.refused).toContainEqual({ kind: "bad-host", host: "evil.test" });
    const answer = cb(s, { code: "c", state: STATE });
    await expect(s.waitForCode()).resolves.toBe("c");
    s.respond({ ok: true, title: "ok", message: "ok" });
    await answer;
  });

  it("rejects with the signal's reason when aborted, and close() answers the held browser", async () => {
    const s = await start();
    const ac = new AbortController();
    const waiting = s.waitForCode(ac.signal);
    ac.abort(new AbortedError("Interrupted"));
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);

    const s2 = await startCallbackServer({ state: STATE });
    const answer = cb(s2, { code: "c", state: STATE });
    await s2.waitForCode();
    await s2.close();
    const res = await answer;
    expect(await res.text()).toContain("did not finish");
  });

  it("stops listening after close()", async () => {
    const s = await start();
    await s.close();
    await expect(fetch(`http://127.0.0.1:${s.port}/callback`)).rejects.toThrow();
  });

  it("says clearly when --port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startCallbackServer({ state: STATE, port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortInUseError);
      expect((err as PortInUseError).code).toBe("port_in_use");
      expect((err as Error).message).toBe(
        `Port ${port} is in use, so the login callback cannot listen on it`,
      );
    } finally {
      blocker.close();
    }
  });

  it("uses the port asked for", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const s = await start(port);
    expect(s.port).toBe(port);
  });
});
