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
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { budgetRenderPacer, type PaceWait } from "../../src/lib/sdk/batch/pacer.js";
import { SharedBudget } from "../../src/lib/sdk/poll/budget.js";
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

describe("render pacing on the shared budget", () => {
  function pacer() {
    const dir = mkdtempSync(join(tmpdir(), "gr-pacer-"));
    let t = 1_000_000;
    const budget = new SharedBudget(`giga_${"a".repeat(32)}`, {
      dir,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
      random: () => 0,
    });
    return {
      budget,
      pacer: budgetRenderPacer(budget),
      now: () => t,
      done: () => rmSync(dir, { recursive: true, force: true }),
    };
  }

  it("9 renders a minute (90 % of 10), then one wait, told once, named by its window", async () => {
    const p = pacer();
    try {
      const waits: PaceWait[] = [];
      for (let i = 0; i < 9; i++) await p.pacer.acquire({ onWait: (w) => waits.push(w) });
      expect(waits).toEqual([]);
      const start = p.now();
      await p.pacer.acquire({ onWait: (w) => waits.push(w) });
      expect(waits).toHaveLength(1);
      expect(waits[0]).toMatchObject({ window: "minute", limit: 10 });
      expect(p.now() - start).toBeGreaterThanOrEqual(59_000);
    } finally {
      p.done();
    }
  });

  it("the server's count stops it too, named by the limit of its headers", async () => {
    const p = pacer();
    try {
      const ticket = await p.pacer.acquire();
      const rl = { limit: 100, remaining: 0, resetAt: p.now() + 5_000, observedAt: p.now() };
      await p.budget.observe("render", { rateLimit: rl }); // what the client records of the answer
      await p.pacer.settle(ticket, rl);
      const waits: PaceWait[] = [];
      await p.pacer.acquire({ onWait: (w) => waits.push(w) });
      expect(waits[0]).toMatchObject({ window: "hour", limit: 100 });
    } finally {
      p.done();
    }
  });
});
