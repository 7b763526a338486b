/**
 * Downloads against the emulator's output-file faults, over real HTTP: a 200 HTML page where
 * the video should be, a connection cut mid-body, no ETag/Last-Modified, a server that
 * ignores Range, a file whose size changed, a slow first byte and a trickle, and an
 * outputFile that is not http(s). The SDK's downloader directly, and the built CLI
 * (`watch --output`) for what a person sees: one error line and the exit code.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exitCodeFor } from "../../src/lib/cli/exit-codes.js";
import { GigaReels } from "../../src/lib/sdk/client.js";
import { DownloadError, downloadFile, partPathFor } from "../../src/lib/sdk/download/stream.js";
import { api, SAMPLE_BODIES, waitForRender } from "../helpers/emulator.js";
import { ndjson, useRenderCli } from "../helpers/render-cli.js";

const SIZE = 2 * 1024 * 1024 + 777;
const { emulator, config, key, cli } = useRenderCli({ renderDurationMs: 100, outputSizeBytes: SIZE });

async function doneRender(): Promise<{ id: string; url: string }> {
  const res = await api(emulator(), "/api/render", { json: SAMPLE_BODIES["/api/render"], key: key() });
  const { renderId } = (await res.json()) as { renderId: string };
  const s = await waitForRender(emulator(), renderId, key());
  expect(s.status).toBe("done");
  return { id: renderId, url: s.outputFile as string };
}

async function source(url: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(url)).arrayBuffer());
}
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function fileRequests(id: string, since = 0) {
  return emulator()
    .requests.slice(since)
    .filter((q) => q.path === `/files/${id}.mp4`);
}

/** The files in the test's folder (nothing left behind but what a test expects). */
const leftovers = (prefix: string) => readdirSync(config.dir).filter((f) => f.startsWith(prefix));

describe("a download is saved only when it is the video", () => {
  it("a 200 HTML page (a CDN's sign-in page) is one error line naming it, exit 5, no file and no .part", async () => {
    const { id } = await doneRender();
    const out = join(config.dir, "page.mp4");
    emulator().addFault({ route: "/files/*", fault: { kind: "html", status: 200 } });
    const r = await cli(["watch", id, "--output", out]);
    expect(r.code, r.stderr).toBe(5);
    const host = new URL(emulator().url).host;
    const errorLines = r.stderr.split("\n").filter((l) => l.startsWith("Error:"));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(
      `Error: The download got an HTML page from ${host} (200 text/html), not the video; nothing was saved. `,
    );
    expect(r.stderr).not.toMatch(/Saved|at .*\.js:\d+/);
    expect(leftovers("page.mp4")).toEqual([]);
  });

  it("--json: the error document has code download_not_video; a later good answer downloads normally", async () => {
    const { id, url } = await doneRender();
    const out = join(config.dir, "json.mp4");
    const remove = emulator().addFault({ route: "/files/*", fault: { kind: "html", status: 200 } });
    const r = await cli(["watch", id, "--output", out, "--json"]);
    expect(r.code).toBe(5);
    const doc = ndjson(r.stdout).at(-1)!;
    expect(doc).toMatchObject({ error: { code: "download_not_video" } });
    remove();
    const again = await cli(["watch", id, "--output", out]);
    expect(again.code, again.stderr).toBe(0);
    expect(sha(readFileSync(out))).toBe(sha(await source(url)));
  });

  it("an HTML answer to a resume keeps the .part of real video bytes untouched", async () => {
    const { url } = await doneRender();
    const path = join(config.dir, "keep.mp4");
    const first = (await source(url)).subarray(0, 100_000);
    await writeFile(partPathFor(path), first);
    emulator().addFault({ route: "/files/*", fault: { kind: "html", status: 200 } });
    const err = await downloadFile({ url, path, maxRetries: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe("download_not_video");
    expect(exitCodeFor(err)).toBe(5);
    expect(err.message).toContain("nothing was added to the partial file keep.mp4.part");
    expect((await readFile(partPathFor(path))).equals(first)).toBe(true);
    expect(existsSync(path)).toBe(false);
  });
});

describe("resume always", () => {
  it("without ETag/Last-Modified a connection cut mid-body resumes at the exact byte (Range, no If-Range)", async () => {
    const { id, url } = await doneRender();
    const path = join(config.dir, "cut.mp4");
    const CUT = 777_777; // not on a chunk boundary
    emulator().addFault({ route: "/files/*", fault: { kind: "no-validators" } });
    emulator().addFault({ route: "/files/*", times: 1, fault: { kind: "cut-body", afterBytes: CUT } });
    const before = emulator().requests.length;
    const r = await downloadFile({ url, path, backoffBaseMs: 10 });
    expect(r).toMatchObject({ attempts: 2, resumedFrom: CUT, bytes: SIZE });
    const reqs = fileRequests(id, before);
    expect(reqs.map((q) => [q.status, q.headers.range, q.headers["if-range"]])).toEqual([
      [200, undefined, undefined], // cut after 777 777 bytes
      [206, `bytes=${CUT}-`, undefined], // re-fetched bytes: none
    ]);
    expect(sha(readFileSync(path))).toBe(sha(await source(url)));
  });

  it("a rerun without validators continues from the bytes on disk, checking the total", async () => {
    const { id, url } = await doneRender();
    const path = join(config.dir, "rerun.mp4");
    emulator().addFault({ route: "/files/*", fault: { kind: "no-validators" } });
    const ctl = new AbortController();
    const err = await downloadFile({
      url,
      path,
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.bytes >= 1024 * 1024) ctl.abort();
      },
    }).catch((e) => e);
    expect(err.code).toBe("aborted");
    const kept = statSync(partPathFor(path)).size;
    expect(kept).toBeGreaterThanOrEqual(1024 * 1024);
    const before = emulator().requests.length;
    const r = await downloadFile({ url, path });
    expect(r.resumedFrom).toBe(kept);
    expect(fileRequests(id, before).map((q) => [q.status, q.headers.range, q.headers["if-range"]])).toEqual([
      [206, `bytes=${kept}-`, undefined],
    ]);
    expect(sha(readFileSync(path))).toBe(sha(await source(url)));
  });

  it("a server that ignores Range (200) starts over cleanly and says so", async () => {
    const { url } = await doneRender();
    const path = join(config.dir, "norange.mp4");
    await writeFile(partPathFor(path), (await source(url)).subarray(0, 50_000));
    emulator().addFault({ route: "/files/*", fault: { kind: "ignore-range" } });
    const notices: string[] = [];
    const r = await downloadFile({ url, path, onNotice: (m) => notices.push(m) });
    expect(r).toMatchObject({ resumedFrom: 0, bytes: SIZE, attempts: 1 });
    expect(notices).toEqual([
      `${new URL(url).host} ignored the request to resume at byte 50000; downloading the whole file again`,
    ]);
    expect(sha(readFileSync(path))).toBe(sha(await source(url)));
  });

  it("a changed Content-Range total starts over and says so (CLI: a line on stderr)", async () => {
    const { id, url } = await doneRender();
    const out = join(config.dir, "changed.mp4");
    const ctl = new AbortController();
    await downloadFile({
      url,
      path: out,
      signal: ctl.signal,
      onProgress: (p) => {
        if (p.bytes >= 512 * 1024) ctl.abort();
      },
    }).catch(() => {});
    expect(statSync(partPathFor(out)).size).toBeGreaterThan(0);
    const NEW = SIZE + 4096;
    emulator().addFault({ route: "/files/*", fault: { kind: "resize", sizeBytes: NEW } });
    const r = await cli(["watch", id, "--output", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `The file at ${url} is now 2.0 MiB (${NEW} bytes), not ${SIZE} as when the download began; starting the download over`,
    );
    expect(statSync(out).size).toBe(NEW);
  });
});

describe("patience that matches the server", () => {
  it("the idle timeout counts from the last byte: a trickle longer than it in total succeeds in one attempt", async () => {
    const { url } = await doneRender();
    const path = join(config.dir, "trickle.mp4");
    // 2 MiB in 256 KiB pieces, one every 150 ms: about 1.2 s in all, never idle 600 ms
    emulator().addFault({ route: "/files/*", fault: { kind: "trickle", bytes: 256 * 1024, everyMs: 150 } });
    const t0 = Date.now();
    const r = await downloadFile({ url, path, idleTimeoutMs: 600 });
    expect(Date.now() - t0).toBeGreaterThan(600);
    expect(r).toMatchObject({ attempts: 1, bytes: SIZE });
  });

  it("every attempt continues where the last stopped (three stalls, four attempts, growing ranges)", async () => {
    const { id, url } = await doneRender();
    const path = join(config.dir, "stalls.mp4");
    const N = 300_001;
    emulator().addFault({ route: "/files/*", times: 3, fault: { kind: "stall-body", afterBytes: N } });
    const before = emulator().requests.length;
    const r = await downloadFile({ url, path, idleTimeoutMs: 300, backoffBaseMs: 10, maxRetries: 1 });
    expect(r).toMatchObject({ attempts: 4, resumedFrom: 3 * N, bytes: SIZE });
    expect(fileRequests(id, before).map((q) => q.headers.range)).toEqual([
      undefined,
      `bytes=${N}-`,
      `bytes=${2 * N}-`,
      `bytes=${3 * N}-`,
    ]);
    expect(sha(readFileSync(path))).toBe(sha(await source(url)));
  });

  it("--download-idle-timeout: a first byte slower than it is a stall (exit 5), within it a download", async () => {
    const { id } = await doneRender();
    const out = join(config.dir, "slow.mp4");
    emulator().addFault({ route: "/files/*", fault: { kind: "slow-first-byte", ms: 2500 } });
    const short = await cli(["watch", id, "--output", out, "--download-idle-timeout", "1s"]);
    expect(short.code, short.stderr).toBe(5);
    expect(short.stderr).toMatch(/no data for 1 s/);
    expect(short.stderr).toContain(
      `Resume with: gigareels watch ${id} --output ${out} --download-idle-timeout 1s --base-url ${emulator().url}`,
    );
    const enough = await cli(["watch", id, "--output", out, "--download-idle-timeout", "5s"]);
    expect(enough.code, enough.stderr).toBe(0);
    expect(statSync(out).size).toBe(SIZE);
  }, 90_000);
});

describe("an outputFile that is not http(s)", () => {
  it("file:///etc/passwd is a clear protocol error (exit 5), not a '404 Render not found'; nothing is read", async () => {
    const { id } = await doneRender();
    const out = join(config.dir, "passwd.mp4");
    emulator().addFault({
      route: "/api/render/status/*",
      fault: { kind: "output-file", url: "file:///etc/passwd" },
    });
    const before = emulator().requests.length;
    const r = await cli(["watch", id, "--output", out]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain(
      "Error: The video's address is a file: URL (file:///etc/passwd), not http(s); nothing was downloaded.",
    );
    expect(r.stderr).not.toMatch(/404|not found/i);
    expect(leftovers("passwd.mp4")).toEqual([]);
    // one status look-up per poll; no second look-up of "file:///etc/passwd" as a render id
    expect(
      emulator()
        .requests.slice(before)
        .some((q) => q.path.includes("passwd")),
    ).toBe(false);
  });

  it("the SDK refuses such an address before any request", async () => {
    const client = new GigaReels({ apiKey: key(), baseUrl: emulator().url, maxRetries: 0 });
    const before = emulator().requests.length;
    const err = await client
      .download("file:///etc/passwd", { path: join(config.dir, "x.mp4") })
      .catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.code).toBe("download_unsupported_url");
    expect(err.message).toBe(
      "The video's address is a file: URL (file:///etc/passwd), not http(s); nothing was downloaded",
    );
    expect(emulator().requests.length).toBe(before);
  });
});
