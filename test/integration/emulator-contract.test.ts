/**
 * Contract drift: reads the API contract and fails when the emulator disagrees with it
 * (paths, the published error bodies, the rate-limit table). The contract is kept in the
 * repository (docs/gigareels-api.md) so a clone anywhere can run this; where the shared
 * original sits beside the clone (../shared/reference), the copy must equal it.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { api, type EmulatorHandle, SAMPLE_BODIES, startEmulator, useEmulator } from "../helpers/emulator.js";

const DOC_PATH = resolve(ROOT, "docs/gigareels-api.md");
const SHARED_PATH = resolve(ROOT, "../shared/reference/gigareels-api.md");
const doc = readFileSync(DOC_PATH, "utf8");

describe("the contract copy", () => {
  it.skipIf(!existsSync(SHARED_PATH))(
    "equals the shared original (copy it again when the contract changes)",
    () => {
      expect(doc).toBe(readFileSync(SHARED_PATH, "utf8"));
    },
  );
});

/** Rows of the markdown table that follows the line containing `heading`. */
function tableAfter(heading: string): string[][] {
  const lines = doc.split("\n");
  const at = lines.findIndex((l) => l.includes(heading));
  if (at < 0) throw new Error(`the contract no longer has "${heading}"`);
  const rows: string[][] = [];
  let started = false;
  for (const line of lines.slice(at + 1)) {
    if (line.trim().startsWith("|")) {
      started = true;
      const cells = line
        .trim()
        .replace(/^\||\|$/g, "")
        .split("|")
        .map((c) => c.trim());
      if (cells.every((c) => /^-+$/.test(c))) continue;
      rows.push(cells);
    } else if (started) break;
  }
  return rows.slice(1); // without the header row
}
const code = (cell: string) => /`([^`]+)`/.exec(cell)?.[1] ?? cell;

const endpoints = tableAfter("## A. Published facts").map(([method, path]) => ({
  method: method!,
  path: code(path!),
}));
const errors = tableAfter("Errors (JSON body").map(([status, body]) => ({
  status: Number(status),
  body: JSON.parse(code(body!)) as { error: string },
}));
/** Part B: "An unknown id answers 404 `{"error": "Render not found"}`" (the sentence wraps). */
const unknownId = (() => {
  const m = /unknown id answers (\d{3})\s+`(\{[^`]+\})`/.exec(doc);
  if (!m) throw new Error("the contract no longer says what an unknown render id answers");
  return { status: Number(m[1]), body: JSON.parse(m[2]!) as { error: string } };
})();
const limits = tableAfter("Rate limits per key").map(([endpoint, min, hour, day]) => ({
  path: code(endpoint!),
  minute: Number(min),
  hour: Number(hour),
  day: Number(day),
}));

describe("the contract document parses", () => {
  it("has the endpoint, error and rate-limit tables", () => {
    expect(endpoints.map((e) => e.path)).toContain("/api/render/status/{renderId}");
    expect(errors.map((e) => e.status)).toEqual([401, 403, 429]);
    expect(limits).toHaveLength(3);
    expect(unknownId.status).toBe(404);
    for (const l of limits) expect([l.minute, l.hour, l.day].every(Number.isInteger)).toBe(true);
  });
});

describe("the emulator follows the contract", () => {
  const emu = useEmulator({ renderDurationMs: 0 });

  async function concrete(e: EmulatorHandle, path: string): Promise<string> {
    if (path.includes("{renderId}")) {
      const res = await api(e, "/api/render", { json: SAMPLE_BODIES["/api/render"], key: e.createKey() });
      const { renderId } = (await res.json()) as { renderId: string };
      return path.replace("{renderId}", renderId);
    }
    return path.replace("*", "accounts");
  }

  it.each(endpoints)(
    "$method $path answers (not 404), with X-RateLimit-* headers",
    async ({ method, path }) => {
      const url = await concrete(emu(), path);
      const verb = method === "*" ? "GET" : method;
      const body = SAMPLE_BODIES[path as keyof typeof SAMPLE_BODIES];
      const res = await api(emu(), url, {
        method: verb,
        ...(verb === "POST" ? { json: body ?? {} } : {}),
        key: emu().createKey(),
      });
      expect(res.status, `${verb} ${url}`).not.toBe(404);
      expect(res.status).toBeLessThan(300);
      for (const h of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]) {
        expect(res.headers.get(h), h).toMatch(/^\d+$/);
      }
    },
  );

  it("a new render reports one of the published status words or queued", async () => {
    const { renderId } = (await (
      await api(emu(), "/api/render", { json: SAMPLE_BODIES["/api/render"], key: emu().createKey() })
    ).json()) as { renderId: string };
    const s = (await (await api(emu(), `/api/render/status/${renderId}`)).json()) as Record<string, unknown>;
    expect(s.status).toBe("done");
    expect(String(s.outputFile)).toMatch(/^http:\/\//);
  });

  it.each(errors)("answers $status with the published body, word for word", async ({ status, body }) => {
    let res: Response;
    if (status === 401) {
      res = await api(emu(), "/api/me", { key: null });
    } else if (status === 403) {
      const key = emu().createKey({ plan: "free" });
      res = await api(emu(), "/api/render/split", { key, json: SAMPLE_BODIES["/api/render/split"] });
    } else {
      // With the real 60 s minute, the 11th render in a fresh window waits 60 s (rounded up).
      const key = emu().createKey();
      const first = await api(emu(), "/api/render", { key, json: SAMPLE_BODIES["/api/render"] });
      const perMinute = Number(first.headers.get("x-ratelimit-limit"));
      for (let i = 1; i < perMinute; i++)
        await api(emu(), "/api/render", { key, json: SAMPLE_BODIES["/api/render"] });
      res = await api(emu(), "/api/render", { key, json: SAMPLE_BODIES["/api/render"] });
      expect(res.headers.get("retry-after")).toBe("60");
    }
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual(body);
  });

  it("answers an unknown render id with part B's body, word for word, also for another account's render", async () => {
    const res = await api(emu(), "/api/render/status/rnd_does_not_exist", { key: emu().createKey() });
    expect(res.status).toBe(unknownId.status);
    expect(await res.json()).toEqual(unknownId.body);

    const owner = emu().createKey({ email: "owner@example.com" });
    const created = await api(emu(), "/api/render", { key: owner, json: SAMPLE_BODIES["/api/render"] });
    const { renderId } = (await created.json()) as { renderId: string };
    const stranger = emu().createKey({ email: "stranger@example.com" });
    const other = await api(emu(), `/api/render/status/${renderId}`, { key: stranger });
    expect(other.status).toBe(unknownId.status);
    expect(await other.json()).toEqual(unknownId.body);
  });

  it.each(limits)("sends the published limits for $path", async ({ path, minute, hour, day }) => {
    const e = await startEmulator({ port: 0, renderDurationMs: 0 });
    try {
      const key = e.createKey();
      const isRender = path === "/api/render";
      const target = isRender
        ? "/api/render"
        : path.startsWith("/api/render/status")
          ? await concrete(e, "/api/render/status/{renderId}")
          : await concrete(e, path);
      const call = () =>
        isRender ? api(e, target, { key, json: SAMPLE_BODIES["/api/render"] }) : api(e, target, { key });
      const first = await call();
      expect(first.headers.get("x-ratelimit-limit")).toBe(String(minute));
      expect(first.headers.get("x-ratelimit-remaining")).toBe(String(minute - 1));
      const policy = first.headers.get("x-ratelimit-policy")!;
      expect(policy.split(", ").map((p) => Number(p.split(";")[0]))).toEqual([minute, hour, day]);
      // The minute limit is enforced exactly: `minute` requests pass, the next is refused.
      for (let i = 1; i < minute; i++) expect((await call()).status).toBeLessThan(400);
      const refused = await call();
      expect(refused.status).toBe(429);
      expect(refused.headers.get("x-ratelimit-limit")).toBe(String(minute));
    } finally {
      await e.stop();
    }
  });
});
