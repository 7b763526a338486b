/** Per-key rate limits with a shrunken minute: headers, 429 bodies, Retry-After, windows. */
import { describe, expect, it } from "vitest";
import { api, SAMPLE_BODIES, startEmulator, useEmulator } from "../helpers/emulator.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const render = SAMPLE_BODIES["/api/render"];

describe("emulator: rate limits", () => {
  const emu = useEmulator({ rateLimitMinuteMs: 1500 });

  it("counts render creation down from 10, then answers 429 with Retry-After, then resets", async () => {
    const key = emu().createKey();
    const remaining: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await api(emu(), "/api/render", { key, json: render });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBe("10");
      remaining.push(res.headers.get("x-ratelimit-remaining")!);
      const reset = Number(res.headers.get("x-ratelimit-reset"));
      expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
      expect(reset).toBeLessThanOrEqual(Math.ceil((Date.now() + 1500) / 1000));
    }
    expect(remaining).toEqual(["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
    const refused = await api(emu(), "/api/render", { key, json: render });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    // The wait is the real (scaled) one: at most the 1.5 s window, rounded up, at least 1.
    expect([1, 2]).toContain(retryAfter);
    expect(await refused.json()).toEqual({
      error: `Rate limit exceeded. Try again in ${retryAfter} seconds.`,
    });
    expect(refused.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(emu().renders().length).toBe(10);
    await sleep(1600);
    const again = await api(emu(), "/api/render", { key, json: render });
    expect(again.status).toBe(200);
    expect(again.headers.get("x-ratelimit-remaining")).toBe("9");
  });

  it("keeps separate counters per key and per endpoint group", async () => {
    const a = emu().createKey();
    const b = emu().createKey();
    for (let i = 0; i < 10; i++) await api(emu(), "/api/render", { key: a, json: render });
    expect((await api(emu(), "/api/render", { key: a, json: render })).status).toBe(429);
    expect((await api(emu(), "/api/render", { key: b, json: render })).status).toBe(200);
    const status = await api(emu(), "/api/render/status/rnd_x", { key: a });
    expect(status.status).toBe(404);
    expect(status.headers.get("x-ratelimit-limit")).toBe("60");
    expect(status.headers.get("x-ratelimit-remaining")).toBe("59");
    const me = await api(emu(), "/api/me", { key: a });
    expect(me.headers.get("x-ratelimit-limit")).toBe("60");
  });

  it("does not count requests without a valid key, but still sends the headers", async () => {
    const res = await api(emu(), "/api/render", { key: null, json: render });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-ratelimit-limit")).toBe("10");
    expect(res.headers.get("x-ratelimit-remaining")).toBe("10");
  });

  it("rateLimits: false never refuses", async () => {
    const free = await startEmulator({ port: 0, rateLimits: false });
    try {
      for (let i = 0; i < 12; i++) {
        expect((await api(free, "/api/render", { json: render })).status).toBe(200);
      }
    } finally {
      await free.stop();
    }
  });
});

describe("emulator: the hour window (shrunk in proportion)", () => {
  // A 50 ms minute makes a 3 s hour: 100 renders fit in it, the 101st is refused by the hour.
  const emu = useEmulator({ rateLimitMinuteMs: 50 });

  it("refuses the 101st render creation in an hour, with the hour's wait", async () => {
    const key = emu().createKey();
    let ok = 0;
    while (ok < 100) {
      const res = await api(emu(), "/api/render", { key, json: render });
      if (res.status === 200) ok++;
      else {
        expect(res.status).toBe(429);
        await sleep(20);
      }
    }
    const refused = await api(emu(), "/api/render", { key, json: render });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("x-ratelimit-limit")).toBe("100");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get("retry-after"))).toBeLessThanOrEqual(3);
  });
});
