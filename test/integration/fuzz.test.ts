/**
 * Fuzz-style tests (issue 16): the flag parser and every server answer the client reads get
 * random bytes, huge bodies, wrong types and deep nesting; the result must be 0 crashes and 0
 * stack traces without DEBUG: a documented exit code and one readable error. Seeded and
 * bounded (a fixed number of cases, about 2 minutes in all), so a failure replays: the seed
 * and case are in the message.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GigaReels } from "../../src/lib/sdk/client.js";
import { GigaReelsError } from "../../src/lib/sdk/errors.js";
import { expectNoFullKey, runCli, useTempConfig } from "../helpers/cli.js";

const SEED = 0x16_2026;
const KEY = `giga_${"Q".repeat(28)}fz16`;
const EXIT_CODES = new Set([0, 1, 2, 4, 5, 6, 7]);
const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;
const CRASH =
  /TypeError|RangeError|ReferenceError|SyntaxError: |Maximum call stack|Unhandled|\[object Object\]|undefined is not|TimeoutOverflowWarning|\(node:\d+\)/;

/** mulberry32: a small deterministic generator. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, bytes };
}

type Answer = { status: number; headers: Record<string, string>; body: Buffer };

/** A wrong value for any field: every JSON type, odd numbers, keys, escapes. */
function wrongValue(r: ReturnType<typeof prng>): unknown {
  return r.pick([
    null,
    true,
    0,
    -1,
    1e308,
    Number.MAX_SAFE_INTEGER,
    "",
    "x".repeat(r.int(5000)),
    "\u001b[2J\u0000\ud800",
    KEY,
    [],
    [1, "a", null],
    {},
    { status: { nested: [] } },
  ]);
}

function deep(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** One hostile answer, chosen by the generator. */
function answer(r: ReturnType<typeof prng>): Answer {
  const json = { "content-type": "application/json" };
  const status = r.pick([
    200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 418, 299, 599,
  ]);
  const headers: Record<string, string> = { ...json };
  if (r.next() < 0.3)
    headers["retry-after"] = r.pick(["", "-5", "NaN", "99999999999", "Wed, 21 Oct 2015", "0.5"]);
  if (r.next() < 0.3) headers["x-ratelimit-reset"] = r.pick(["", "-1", "1e400", "abc", "99999999999999"]);
  if (r.next() < 0.2) headers["x-ratelimit-remaining"] = r.pick(["-3", "x", "1e9"]);
  switch (r.int(7)) {
    case 0: // random bytes, any type
      return {
        status,
        headers: {
          "content-type": r.pick(["application/json", "text/plain", "text/html", "application/octet-stream"]),
        },
        body: r.bytes(r.int(3000)),
      };
    case 1: // huge body (4 MB)
      return {
        status,
        headers,
        body: Buffer.from(`{"status":"${"r".repeat(4 * 1024 * 1024)}","error":"${"e".repeat(1000)}"}`),
      };
    case 2: // deep nesting
      return {
        status,
        headers,
        body: Buffer.from(deep(r.pick([1000, 20_000, 200_000]), r.pick(["array", "object"] as const))),
      };
    case 3: // not an object
      return { status, headers, body: Buffer.from(JSON.stringify(wrongValue(r))) };
    case 4: {
      // the right fields with wrong types
      const fields = [
        "status",
        "progress",
        "error",
        "outputFile",
        "renderId",
        "taskId",
        "id",
        "email",
        "name",
        "plan",
        "key",
        "success",
        "account",
        "access_token",
        "device_code",
        "user_code",
        "verification_uri",
        "interval",
        "expires_in",
      ];
      const body: Record<string, unknown> = {};
      for (const f of fields) if (r.next() < 0.6) body[f] = wrongValue(r);
      return { status, headers, body: Buffer.from(JSON.stringify(body)) };
    }
    case 5: // truncated JSON
      return { status, headers, body: Buffer.from('{"status":"rendering","progress":4') };
    default: // a plausible answer with odd values
      return {
        status: 200,
        headers,
        body: Buffer.from(
          JSON.stringify({
            status: r.pick(["done", "error", "queued", "\u001b]0;x\u0007"]),
            outputFile: wrongValue(r),
            error: wrongValue(r),
            renderId: wrongValue(r),
          }),
        ),
      };
  }
}

let server: ReturnType<typeof createServer>;
let url: string;
let next: () => Answer;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      const a = next();
      res.writeHead(a.status, a.headers);
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("every server answer the SDK reads", () => {
  it("200 hostile answers: each call resolves or rejects with a GigaReelsError, never a crash", async () => {
    const r = prng(SEED);
    next = () => answer(r);
    const client = new GigaReels({ apiKey: KEY, baseUrl: url, maxRetries: 0, timeoutMs: 5_000 });
    // answers, not pacing: the key's shared render budget would (rightly) wait out the 429s
    const noBudget = { shareBudget: false };
    const calls: [string, () => Promise<unknown>][] = [
      ["me", () => client.me()],
      ["getRenderStatus", () => client.getRenderStatus("rnd_fuzz")],
      [
        "render",
        () =>
          client.render(
            {
              type: "educational-brainrot",
              prompt: "p",
              characterPack: "c",
              backgroundVideoPack: "b",
            },
            noBudget,
          ),
      ],
      [
        "renderText",
        () =>
          client.renderText(
            {
              videoUrl: "https://e.com/v.mp4",
              textOverlays: [{ text: "t", position: { x: 1, y: 1 } }],
            },
            noBudget,
          ),
      ],
      [
        "renderSplit",
        () => client.renderSplit({ videoUrl: "https://e.com/v.mp4", position: "left" }, noBudget),
      ],
      ["requestRaw", () => client.requestRaw("/api/me")],
    ];
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      const [name, call] = calls[i % calls.length]!;
      const outcome = await call().then(
        (v) => ({ ok: true as const, v }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      if (outcome.ok) continue;
      const e = outcome.e as Error;
      const where = `seed ${SEED}, case ${i} (${name}): ${e?.constructor?.name}: ${e?.message?.slice(0, 300)}`;
      expect(e, where).toBeInstanceOf(GigaReelsError);
      expect(e.message, where).not.toMatch(CRASH);
      expect(e.message.length, where).toBeLessThan(2_000);
      expectNoFullKey(e.message, KEY);
    }
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 150_000);
});

const config = useTempConfig();

/** Runs the CLI against the fuzz server and checks the contract: documented exit code, no stack, no crash, no key. */
async function checkCli(args: string[], where: string) {
  const r = await runCli(args, {
    env: { GIGAREELS_API_KEY: KEY, GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_BASE_URL: url },
    timeoutMs: 40_000,
  });
  const all = `${r.stdout}\n${r.stderr}`;
  const label = `${where}: gigareels ${JSON.stringify(args).slice(0, 300)} -> ${r.code} ${r.signal ?? ""}\n${r.stderr.slice(0, 1000)}`;
  expect(EXIT_CODES.has(r.code ?? -1), label).toBe(true);
  expect(r.stderr, label).not.toMatch(STACK);
  expect(r.stderr, label).not.toMatch(CRASH);
  expect(r.stderr, label).not.toContain("Warning: ("); // Node warnings (TimeoutOverflowWarning...)
  expectNoFullKey(all, KEY);
  // An error is one line.
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("Error:"));
  expect(errors.length, label).toBeLessThanOrEqual(1);
}

describe("the CLI reading hostile answers", () => {
  it("nesting deeper than the stack (200 000 levels) is no crash under --json", async () => {
    for (const kind of ["array", "object"] as const) {
      next = () => ({
        status: 200,
        headers: { "content-type": "application/json" },
        body: Buffer.from(deep(200_000, kind)),
      });
      for (const args of [
        ["api", "/api/me", "--json"],
        ["whoami", "--json"],
      ])
        await checkCli(args, `deep ${kind}`);
    }
    const r = await runCli(["api", "/api/me", "--json"], {
      env: { GIGAREELS_API_KEY: KEY, GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_BASE_URL: url },
    });
    expect(r.code).toBe(0);
    expect(JSON.stringify(JSON.parse(r.stdout).body)).toContain("nested deeper than 1000 levels");
  }, 120_000);

  it("16 commands against random answers: documented exit codes, no stack, no crash", async () => {
    const r = prng(SEED + 1);
    next = () => answer(r);
    const commands = [
      ["whoami"],
      ["whoami", "--json"],
      ["status"],
      ["status", "--json"],
      ["api", "/api/me"],
      ["api", "/api/me", "--json"],
      ["watch", "rnd_fuzz", "--timeout", "3s", "--max-outage", "2s"],
      ["watch", "rnd_fuzz", "--json", "--timeout", "3s", "--max-outage", "2s"],
      [
        "render",
        "--prompt",
        "p",
        "--type",
        "educational-brainrot",
        "--character-pack",
        "c",
        "--background-video-pack",
        "b",
      ],
      ["doctor"],
      ["logout"],
      ["login", "--device", "--no-browser", "--timeout", "3s"],
    ];
    for (let i = 0; i < 16; i++)
      await checkCli(commands[i % commands.length]!, `seed ${SEED + 1}, case ${i}`);
  }, 600_000);
});

describe("the flag parser", () => {
  it("30 random command lines: documented exit codes, no stack, no crash", async () => {
    const r = prng(SEED + 2);
    next = () => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: Buffer.from('{"status":"done","outputFile":"https://e.com/v.mp4","email":"a@b.c"}'),
    });
    const commands = [
      ["whoami"],
      ["status"],
      ["doctor"],
      ["api"],
      ["watch"],
      ["render"],
      ["render", "text"],
      ["render", "split"],
      ["logout"],
    ];
    const flags = [
      "--json",
      "--profile",
      "--base-url",
      "--local",
      "--timeout",
      "--max-outage",
      "--output",
      "-o",
      "--include",
      "-H",
      "-F",
      "-f",
      "--field",
      "--input",
      "--all",
      "--offline",
      "--port",
      "--wait",
      "--text",
      "--video-url",
      "--position",
      "--font-size",
      "--color",
      "--prompt",
      "--idempotency-key",
      "--force",
      "--nope",
      "-",
      "--",
      "-Z",
    ];
    const value = () =>
      r.pick([
        "",
        "=",
        "-1",
        "0",
        "1e400",
        "99999999999999h",
        "5m",
        "http://",
        "https://[::1",
        "file:///etc/passwd",
        "@/nonexistent",
        "@-",
        "a[b][",
        "x=y=z",
        "Name: a\r\nb",
        "\u001b[2J",
        "é€😀",
        "x".repeat(r.pick([10, 70_000])),
        "../../etc",
        "left",
        "rnd_1",
        "--json",
        KEY,
        r.bytes(12).toString("latin1").replace(/\0/g, ""),
      ]);
    for (let i = 0; i < 30; i++) {
      const argv = [...r.pick(commands)];
      const n = r.int(6);
      for (let j = 0; j < n; j++) {
        const roll = r.next();
        if (roll < 0.5) argv.push(r.pick(flags), value());
        else if (roll < 0.8) argv.push(r.pick(flags));
        else argv.push(value());
      }
      // Bounded: nothing waits long for a render or a browser.
      if (argv[0] === "watch" || argv[0] === "render") argv.push("--timeout", "2s", "--max-outage", "2s");
      await checkCli(argv, `seed ${SEED + 2}, case ${i}`);
    }
  }, 600_000);
});
