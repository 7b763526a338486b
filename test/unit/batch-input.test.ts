/** The batch input parsers (CSV per RFC 4180, JSONL) and the pacing rules, as pure functions. */
import { describe, expect, it } from "vitest";
import {
  BatchInputError,
  detectFormat,
  formatBatch,
  parseBatchText,
  parseCsvBatch,
  parseJsonl,
} from "../../src/lib/sdk/batch/input.js";
import { decide, record, reserveOf } from "../../src/lib/sdk/batch/pacer.js";
import { lineIdempotencyKey, submissionHash } from "../../src/lib/sdk/batch/state.js";

describe("CSV", () => {
  it("reads quotes, commas, doubled quotes, line breaks inside quotes, CRLF and a BOM", () => {
    const text =
      '\uFEFFprompt,characterPack\r\n"Cats, explained",rick-and-morty\r\n"She said ""hi""\nthen left",x\r\nplain,y\r\n';
    const b = parseCsvBatch(text);
    expect(b.columns).toEqual(["prompt", "characterPack"]);
    expect(b.records).toEqual([
      { line: 2, fields: { prompt: "Cats, explained", characterPack: "rick-and-morty" } },
      { line: 3, fields: { prompt: 'She said "hi"\nthen left', characterPack: "x" } },
      { line: 5, fields: { prompt: "plain", characterPack: "y" } },
    ]);
  });

  it("skips blank rows, keeps empty cells, accepts no final newline", () => {
    const b = parseCsvBatch("a,b\n\n1,\n,2");
    expect(b.records).toEqual([
      { line: 3, fields: { a: "1", b: "" } },
      { line: 4, fields: { a: "", b: "2" } },
    ]);
  });

  it("names the line of a row with the wrong number of fields, or an unclosed quote", () => {
    expect(() => parseCsvBatch("prompt,type\nCats, explained,x\n")).toThrow(
      /line 2 has 3 fields, the header 2/,
    );
    expect(() => parseCsvBatch('prompt\nok\n"never closed\nmore\n')).toThrow(
      /line 3: a quoted field is never closed/,
    );
    expect(() => parseCsvBatch("prompt,prompt\n")).toThrow(BatchInputError);
  });

  it("writes records back so they read the same", () => {
    const b = parseCsvBatch('prompt,n\n"a, ""b""\nc",1\n d ,2\n');
    expect(parseCsvBatch(formatBatch("csv", b.columns, b.records)).records.map((r) => r.fields)).toEqual(
      b.records.map((r) => r.fields),
    );
  });
});

describe("JSONL", () => {
  it("one object a line, blank lines skipped, bad lines named", () => {
    expect(parseJsonl('{"prompt":"a"}\n\n{"prompt":"b"}\n').records).toEqual([
      { line: 1, fields: { prompt: "a" } },
      { line: 3, fields: { prompt: "b" } },
    ]);
    expect(() => parseJsonl('{"prompt":"a"}\n{oops\n')).toThrow(/line 2 is not valid JSON/);
    expect(() => parseJsonl('{"prompt":"a"}\n["x"]\n')).toThrow(/line 2 must be a JSON object/);
  });

  it("detects the format from the name, else the first character", () => {
    expect(detectFormat("a.csv", "{")).toBe("csv");
    expect(detectFormat("a.jsonl", "prompt")).toBe("jsonl");
    expect(detectFormat(undefined, '\uFEFF  {"prompt":1}')).toBe("jsonl");
    expect(detectFormat("-", "prompt\nx")).toBe("csv");
    expect(parseBatchText('{"a":1}', "jsonl").records).toHaveLength(1);
  });
});

describe("idempotency keys", () => {
  it("the same batch, line and body give the same key; a changed body or a retry another", () => {
    const h = submissionHash("/api/render", { prompt: "a", type: "t" });
    expect(submissionHash("/api/render", { type: "t", prompt: "a" })).toBe(h);
    expect(lineIdempotencyKey("b1", 3, 1, h)).toBe(lineIdempotencyKey("b1", 3, 1, h));
    expect(lineIdempotencyKey("b1", 3, 2, h)).not.toBe(lineIdempotencyKey("b1", 3, 1, h));
    expect(lineIdempotencyKey("b1", 3, 1, submissionHash("/api/render", { prompt: "b" }))).not.toBe(
      lineIdempotencyKey("b1", 3, 1, h),
    );
    expect(lineIdempotencyKey("b1", 3, 1, h)).toMatch(/^[\x21-\x7e]{1,255}$/);
  });
});

describe("pacing rules", () => {
  it("one probe at a time without headers; then what is left above the reserve; then the reset", () => {
    const file = { version: 1 as const, sends: [] as number[] };
    expect(decide(file, 1000)).toEqual({ grant: true });
    expect(decide(file, 1001).grant).toBe(false); // the probe is out
    record(file, { at: 1000 }, { limit: 10, remaining: 9, resetAt: 61_000, observedAt: 1010 });
    const granted = [];
    for (let t = 1100; t < 1200; t++) if (decide(file, t).grant) granted.push(t);
    expect(granted).toHaveLength(9 - reserveOf(10)); // 9 left, 1 kept back: 8 more (9 with the probe)
    const d = decide(file, 2000);
    expect(d).toMatchObject({ grant: false, wait: { window: "minute", limit: 10, until: 61_100 } });
    // After the reset: a probe again.
    expect(decide(file, 61_200)).toEqual({ grant: true });
  });

  it("a server without rate-limit headers: 9 creations a minute, then a wait for the oldest to age out", () => {
    const file = { version: 1 as const, sends: [] as number[] };
    let t = 0;
    for (let i = 0; i < 9; i++) {
      expect(decide(file, t)).toEqual({ grant: true });
      record(file, { at: t }, undefined); // the answer carried no headers
      t += 1000;
    }
    expect(decide(file, t)).toMatchObject({ grant: false, wait: { window: "minute", until: 60_000 } });
    expect(decide(file, 60_001)).toEqual({ grant: true });
  });

  it("keeps a tenth of a larger window back and names it", () => {
    const file = { version: 1 as const, sends: [] as number[] };
    record(file, { at: 0 }, { limit: 100, remaining: 10, resetAt: 3_600_000, observedAt: 1 });
    expect(decide(file, 5)).toMatchObject({ grant: false, wait: { window: "hour" } });
  });
});
