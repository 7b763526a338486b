/**
 * The built `gigareels watch` in a subprocess against the emulator: NDJSON events and their
 * documented shapes, log lines when not a terminal, Ctrl-C while waiting and while
 * downloading (exit 130, the .part kept, a second run resumes to a file equal to the
 * emulator's), --open, an unknown render.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stubServer } from "../helpers/stub-server.js";
import { expectNoFullKey, runCli } from "../helpers/cli.js";
import { api, SAMPLE_BODIES } from "../helpers/emulator.js";
import { ndjson, useRenderCli } from "../helpers/render-cli.js";

const SIZE = 1024 * 1024 + 4321;
const { emulator, config, key, cli } = useRenderCli({ renderDurationMs: 300, outputSizeBytes: SIZE });

async function submit(): Promise<string> {
  const res = await api(emulator(), "/api/render", { json: SAMPLE_BODIES["/api/render"], key: key() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { renderId: string }).renderId;
}

/** The documented NDJSON event shapes (README "render and watch"). */
const FIELDS: Record<string, string[]> = {
  submitted: ["type", "time", "renderId", "idempotencyKey", "endpoint", "followCommand"],
  status: ["type", "time", "renderId", "elapsedMs", "status", "changed"],
  throttled: ["type", "time", "renderId", "elapsedMs", "waitMs", "reason", "message"],
  retry: ["type", "time", "renderId", "elapsedMs", "reason", "message", "attempt", "outageMs"],
  done: ["type", "time", "renderId", "elapsedMs", "status"],
  error: ["type", "time", "renderId", "elapsedMs", "status", "message"],
  download: ["type", "time", "renderId", "phase", "path", "bytes", "resumedFrom"],
};
const OPTIONAL: Record<string, string[]> = {
  status: ["progress", "nextPollMs"],
  throttled: ["status", "progress"],
  retry: ["status", "progress", "waitMs"],
  done: ["outputFile"],
  download: ["total", "message"],
};

function expectDocumented(e: Record<string, unknown>): void {
  const type = e.type as string;
  expect(Object.keys(FIELDS)).toContain(type);
  for (const f of FIELDS[type]!) expect(e, `${type}.${f}`).toHaveProperty(f);
  for (const f of Object.keys(e)) expect([...FIELDS[type]!, ...(OPTIONAL[type] ?? [])]).toContain(f);
  expect(Number.isNaN(Date.parse(e.time as string))).toBe(false);
}

async function emulatorFile(id: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(`${emulator().url}/files/${id}.mp4`)).arrayBuffer());
}

describe("gigareels watch", () => {
  it("--json: NDJSON events of the documented shapes, ending with done, then the download", async () => {
    const id = await submit();
    const out = join(config.dir, "video.mp4");
    const r = await cli(["watch", id, "--json", "--output", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const ev = ndjson(r.stdout);
    for (const e of ev) {
      expectDocumented(e);
      expect(e.renderId).toBe(id);
    }
    const types = ev.map((e) => e.type);
    expect(types.indexOf("done")).toBeGreaterThan(-1);
    expect(types.slice(0, types.indexOf("done")).every((t) => t === "status")).toBe(true);
    const done = ev.find((e) => e.type === "done")!;
    expect(done).toMatchObject({ status: "done", outputFile: `${emulator().url}/files/${id}.mp4` });
    const downloads = ev.filter((e) => e.type === "download");
    expect(downloads[0]).toMatchObject({ phase: "start", path: out, bytes: 0, resumedFrom: 0 });
    expect(downloads.at(-1)).toMatchObject({
      phase: "done",
      path: out,
      bytes: SIZE,
      total: SIZE,
      resumedFrom: 0,
    });
    // progress at most every tenth
    expect(downloads.filter((e) => e.phase === "progress").length).toBeLessThanOrEqual(11);
    expect(ev.at(-1)).toEqual(downloads.at(-1));
    expect(readFileSync(out).equals(await emulatorFile(id))).toBe(true);
  });

  it("not a terminal: one line per change on stderr, the result on stdout", async () => {
    emulator().setRenderDurationMs(3000);
    const id = await submit();
    emulator().setRenderDurationMs(300);
    const r = await cli(["watch", id]);
    expect(r.code, r.stderr).toBe(0);
    // stdout is a pipe: the video's URL alone; the sentence goes to stderr with the progress.
    expect(r.stdout).toBe(`${emulator().url}/files/${id}.mp4\n`);
    const lines = r.stderr.trim().split("\n");
    expect(lines.pop()).toBe(`Render ${id} is done: ${emulator().url}/files/${id}.mp4`);
    for (const l of lines)
      expect(l).toMatch(new RegExp(`^Render ${id}: (queued|rendering \\d+%|done) \\(\\d+s\\)$`));
    expect(lines.at(-1)).toMatch(new RegExp(`^Render ${id}: done`));
    // no spinner or escape sequences outside a terminal
    expect(r.stderr).not.toMatch(/\u001b\[/);
    // one line per change: no two lines alike
    expect(new Set(lines).size).toBe(lines.length);
  });

  it("an unknown render: the server's 404 told plainly with the fix, exit 1 in both modes", async () => {
    const r = await cli(["watch", "rnd_doesnotexist"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toEqual([
      `Error: Render rnd_doesnotexist was not found (404 Render not found from ${emulator().url}). Check the id: \`gigareels render\` prints it. A render is found only with a key of the account that submitted it, on the same server (--profile, --base-url)`,
    ]);
    const json = await cli(["watch", "rnd_doesnotexist", "--json"]);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe("");
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: "not_found", exitCode: 1 });
  });

  it("a base URL that answers an HTML 404 page is not the API: exit 5 with the fix", async () => {
    const server = await stubServer(404, "<html><body>404 Not Found</body></html>");
    const url = server.url;
    try {
      // not cli(): it points --base-url at the emulator
      const r = await runCli(["watch", "rnd_x", "--base-url", url], {
        env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_API_KEY: key(), NODE_ENV: "development" },
      });
      expectNoFullKey(r.stdout + r.stderr, key());
      expect(r.code).toBe(5);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(
        "does not look like the GigaReels API: it answered GET /api/render/status/rnd_x with 404",
      );
      expect(r.stderr).toContain(`Check the base URL ${url}`);
    } finally {
      await server.stop();
    }
  });

  it.each([
    ["empty", ""],
    ["..", ".."],
    ["with a slash", "rnd_1/../../api/me"],
    ["a URL", "https://gigareels.com/renders/rnd_1"],
    ["with a space", "rnd_1 rnd_2"],
  ])("a render id %s: exit 2 in both modes, one line, nothing sent", async (_what, id) => {
    const before = emulator().requests.length;
    const r = await cli(["watch", id], { env: { NODE_ENV: "development" } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: (The render id is empty|".*" is not a render id)\. Pass the id/);
    const json = await cli(["watch", id, "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: "usage", exitCode: 2 });
    expect(emulator().requests.length).toBe(before);
  });

  it("usage errors are one line, also where oclif would warn (NODE_ENV=development): no id, --timeout 0", async () => {
    for (const args of [["watch"], ["watch", "rnd_x", "--timeout", "0"], ["watch", "rnd_x", "--bogus"]]) {
      const r = await cli(args, { env: { NODE_ENV: "development" } });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toContain("UnparsedCommand");
    }
  });

  it("a reader that leaves (watch --json | head -1): exits 0 at once instead of following a render nobody reads", async () => {
    emulator().setNextRenderOutcome("never");
    const id = await submit();
    const started = Date.now();
    const r = await cli(["watch", id, "--json"], {
      // head -1: read the first line, then close the pipe
      onSpawn: (child) => child.stdout?.once("data", () => child.stdout?.destroy()),
    });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    // well before any poll limit: the render never ends, so only the closed pipe stops it
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("Ctrl-C while waiting: stops at once, prints the render id and the resume command, exit 130", async () => {
    emulator().setNextRenderOutcome("never");
    const id = await submit();
    const r = await cli(["watch", id], {
      onSpawn: (child) => {
        let seen = "";
        let sent = false;
        child.stderr?.on("data", (d: Buffer) => {
          seen += d.toString();
          if (!sent && seen.includes(": rendering")) {
            sent = true;
            child.kill("SIGINT");
          }
        });
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`Error: Stopped waiting for render ${id}`);
    expect(r.stderr).toContain(`Resume with: gigareels watch ${id} --base-url ${emulator().url}`);
  });

  it("Ctrl-C while downloading keeps the .part; the same watch resumes it to a file equal to the emulator's", async () => {
    const id = await submit();
    const out = join(config.dir, "resumed.mp4");
    const part = `${out}.part`;
    const HALF = 512 * 1024;
    emulator().addFault({ route: "/files/*", times: 1, fault: { kind: "stall-body", afterBytes: HALF } });
    const first = await cli(["watch", id, "--output", out], {
      onSpawn: (child) => {
        // Ctrl-C once the stalled transfer has written all it got
        const timer = setInterval(() => {
          if (existsSync(part) && statSync(part).size === HALF) {
            clearInterval(timer);
            child.kill("SIGINT");
          }
        }, 20);
        child.on("exit", () => clearInterval(timer));
      },
    });
    expect(first.code, first.stderr).toBe(130);
    expect(first.stderr).toContain(
      `Error: Stopped downloading render ${id}; the partial file ${part} is kept`,
    );
    expect(first.stderr).toContain(
      `Resume with: gigareels watch ${id} --output ${out} --base-url ${emulator().url}`,
    );
    expect(statSync(part).size).toBe(HALF);
    expect(existsSync(out)).toBe(false);

    const second = await cli(["watch", id, "--output", out, "--json"]);
    expect(second.code, second.stderr).toBe(0);
    const done = ndjson(second.stdout).at(-1)!;
    expect(done).toMatchObject({ type: "download", phase: "done", bytes: SIZE, resumedFrom: HALF });
    const ranged = emulator().requests.filter((r) => r.path === `/files/${id}.mp4` && r.headers.range);
    expect(ranged.at(-1)!.headers.range).toBe(`bytes=${HALF}-`);
    expect(ranged.at(-1)!.status).toBe(206);
    expect(readFileSync(out).equals(await emulatorFile(id))).toBe(true);
    expect(existsSync(part)).toBe(false);
  });

  it("--output over an existing file: refused without --force, replaced with it", async () => {
    const id = await submit();
    const out = join(config.dir, "exists.mp4");
    writeFileSync(out, "old");
    const refused = await cli(["watch", id, "--output", out]);
    expect(refused.code).toBe(2);
    expect(readFileSync(out, "utf8")).toBe("old");
    const forced = await cli(["watch", id, "--output", out, "--force"]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toBe(`${out}\n`);
    expect(forced.stderr).toMatch(new RegExp(`^Saved ${out} \\(1\\.0 Mi?B\\)$`, "m"));
    expect(statSync(out).size).toBe(SIZE);
  });

  it("--open hands the downloaded file to the system opener (xdg-open here)", async () => {
    const id = await submit();
    const bin = join(config.dir, "bin");
    mkdirSync(bin);
    const record = join(config.dir, "opened.txt");
    writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`);
    chmodSync(join(bin, "xdg-open"), 0o755);
    const out = join(config.dir, "open.mp4");
    const r = await cli(["watch", id, "--output", out, "--open"], {
      env: { PATH: `${bin}:${process.env.PATH}`, DISPLAY: ":0" },
    });
    expect(r.code, r.stderr).toBe(0);
    // the opener runs detached: give it a moment to write
    for (let i = 0; i < 100 && !existsSync(record); i++) await new Promise((res) => setTimeout(res, 20));
    expect(readFileSync(record, "utf8")).toBe(out);
  });
});
