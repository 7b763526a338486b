/** src/lib/api: what `gigareels api` sends for its arguments, and how it prints an answer. */
import { describe, expect, it } from "vitest";
import { buildApiRequest, formatBody, formatHead, toResult } from "../../src/lib/api/index.js";
import type { RawResponse } from "../../src/lib/sdk/transport.js";

const files: Record<string, string> = { "body.json": '{"a":1}', "prompt.txt": "Explain black holes\n" };
const sources = {
  readFile: async (p: string) => {
    if (!(p in files)) throw Object.assign(new Error("nope"), { code: "ENOENT" });
    return new TextEncoder().encode(files[p]);
  },
  readStdin: async () => new TextEncoder().encode('{"from":"stdin"}'),
};
const build = (args: Parameters<typeof buildApiRequest>[0]) => buildApiRequest(args, sources);

describe("buildApiRequest", () => {
  it("PATH alone is a GET; fields make it a POST with a JSON body, typed like gh's -F", async () => {
    expect(await build({ first: "/api/me" })).toEqual({
      method: "GET",
      path: "/api/me",
      query: {},
      headers: {},
    });
    expect(await build({ first: "api/me" })).toMatchObject({ path: "/api/me" });
    const r = await build({
      first: "/api/render",
      fields: [
        "type=educational-brainrot",
        "count=3",
        "draft=true",
        "note=null",
        "prompt=@prompt.txt",
        "big=99999999999999999999",
      ],
      rawFields: ["label=42"],
    });
    expect(r.method).toBe("POST");
    expect(r.json).toEqual({
      type: "educational-brainrot",
      count: 3,
      draft: true,
      note: null,
      prompt: "Explain black holes\n",
      big: "99999999999999999999",
      label: "42",
    });
  });

  it("key[sub]=v nests and key[]=v appends; a GET puts them in the query string", async () => {
    const post = await build({
      first: "POST",
      second: "/api/render/text",
      fields: ["textStyle[fontSize]=48", "textStyle[color]=#FFFFFF", "tags[]=a", "tags[]=b", "empty[]"],
    });
    expect(post.json).toEqual({ textStyle: { fontSize: 48, color: "#FFFFFF" }, tags: ["a", "b"], empty: [] });
    const get = await build({
      first: "get",
      second: "/api/social-media/posts",
      fields: ["limit=5", "ids[]=1", "ids[]=2"],
    });
    expect(get).toMatchObject({ method: "GET", query: { limit: ["5"], "ids[]": ["1", "2"] } });
    expect(get.json).toBeUndefined();
  });

  it("--input is the body (file or stdin), fields then go in the query string; Idempotency-Key makes a POST retryable", async () => {
    const r = await build({
      first: "/api/social-media/posts",
      input: "body.json",
      fields: ["dryRun=true"],
      headers: ["Idempotency-Key: k-1", "X-Trace: t"],
    });
    expect(r.method).toBe("POST");
    expect(new TextDecoder().decode(r.body)).toBe('{"a":1}');
    expect(r).toMatchObject({
      query: { dryRun: ["true"] },
      headers: { "content-type": "application/json", "x-trace": "t" },
      idempotencyKey: "k-1",
    });
    const stdin = await build({
      first: "PUT",
      second: "/x",
      input: "-",
      headers: ["Content-Type: text/plain"],
    });
    expect(new TextDecoder().decode(stdin.body)).toBe('{"from":"stdin"}');
    expect(stdin.headers["content-type"]).toBe("text/plain");
  });

  it("mistakes are usage errors naming the flag, never echoing a header's value", async () => {
    const cases: Array<[Parameters<typeof buildApiRequest>[0], RegExp]> = [
      [{ first: "FETCH", second: "/api/me" }, /"FETCH" is not an HTTP method/],
      [{ first: "POST" }, /Missing PATH after POST/],
      [{ first: "/x", fields: ["novalue"] }, /--field expects key=value/],
      [{ first: "/x", fields: ["=v"] }, /--field has an empty key/],
      [{ first: "/x", fields: ["a=1", "a[b]=2"] }, /given both as a value and as a group/],
      [{ first: "/x", input: "missing.json" }, /--input: cannot read missing\.json \(no such file\)/],
      [{ first: "/x", fields: ["p=@missing.txt"] }, /--field: cannot read missing\.txt/],
      [{ first: "GET", second: "/x", input: "body.json" }, /a GET request cannot carry/],
      [{ first: "/x", headers: ["no colon"] }, /--header expects "Name: value"/],
    ];
    for (const [args, re] of cases) {
      await expect(build(args), JSON.stringify(args)).rejects.toMatchObject({
        code: "usage",
        message: expect.stringMatching(re),
      });
    }
    const secret = "giga_abcdefghijklmnopqrstuvwxyz012345";
    const err = await build({ first: "/x", headers: [`Authorization: Bearer ${secret}`] }).catch(
      (e: Error & { suggestions: string[] }) => e,
    );
    expect(err).toMatchObject({ code: "usage" });
    expect(
      `${(err as Error).message} ${(err as { suggestions: string[] }).suggestions.join(" ")}`,
    ).not.toContain("abcdefgh");
    await expect(build({ first: "/x", headers: ["Host: evil"] })).rejects.toMatchObject({ code: "usage" });
  });
});

function raw(status: number, headers: Record<string, string>, body: string | Uint8Array): RawResponse {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return {
    status,
    statusText: status === 200 ? "OK" : "Not Found",
    headers,
    body: bytes,
    url: "http://127.0.0.1:3000/api/me",
    method: "GET",
    attempts: 1,
    text: () => new TextDecoder().decode(bytes),
  };
}

describe("printing an answer", () => {
  const key = "giga_ABCDEFGHIJKLMNOPQRSTUVWXYZ123456";

  it("JSON is indented for a terminal and passed through as received when piped; keys are masked either way", () => {
    const r = raw(200, { "content-type": "application/json" }, `{"access_token":"${key}","n":1}`);
    const result = toResult(r);
    expect(result).toMatchObject({ bodyKind: "json", body: { access_token: "giga_****3456", n: 1 } });
    expect(formatBody(r, result, true)).toBe('{\n  "access_token": "giga_****3456",\n  "n": 1\n}\n');
    expect(formatBody(r, result, false)).toBe('{"access_token":"giga_****3456","n":1}');
  });

  it("--include: the status line and sorted, canonical headers, then a blank line", () => {
    const r = raw(404, { "x-ratelimit-remaining": "9", "content-type": "application/json" }, "{}");
    expect(formatHead(toResult(r))).toBe(
      "HTTP/1.1 404 Not Found\nContent-Type: application/json\nX-Ratelimit-Remaining: 9\n\n",
    );
  });

  it("text stays text, binary stays bytes (base64 in --json), empty is empty", () => {
    const t = raw(200, { "content-type": "text/plain" }, "hello");
    expect(toResult(t)).toMatchObject({ bodyKind: "text", body: "hello" });
    expect(formatBody(t, toResult(t), true)).toBe("hello\n");
    const bin = new Uint8Array([0, 159, 146, 150, 255]);
    const b = raw(200, { "content-type": "video/mp4" }, bin);
    expect(toResult(b)).toMatchObject({ bodyKind: "binary", body: Buffer.from(bin).toString("base64") });
    expect(formatBody(b, toResult(b), true)).toBe(b.body);
    expect(toResult(raw(204, {}, ""))).toMatchObject({ bodyKind: "empty", body: null });
  });
});
