/**
 * waitForRender against the emulator over real HTTP: faults on the status route (429 bursts,
 * 5xx, resets, HTML and malformed answers), render failures, abort and deadline.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GigaReels } from "../../src/lib/sdk/client.js";
import {
  AbortedError,
  DeadlineExceededError,
  NotFoundError,
  RenderFailedError,
} from "../../src/lib/sdk/errors.js";
import {
  OutageError,
  type WaitEvent,
  type WaitForRenderOptions,
  waitForRender,
} from "../../src/lib/sdk/wait.js";
import { SAMPLE_BODIES, useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator({ renderDurationMs: 1200 });
let configDir: string;

beforeEach(async () => {
  configDir = await mkdtemp(join(tmpdir(), "gr-wait-"));
});
afterEach(async () => {
  emulator().clearFaults();
  await rm(configDir, { recursive: true, force: true });
});

/** The loop with a client whose transport never retries (the scheduler decides). */
function waiter(options: { random?: () => number; key?: string } = {}) {
  const emu = emulator();
  const key = options.key ?? emu.keys[0]!;
  const client = new GigaReels({ apiKey: key, baseUrl: emu.url, maxRetries: 0, timeoutMs: 5_000 });
  const wait = (id: string, o: WaitForRenderOptions = {}) =>
    waitForRender(
      {
        getStatus: (rid, { signal }) => client.getRenderStatus(rid, { signal }),
        rateLimit: () => client.rateLimitFor("status"),
        apiKey: async () => key,
        budgetDir: configDir,
        random: options.random ?? (() => 0.2),
      },
      id,
      o,
    );
  return { client, wait, emu };
}

async function submit(client: GigaReels): Promise<string> {
  return (await client.render({ ...SAMPLE_BODIES["/api/render"] })).renderId;
}

function statusRequests(id: string) {
  return emulator().requests.filter((r) => r.path === `/api/render/status/${id}`);
}

describe("waitForRender against the emulator", () => {
  it("follows a render to done and leaves the shared budget file clean", async () => {
    const { client, wait } = waiter();
    const submittedAt = Date.now();
    const id = await submit(client);
    const events: WaitEvent[] = [];
    const final = await wait(id, { submittedAt, onUpdate: (e) => events.push(e) });
    expect(final.status).toBe("done");
    expect(final.outputFile).toMatch(new RegExp(`/files/${id}\\.mp4$`));
    expect(events.at(-1)).toMatchObject({ type: "done", renderId: id });
    expect(events.some((e) => e.type === "status")).toBe(true);
    const files = await readdir(join(configDir, "state"));
    const state = files.find((f) => /^ratelimit-[0-9a-f]{16}\.json$/.test(f));
    expect(state).toBeDefined();
    const body = JSON.parse(await readFile(join(configDir, "state", state!), "utf8"));
    expect(body.watchers).toEqual({});
    expect(body.groups.status.rateLimit.limit).toBe(60);
    expect(body.groups.status.usage.recent.length).toBe(statusRequests(id).length);
    expect(JSON.stringify(body)).not.toContain(emulator().keys[0]!);
  });

  it("waits out a 429 burst instead of hammering", async () => {
    const { client, wait } = waiter();
    const id = await submit(client);
    emulator().addFault({
      route: `/api/render/status/${id}`,
      times: 3,
      fault: { kind: "rate-limit", retryAfterSeconds: 1 },
    });
    const events: WaitEvent[] = [];
    await expect(wait(id, { onUpdate: (e) => events.push(e) })).resolves.toMatchObject({ status: "done" });
    const log = statusRequests(id);
    const limited = log.filter((r) => r.status === 429);
    expect(limited).toHaveLength(3);
    // after each 429 the next request came no sooner than the Retry-After of 1 s
    for (let i = 0; i < log.length - 1; i++) {
      if (log[i]!.status === 429) expect(log[i + 1]!.time - log[i]!.time).toBeGreaterThanOrEqual(990);
    }
    expect(events.filter((e) => e.type === "throttled")).toHaveLength(3);
    expect(events.filter((e) => e.type === "throttled").every((e) => (e.waitMs ?? 0) >= 1000)).toBe(true);
  });

  it("survives an outage shorter than maxOutage: 5xx, resets, HTML and malformed answers", async () => {
    const { client, wait } = waiter({ random: () => 0 });
    const id = await submit(client);
    const route = `/api/render/status/${id}`;
    const emu = emulator();
    emu.addFault({ route, times: 1, fault: { kind: "status", status: 500 } });
    emu.addFault({ route, times: 1, fault: { kind: "reset-before" } });
    emu.addFault({ route, times: 1, fault: { kind: "html" } });
    emu.addFault({ route, times: 1, fault: { kind: "malformed-json" } });
    const events: WaitEvent[] = [];
    await expect(wait(id, { maxOutageMs: 60_000, onUpdate: (e) => events.push(e) })).resolves.toMatchObject({
      status: "done",
    });
    const retries = events.filter((e) => e.type === "retry");
    expect(retries.map((e) => e.reason)).toEqual([
      "server_error",
      "connection_error",
      "server_error",
      "malformed_response",
    ]);
    expect(retries.map((e) => e.attempt)).toEqual([1, 2, 3, 4]);
    expect(retries[2]!.message).toContain("text/html");
  });

  it("ends with an outage error (exit 5) when the trouble outlasts maxOutage", async () => {
    const { client, wait } = waiter({ random: () => 0 });
    const id = await submit(client);
    emulator().addFault({ route: `/api/render/status/${id}`, fault: { kind: "status", status: 503 } });
    const err = await wait(id, { maxOutageMs: 2_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(OutageError);
    expect(err.code).toBe("outage");
    expect(err.message).toContain("503");
    expect(statusRequests(id).length).toBeLessThan(8);
  });

  it("rejects with the server's message when the render fails", async () => {
    const { client, wait } = waiter();
    emulator().setNextRenderOutcome("error", { error: "Character pack not found: bogus" });
    const id = await submit(client);
    const err = await wait(id).catch((e) => e);
    expect(err).toBeInstanceOf(RenderFailedError);
    expect(err.code).toBe("render_failed");
    expect(err.renderId).toBe(id);
    expect(err.message).toContain("Character pack not found: bogus");
  });

  it("an unknown render id fails at once with 404, not retried", async () => {
    const { wait } = waiter();
    await expect(wait("rnd_doesnotexist")).rejects.toBeInstanceOf(NotFoundError);
    expect(statusRequests("rnd_doesnotexist")).toHaveLength(1);
  });

  it("abort stops the sleep at once and sends nothing more", async () => {
    const { client, wait } = waiter();
    emulator().setNextRenderOutcome("never");
    const id = await submit(client);
    const ctl = new AbortController();
    const p = wait(id, {
      signal: ctl.signal,
      onUpdate: (e) => {
        if (e.type === "status") setTimeout(() => ctl.abort(), 50);
      },
    });
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(err.suggestions.join(" ")).toContain(`gigareels watch ${id}`);
    const sent = statusRequests(id).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(statusRequests(id).length).toBe(sent);
  });

  it("abort cancels an in-flight request that hangs", async () => {
    const { client, wait } = waiter();
    const id = await submit(client);
    emulator().addFault({ route: `/api/render/status/${id}`, fault: { kind: "hang" } });
    const ctl = new AbortController();
    const p = wait(id, { signal: ctl.signal });
    // abort once the hung request has reached the server
    for (let i = 0; i < 100 && statusRequests(id).length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(statusRequests(id)).toHaveLength(1);
    ctl.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
  });

  it("gives up at timeoutMs, even during a hung request", async () => {
    const { client, wait } = waiter();
    emulator().setNextRenderOutcome("never");
    const id = await submit(client);
    const err = await wait(id, { timeoutMs: 2_500 }).catch((e) => e);
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(err.code).toBe("deadline_exceeded");
    const id2 = await submit(client);
    emulator().addFault({ route: `/api/render/status/${id2}`, fault: { kind: "hang" } });
    await expect(wait(id2, { timeoutMs: 1_500 })).rejects.toBeInstanceOf(DeadlineExceededError);
  });

  it("client.waitForRender: the transport does not retry inside the loop; the budget file lives in the config folder", async () => {
    const emu = emulator();
    const client = new GigaReels({
      apiKey: emu.keys[0]!,
      baseUrl: emu.url,
      maxRetries: 3,
      env: { GIGAREELS_CONFIG_DIR: configDir },
    });
    const id = await submit(client);
    emu.addFault({ route: `/api/render/status/${id}`, times: 1, fault: { kind: "status", status: 503 } });
    const events: WaitEvent[] = [];
    const final = await client.waitForRender(id, { onUpdate: (e) => events.push(e) });
    expect(final.status).toBe("done");
    // the 503 reached the loop as a retry event (a transport retry would have hidden it)
    expect(events.filter((e) => e.type === "retry").map((e) => e.reason)).toEqual(["server_error"]);
    expect((await readdir(join(configDir, "state"))).some((f) => f.startsWith("ratelimit-"))).toBe(true);
  });

  it("three watchers of one key register in the shared file and all finish", async () => {
    // a fresh key: the render group allows only 10 submissions a minute per key
    const { client, wait } = waiter({ key: emulator().createKey() });
    const ids = [await submit(client), await submit(client), await submit(client)];
    const seen: number[] = [];
    const statePath = async () => {
      const f = (await readdir(join(configDir, "state")).catch(() => [])).find((x) => x.endsWith(".json"));
      return f ? join(configDir, "state", f) : undefined;
    };
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const p = await statePath();
        if (p) {
          try {
            seen.push(Object.keys(JSON.parse(await readFile(p, "utf8")).watchers).length);
          } catch {}
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const results = await Promise.all(ids.map((id) => wait(id)));
    probing = false;
    await probe;
    expect(results.map((r) => r.status)).toEqual(["done", "done", "done"]);
    expect(Math.max(...seen)).toBe(3);
  });
});
