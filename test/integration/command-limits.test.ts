/**
 * Limits and signals bound the whole command (issue 15, point 8), over real HTTP against the
 * emulator: --timeout covers the submission and its retries as well as the follow (exit 7),
 * and SIGTERM stops as Ctrl-C does (the resume line, a partial download kept) with exit 143.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { api, SAMPLE_BODIES } from "../helpers/emulator.js";
import { ndjson, useRenderCli } from "../helpers/render-cli.js";

const SIZE = 1024 * 1024 + 4321;
const { emulator, config, key, cli } = useRenderCli({ renderDurationMs: 300, outputSizeBytes: SIZE });

async function submit(): Promise<string> {
  const res = await api(emulator(), "/api/render", { json: SAMPLE_BODIES["/api/render"], key: key() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { renderId: string }).renderId;
}

describe("--timeout bounds the submission too", () => {
  it("render --wait --timeout 3s against a server that accepts and never answers: exit 7 at the limit", async () => {
    emulator().addFault({ route: "/api/render", method: "POST", fault: { kind: "hang" } });
    const started = Date.now();
    const r = await cli(["render", "a prompt", "--wait", "--timeout", "3s"]);
    const took = Date.now() - started;
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain("Error: The server did not accept the render within 3 s (--timeout)");
    expect(r.stderr).toMatch(/--idempotency-key [0-9a-f-]{36}/);
    // the transport alone would have waited up to its 120 s deadline (91 s and exit 5 before)
    expect(took).toBeLessThan(15_000);
    expect(took).toBeGreaterThanOrEqual(3_000);
    const posts = emulator().requests.filter((q) => q.method === "POST" && q.path === "/api/render");
    expect(posts.length).toBeGreaterThanOrEqual(1);
  });

  it("what the submission took is taken from the follow: one limit for the whole command", async () => {
    emulator().setNextRenderOutcome("never");
    emulator().addFault({
      route: "/api/render",
      method: "POST",
      times: 1,
      fault: { kind: "latency", ms: 2_000 },
    });
    const started = Date.now();
    const r = await cli(["render", "a prompt", "--wait", "--timeout", "4s", "--json"]);
    const took = Date.now() - started;
    expect(r.code, r.stderr).toBe(7);
    expect(ndjson(r.stdout).at(-1)).toMatchObject({
      error: {
        code: "deadline_exceeded",
        exitCode: 7,
        message: expect.stringMatching(/did not finish within 4 s;/),
      },
    });
    // 2 s submitting + what was left of the 4 s following, not 2 s + 4 s
    expect(took).toBeLessThan(4_000 + 3_500);
  });
});

describe("SIGTERM stops as Ctrl-C does, exit 143", () => {
  it("while waiting: the resume line, exit 143 (the --json error document says 143 too)", async () => {
    emulator().setNextRenderOutcome("never");
    const id = await submit();
    const onSpawn = (child: import("node:child_process").ChildProcess, ready: RegExp) => {
      let seen = "";
      let sent = false;
      const look = (d: Buffer) => {
        seen += d.toString();
        if (!sent && ready.test(seen)) {
          sent = true;
          child.kill("SIGTERM");
        }
      };
      child.stderr?.on("data", look);
      child.stdout?.on("data", look);
    };
    const r = await cli(["watch", id], { onSpawn: (c) => onSpawn(c, /: rendering/) });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toContain(`Error: Stopped waiting for render ${id}`);
    expect(r.stderr).toContain(`Resume with: gigareels watch ${id} --base-url ${emulator().url}`);

    const j = await cli(["watch", id, "--json"], { onSpawn: (c) => onSpawn(c, /"type":"status"/) });
    expect(j.code, j.stderr).toBe(143);
    expect(ndjson(j.stdout).at(-1)).toMatchObject({ error: { code: "aborted", exitCode: 143 } });
  });

  it("while downloading: the partial file is kept and said so, exit 143", async () => {
    const id = await submit();
    const out = join(config.dir, "term.mp4");
    const part = `${out}.part`;
    const HALF = 512 * 1024;
    emulator().addFault({ route: "/files/*", times: 1, fault: { kind: "stall-body", afterBytes: HALF } });
    const r = await cli(["watch", id, "--output", out], {
      onSpawn: (child) => {
        const timer = setInterval(() => {
          if (existsSync(part) && statSync(part).size === HALF) {
            clearInterval(timer);
            child.kill("SIGTERM");
          }
        }, 20);
        child.on("exit", () => clearInterval(timer));
      },
    });
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toContain(`Error: Stopped downloading render ${id}; the partial file ${part} is kept`);
    expect(r.stderr).toContain(
      `Resume with: gigareels watch ${id} --output ${out} --base-url ${emulator().url}`,
    );
    expect(statSync(part).size).toBe(HALF);
    expect(existsSync(out)).toBe(false);
  });
});
