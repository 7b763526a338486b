/**
 * `gigareels api`, the built CLI against the emulator over real HTTP: GET, POST with fields,
 * a body from a file or stdin, --include, pretty output in a terminal, and each error class
 * with its exit code. No output ever holds a key.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, type CliResult, expectNoFullKey, runCli, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";
import { closedPort } from "../helpers/proxy.js";

const emulator = useEmulator({ rateLimits: false });
const cfg = useTempConfig();

const all: string[] = [];
function gr(
  args: string[],
  extra: Record<string, string | undefined> = {},
  input?: string,
): Promise<CliResult> {
  const emu = emulator();
  return runCli(args, {
    env: {
      GIGAREELS_CONFIG_DIR: cfg.dir,
      GIGAREELS_API_KEY: emu.keys[0],
      GIGAREELS_BASE_URL: emu.url,
      ...extra,
    },
    input,
  }).then((r) => {
    all.push(r.stdout, r.stderr);
    return r;
  });
}
const since = (n: number) => emulator().requests.slice(n);
afterAll(() => {
  // Every output of every test in this file, keys included in the environment: none leaked.
  expectNoFullKey(all.join("\n"), ...emulator().keys);
});

describe("gigareels api: requests", () => {
  it("GET PATH prints the body as received when piped, with the stored key's resolution rules", async () => {
    const n = emulator().requests.length;
    const r = await gr(["api", "/api/me"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.startsWith('{"id":"acct_')).toBe(true); // raw, not re-indented
    expect(JSON.parse(r.stdout)).toMatchObject({ email: "demo@gigareels.local", plan: "pro" });
    expect(since(n)).toHaveLength(1);
    expect(since(n)[0]).toMatchObject({
      method: "GET",
      path: "/api/me",
      keyLast4: emulator().keys[0]!.slice(-4),
    });
    expect(since(n)[0]!.headers["user-agent"]).toMatch(/gigareels-cli\//);
  });

  it("in a terminal the JSON is indented", async () => {
    const emu = emulator();
    const r = await runCli([], {
      command: ["script", "-qec", `${process.execPath} ${BIN} api /api/me`, "/dev/null"],
      env: { GIGAREELS_CONFIG_DIR: cfg.dir, GIGAREELS_API_KEY: emu.keys[0], GIGAREELS_BASE_URL: emu.url },
    });
    all.push(r.stdout, r.stderr);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\r\n/g, "\n")).toMatch(
      /^\{\n {2}"id": "acct_\w+",\n {2}"email": "demo@gigareels\.local",/,
    );
  });

  it("--include prints the status line and the headers (rate limits included) before the body", async () => {
    const r = await gr(["api", "/api/me", "--include"]);
    expect(r.code).toBe(0);
    const [head, body] = r.stdout.split("\n\n");
    const lines = head!.split("\n");
    expect(lines[0]).toBe("HTTP/1.1 200 OK");
    expect(lines).toContain("Content-Type: application/json; charset=utf-8");
    expect(lines.some((l) => /^X-Ratelimit-Limit: \d+$/.test(l))).toBe(true);
    expect(JSON.parse(body!)).toMatchObject({ plan: "pro" });
  });

  it("POST with --field: a typed JSON body (the render is created)", async () => {
    const n = emulator().requests.length;
    const r = await gr([
      "api",
      "POST",
      "/api/render",
      "-F",
      "type=educational-brainrot",
      "--field",
      "prompt=Explain black holes",
      "-f",
      "characterPack=rick-and-morty",
      "-F",
      "backgroundVideoPack=minecraft-parkour",
      "-F",
      "extra[draft]=true",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ success: true, renderId: expect.stringMatching(/^rnd_/) });
    const [req] = since(n);
    expect(req).toMatchObject({ method: "POST", path: "/api/render", status: 200 });
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req!.body!)).toEqual({
      type: "educational-brainrot",
      prompt: "Explain black holes",
      characterPack: "rick-and-morty",
      backgroundVideoPack: "minecraft-parkour",
      extra: { draft: true },
    });
  });

  it("fields of a GET go in the query string; fields alone make it a POST (social-media endpoints included)", async () => {
    const created = await gr(["api", "/api/social-media/posts", "-F", "text=hello", "-F", "at=1700000000"]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ text: "hello", at: 1700000000, status: "scheduled" });
    const n = emulator().requests.length;
    const listed = await gr(["api", "GET", "/api/social-media/posts", "-F", "limit=5"]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).posts).toEqual([expect.objectContaining({ text: "hello" })]);
    expect(since(n)[0]).toMatchObject({ method: "GET", path: "/api/social-media/posts", query: "limit=5" });
  });

  it("--input FILE (and - for stdin) is the body", async () => {
    const file = join(cfg.dir, "post.json");
    writeFileSync(file, JSON.stringify({ text: "from a file", platforms: ["tiktok"] }));
    const n = emulator().requests.length;
    const r = await gr(["api", "POST", "/api/social-media/posts", "--input", file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ text: "from a file", platforms: ["tiktok"] });
    expect(since(n)[0]!.body).toBe(JSON.stringify({ text: "from a file", platforms: ["tiktok"] }));

    const s = await gr(["api", "/api/social-media/posts", "--input", "-"], {}, '{"text":"from stdin"}');
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ text: "from stdin" });
  });

  it("--json gives the answer as a document", async () => {
    const r = await gr(["api", "/api/me", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      method: "GET",
      status: 200,
      bodyKind: "json",
      attempts: 1,
      body: { plan: "pro" },
    });
    expect(doc.headers["x-ratelimit-limit"]).toMatch(/^\d+$/);
  });
});

describe("gigareels api: errors and exit codes", () => {
  it("400 -> 2: the server's body on stdout, one line on stderr", async () => {
    const r = await gr(["api", "POST", "/api/render", "-F", "type=educational-brainrot"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toHaveProperty("error");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: 400 /);
  });

  it("401 -> 4 (and the JSON error document under --json); a malformed key -> 4 with nothing sent; no key -> 4", async () => {
    const bad = await gr(["api", "/api/me"], { GIGAREELS_API_KEY: "giga_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ" });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/^Error: 401 Invalid API key\. Run gigareels login/);
    const json = await gr(["api", "/api/me", "--json"], {
      GIGAREELS_API_KEY: "giga_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
    });
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        code: "authentication_error",
        message: "401 Invalid API key",
        exitCode: 4,
        suggestions: expect.any(Array),
      },
    });
    const n = emulator().requests.length;
    const malformed = await gr(["api", "/api/me"], { GIGAREELS_API_KEY: "giga_short" });
    expect(malformed.code).toBe(4);
    expect(malformed.stderr).toMatch(/^Error: 401 Invalid API key: .*nothing was sent/);
    expect(since(n)).toHaveLength(0);
    // No D-Bus: the machine's own keyring may hold a "default" item.
    const none = await gr(["api", "/api/me"], {
      GIGAREELS_API_KEY: undefined,
      DBUS_SESSION_BUS_ADDRESS: undefined,
      DISPLAY: undefined,
      XDG_RUNTIME_DIR: undefined,
    });
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/^Error: 401 No API key found/);
  });

  it("403 (a plan that does not allow it) -> 4; 404 -> 1", async () => {
    const free = emulator().createKey({ plan: "free" });
    const r = await gr(
      ["api", "POST", "/api/render/split", "-F", "videoUrl=https://example.com/v.mp4", "-F", "position=left"],
      { GIGAREELS_API_KEY: free },
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^Error: 403 /);
    expectNoFullKey(r.stdout + r.stderr, free);
    const nf = await gr(["api", "/api/render/status/rnd_nope"]);
    expect(nf.code).toBe(1);
    expect(nf.stderr).toMatch(/^Error: 404 Render not found/);
  });

  it("429: a GET waits as asked and retries; one that stays limited ends with exit 1 and the wait in the message", async () => {
    const emu = emulator();
    emu.addFault({ route: "/api/me", times: 1, fault: { kind: "rate-limit", retryAfterSeconds: 1 } });
    const n = emu.requests.length;
    const ok = await gr(["api", "/api/me"]);
    expect(ok.code).toBe(0);
    expect(since(n).map((q) => q.status)).toEqual([429, 200]);

    const remove = emu.addFault({ route: "/api/me", fault: { kind: "rate-limit", retryAfterSeconds: 1 } });
    try {
      const m = emu.requests.length;
      const r = await gr(["api", "/api/me"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^Error: 429 Rate limit exceeded.*Wait \d+ ?s and try again/);
      expect(since(m)).toHaveLength(3); // the first try and 2 retries
    } finally {
      remove();
    }
  });

  it("5xx -> 5: a POST is not retried without an Idempotency-Key, and is with one", async () => {
    const emu = emulator();
    emu.addFault({
      route: "/api/social-media/posts",
      method: "POST",
      times: 1,
      fault: { kind: "status", status: 503, retryAfterSeconds: 0 },
    });
    let n = emu.requests.length;
    const r = await gr(["api", "POST", "/api/social-media/posts", "-F", "text=once"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/^Error: 503 /);
    expect(since(n)).toHaveLength(1);

    emu.addFault({
      route: "/api/social-media/posts",
      method: "POST",
      times: 1,
      fault: { kind: "status", status: 503, retryAfterSeconds: 0 },
    });
    n = emu.requests.length;
    const k = await gr([
      "api",
      "POST",
      "/api/social-media/posts",
      "-F",
      "text=twice",
      "-H",
      "Idempotency-Key: post-twice-1",
    ]);
    expect(k.code).toBe(0);
    expect(since(n).map((q) => q.status)).toEqual([503, 201]);
    expect(since(n).every((q) => q.headers["idempotency-key"] === "post-twice-1")).toBe(true);
  });

  it("the API cannot be reached -> 5", async () => {
    const port = await closedPort();
    const r = await gr(["api", "/api/me"], { GIGAREELS_BASE_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(5);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: Could not reach 127\.0\.0\.1:\d+ \(GET \/api\/me\)/);
  });

  it("usage mistakes -> 2: an Authorization header (a key in argv), a URL on another origin, a bad field", async () => {
    const n = emulator().requests.length;
    const key = emulator().keys[0]!;
    const auth = await gr(["api", "/api/me", "-H", `Authorization: Bearer ${key}`]);
    expect(auth.code).toBe(2);
    expect(auth.stderr).toMatch(/^Error: --header authorization is set by gigareels itself/);
    const other = await gr(["api", "https://example.com/api/me"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/https:\/\/example\.com is not the API's origin/);
    const field = await gr(["api", "POST", "/api/render", "-F", "oops"]);
    expect(field.code).toBe(2);
    expect(field.stderr).toMatch(/--field expects key=value/);
    const none = await gr(["api"]);
    expect(none.code).toBe(2);
    expect(since(n)).toHaveLength(0);
  });
});
