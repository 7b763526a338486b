/** Emulator building blocks with a fake clock: MP4 layout, ranges, rate windows, render states, OAuth helpers. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FaultList, routeMatches } from "../../src/lib/emulator/faults.js";
import { fingerprint, IdempotencyStore } from "../../src/lib/emulator/idempotency.js";
import { isKeyFormat, KeyStore, maskForLog, redactForLog } from "../../src/lib/emulator/keys.js";
import { MIN_MP4_SIZE, Mp4File, parseRange } from "../../src/lib/emulator/mp4.js";
import { isLoopbackRedirect, OAuthServer, s256 } from "../../src/lib/emulator/oauth.js";
import { LIMITS, RateLimiter, rateGroupFor } from "../../src/lib/emulator/rate-limit.js";
import { RenderStore, validateRenderBody } from "../../src/lib/emulator/renders.js";

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("the emulator stands alone", () => {
  const dir = join(import.meta.dirname, "../../src/lib/emulator");
  const imports = readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .flatMap((f) =>
      [...readFileSync(join(dir, f), "utf8").matchAll(/\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"/g)].map(
        (m) => ({ file: f, spec: (m[1] ?? m[2])! }),
      ),
    );

  it("imports nothing from the client side (only node:, its own files and the neutral fs helpers)", () => {
    expect(imports.length).toBeGreaterThan(10);
    const foreign = imports.filter(
      ({ spec }) => !spec.startsWith("node:") && !spec.startsWith("./") && spec !== "../fs/index.js",
    );
    expect(foreign).toEqual([]);
  });

  it("checks the published key format and masks keys in its own log", () => {
    const key = `giga_${"Ab1".repeat(10)}Zz`;
    expect(isKeyFormat(key)).toBe(true);
    for (const bad of [
      ` ${key}`,
      `${key}x`,
      key.slice(0, -1),
      `giga_${"A".repeat(31)}-`,
      `GIGA_${"A".repeat(32)}`,
    ])
      expect(isKeyFormat(bad), JSON.stringify(bad)).toBe(false);
    expect(maskForLog(key)).toBe(`giga_****${key.slice(-4)}`);
    expect(redactForLog(`{"token":"${key}","k":"giga_abcd"}`)).toBe(
      `{"token":"giga_****${key.slice(-4)}","k":"giga_****"}`,
    );
  });
});

describe("Mp4File", () => {
  it("has the requested size, starts with ftyp, and chunks of any range agree with the whole", () => {
    const f = new Mp4File(150_000);
    const all = f.bytes();
    expect(all.length).toBe(150_000);
    expect(all.subarray(4, 8).toString("latin1")).toBe("ftyp");
    for (const [s, e] of [
      [0, 0],
      [10, 2000],
      [MIN_MP4_SIZE - 3, MIN_MP4_SIZE + 70_000],
      [149_999, 149_999],
    ] as const) {
      expect(Buffer.concat([...f.chunks(s, e)]).equals(all.subarray(s, e + 1))).toBe(true);
    }
    for (const c of f.chunks()) expect(c.length).toBeLessThanOrEqual(64 * 1024);
  });

  it("never goes below the minimal size, and the ETag depends on the size only", () => {
    expect(new Mp4File(10).size).toBe(MIN_MP4_SIZE);
    const size = MIN_MP4_SIZE + 5000;
    expect(new Mp4File(size).etag).toBe(new Mp4File(size).etag);
    expect(new Mp4File(size).etag).not.toBe(new Mp4File(size + 1).etag);
  });
});

describe("parseRange", () => {
  it.each([
    [undefined, { kind: "full" }],
    ["items=0-5", { kind: "full" }],
    ["bytes=0-9", { kind: "partial", start: 0, end: 9 }],
    ["bytes=90-", { kind: "partial", start: 90, end: 99 }],
    ["bytes=-10", { kind: "partial", start: 90, end: 99 }],
    ["bytes=-1000", { kind: "partial", start: 0, end: 99 }],
    ["bytes=50-5000", { kind: "partial", start: 50, end: 99 }],
    ["bytes=0-1, 5-6", { kind: "partial", start: 0, end: 1 }],
    ["bytes=100-", { kind: "unsatisfiable" }],
    ["bytes=9-3", { kind: "unsatisfiable" }],
    ["bytes=-0", { kind: "unsatisfiable" }],
    ["bytes=-", { kind: "unsatisfiable" }],
    ["bytes=x-y", { kind: "unsatisfiable" }],
  ])("%s", (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});

describe("RateLimiter", () => {
  it("uses the published numbers per group, and the status numbers for everything else", () => {
    expect(LIMITS.render).toEqual({ minute: 10, hour: 100, day: 1000 });
    expect(LIMITS.status).toEqual({ minute: 60, hour: 1000, day: 10000 });
    expect(LIMITS.social).toEqual({ minute: 30, hour: 300, day: 3000 });
    expect(LIMITS.other).toEqual(LIMITS.status);
    expect(rateGroupFor("POST", "/api/render")).toBe("render");
    expect(rateGroupFor("POST", "/api/render/split")).toBe("render");
    expect(rateGroupFor("GET", "/api/render/status/x")).toBe("status");
    expect(rateGroupFor("GET", "/api/social-media/accounts")).toBe("social");
    expect(rateGroupFor("GET", "/api/me")).toBe("other");
  });

  it("refuses the 11th render in a minute with the real wait, rounded up, and resets after it", () => {
    const c = clock();
    const rl = new RateLimiter(60_000, true, c.now);
    for (let i = 0; i < 10; i++) expect(rl.take("k", "render").allowed).toBe(true);
    c.advance(12_300);
    const refused = rl.take("k", "render");
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(48); // 47.7 s left -> 48
    expect(refused.headers["retry-after"]).toBe("48");
    expect(refused.headers["x-ratelimit-reset"]).toBe(String(Math.ceil((c.now() + 47_700) / 1000)));
    c.advance(47_700);
    expect(rl.take("k", "render").allowed).toBe(true);
  });

  it("scales the hour and day with the minute, and waits at least 1 s", () => {
    const c = clock();
    const rl = new RateLimiter(100, true, c.now); // hour = 6 s, day = 144 s
    expect(rl.policy("render")).toBe("10;w=0.1, 100;w=6, 1000;w=144");
    let ok = 0;
    while (ok < 100) {
      if (rl.take("k", "render").allowed) ok++;
      else c.advance(100);
    }
    const refused = rl.take("k", "render");
    expect(refused.allowed).toBe(false);
    expect(refused.headers["x-ratelimit-limit"]).toBe("100");
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(6);
    const tiny = new RateLimiter(100, true, c.now);
    for (let i = 0; i < 10; i++) tiny.take("k", "render");
    expect(tiny.take("k", "render").retryAfterSeconds).toBe(1);
  });

  it("reports the most constrained window in X-RateLimit-*", () => {
    const c = clock();
    const rl = new RateLimiter(1000, true, c.now);
    const first = rl.take("k", "status").headers;
    expect(first["x-ratelimit-limit"]).toBe("60");
    expect(first["x-ratelimit-remaining"]).toBe("59");
    // Use up most of the hour across many minutes: the hour becomes the tighter window.
    for (let m = 0; m < 16; m++) {
      for (let i = 0; i < 60; i++) rl.take("k", "status");
      c.advance(1000);
    }
    const later = rl.take("k", "status").headers;
    expect(later["x-ratelimit-limit"]).toBe("1000");
    expect(Number(later["x-ratelimit-remaining"])).toBeLessThan(60);
  });
});

describe("RenderStore", () => {
  it("goes queued -> rendering (progress) -> done over its duration", () => {
    const c = clock();
    const store = new RenderStore(1000, c.now);
    const r = store.create("render", "acct");
    expect(store.status(r.id)).toMatchObject({ status: "queued", progress: 0 });
    c.advance(100);
    expect(store.status(r.id)).toMatchObject({ status: "rendering", progress: 0 });
    c.advance(450);
    expect(store.status(r.id)).toMatchObject({ status: "rendering", progress: 50 });
    c.advance(450);
    expect(store.status(r.id)).toMatchObject({ status: "done", progress: 100 });
  });

  it("applies queued outcomes in order, with counts", () => {
    const c = clock();
    const store = new RenderStore(10, c.now);
    store.setNextOutcome("error", { count: 2, error: "boom" });
    store.setNextOutcome("never");
    const ids = [1, 2, 3, 4].map(() => store.create("text", "acct").id);
    c.advance(1_000_000);
    expect(ids.map((id) => store.status(id)?.status)).toEqual(["error", "error", "rendering", "done"]);
    expect(store.status(ids[0]!)?.error).toBe("boom");
    expect(store.get(ids[0]!, "someone-else")).toBeUndefined();
  });

  it("validates bodies", () => {
    expect(validateRenderBody("render", { type: "a", prompt: "b" })).toBeNull();
    expect(
      validateRenderBody("split", { videoUrl: "https://x/y", position: "top", objectFit: "cover" }),
    ).toBeNull();
    expect(validateRenderBody("text", null)).toBe("Request body must be a JSON object");
  });
});

describe("idempotency and faults", () => {
  it("fingerprints JSON bodies canonically", () => {
    expect(fingerprint("POST", "/a", '{"a":1,"b":2}')).toBe(fingerprint("POST", "/a", '{ "b": 2, "a": 1 }'));
    expect(fingerprint("POST", "/a", '{"a":1}')).not.toBe(fingerprint("POST", "/b", '{"a":1}'));
  });

  it("forgets entries after 24 hours", () => {
    const c = clock();
    const store = new IdempotencyStore(c.now);
    store.record("acct", "k", "fp", { status: 200, headers: {}, body: "x" });
    expect(store.lookup("acct", "k", "fp").kind).toBe("replay");
    expect(store.lookup("acct", "k", "other").kind).toBe("mismatch");
    expect(store.lookup("other", "k", "other").kind).toBe("miss");
    c.advance(24 * 3600_000 + 1);
    expect(store.lookup("acct", "k", "fp").kind).toBe("miss");
  });

  it("matches routes exactly or by prefix, by method, and counts `times`", () => {
    expect(routeMatches("/api/render", "/api/render")).toBe(true);
    expect(routeMatches("/api/render", "/api/render/text")).toBe(false);
    expect(routeMatches("/api/render/*", "/api/render/text")).toBe(true);
    const faults = new FaultList();
    faults.add({ route: "/x", method: "post", times: 2, fault: { kind: "html" } });
    expect(faults.take("GET", "/x")).toBeUndefined();
    expect(faults.take("POST", "/x")).toEqual({ kind: "html" });
    expect(faults.take("POST", "/x")).toEqual({ kind: "html" });
    expect(faults.take("POST", "/x")).toBeUndefined();
  });
});

describe("OAuth helpers", () => {
  it("computes S256 as in RFC 7636 appendix B", () => {
    expect(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it.each([
    ["http://127.0.0.1:8080/callback", true],
    ["http://localhost:8080/callback", true],
    ["http://[::1]:8080/callback", true],
    ["https://127.0.0.1:8080/callback", false],
    ["http://127.0.0.1/callback", false],
    ["http://127.0.0.1:8080/other", false],
    ["http://127.0.0.2:8080/callback", false],
    ["http://example.com:8080/callback", false],
    ["not a url", false],
  ])("loopback redirect %s -> %s", (uri, ok) => {
    expect(isLoopbackRedirect(uri)).toBe(ok);
  });

  it("grows the device interval by 5 s on slow_down and expires codes", () => {
    const c = clock();
    const keys = new KeyStore("pro");
    const oauth = new OAuthServer({
      keys,
      baseUrl: () => "http://e",
      autoApprove: false,
      codeTtlMs: 60_000,
      deviceIntervalSeconds: 5,
      now: c.now,
    });
    const start = JSON.parse(String(oauth.deviceCode({ client_id: "gigareels-cli" }).body)) as Record<
      string,
      string
    >;
    const poll = () =>
      JSON.parse(
        String(
          oauth.token({
            grant_type: "urn:ietf:params:oauth:grant-type:device_code",
            device_code: start.device_code!,
            client_id: "gigareels-cli",
          }).body,
        ),
      ) as { error?: string; access_token?: string };
    expect(poll().error).toBe("authorization_pending");
    c.advance(4000);
    expect(poll().error).toBe("slow_down"); // interval now 10 s
    c.advance(9000);
    expect(poll().error).toBe("slow_down"); // interval now 15 s
    c.advance(15_000);
    expect(poll().error).toBe("authorization_pending");
    expect(oauth.decideDevice(start.user_code!, true)).toBe("ok");
    c.advance(15_000);
    expect(poll().access_token).toMatch(/^giga_/);
    c.advance(60_000);
    const late = oauth.deviceCode({ client_id: "gigareels-cli" });
    const code = (JSON.parse(String(late.body)) as { user_code: string }).user_code;
    c.advance(60_000);
    expect(oauth.decideDevice(code, true)).toBe("expired");
  });
});
