/**
 * One error root: every error class the package entry exports extends GigaReelsError; the
 * status -> class mapping is APIError.generate; a corrupt credentials.json read through the
 * SDK is a GigaReelsError; an unexpected error is shown by the CLI as a BugError.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import * as entry from "../../src/index.js";
import { renderError } from "../../src/lib/cli/base-command.js";
import { UsageError as CliUsageError } from "../../src/lib/cli/usage-error.js";

const {
  APIError,
  AuthenticationError,
  BadRequestError,
  BugError,
  CredentialsCorruptError,
  GigaReels,
  GigaReelsError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
} = entry;

const dir = mkdtempSync(join(tmpdir(), "gigareels-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the error root", () => {
  it("every error class the entry exports extends GigaReelsError", () => {
    const classes = Object.entries(entry).filter(
      ([name, v]) => typeof v === "function" && /(Error|Failure)$/.test(name),
    ) as [string, new (...a: never[]) => unknown][];
    // the errors of the credential store, the lock, the proxy, downloads, outages, usage, bugs
    for (const name of [
      "CredentialsError",
      "CredentialsCorruptError",
      "KeychainFailure",
      "LockTimeoutError",
      "ProxyError",
      "DownloadError",
      "OutageError",
      "UsageError",
      "BugError",
      "InvalidApiKeyError",
      "MissingApiKeyError",
    ]) {
      expect(classes.map(([n]) => n)).toContain(name);
    }
    const outside = classes.filter(
      ([, C]) => C !== GigaReelsError && !(C.prototype instanceof GigaReelsError),
    );
    expect(outside.map(([n]) => n)).toEqual([]);
  });

  it("the CLI's UsageError is the SDK's", () => {
    expect(CliUsageError).toBe(entry.UsageError);
    const e = new CliUsageError("bad flag", ["use --x"]);
    expect(e).toBeInstanceOf(GigaReelsError);
    expect(e).toMatchObject({ code: "usage", suggestions: ["use --x"], name: "UsageError" });
  });

  it("a corrupt credentials.json read through the SDK is a GigaReelsError", async () => {
    writeFileSync(join(dir, "credentials.json"), "{not json", { mode: 0o600 });
    const client = new GigaReels({ env: { GIGAREELS_CONFIG_DIR: dir, GIGAREELS_CREDENTIAL_STORE: "file" } });
    const err = await client.me().catch((e) => e);
    expect(err).toBeInstanceOf(CredentialsCorruptError);
    expect(err).toBeInstanceOf(GigaReelsError);
    expect(err.code).toBe("credentials_corrupt");
  });
});

describe("APIError.generate", () => {
  it.each([
    [400, BadRequestError, "bad_request"],
    [422, BadRequestError, "bad_request"],
    [401, AuthenticationError, "authentication_error"],
    [403, PermissionDeniedError, "permission_denied"],
    [404, NotFoundError, "not_found"],
    [429, RateLimitError, "rate_limited"],
    [500, ServerError, "server_error"],
    [503, ServerError, "server_error"],
    [409, APIError, "api_error"],
  ] as const)("%i -> %o", (status, Class, code) => {
    const e = APIError.generate(status, `${status} text`, { url: "https://x/api/me", method: "GET" });
    expect(e).toBeInstanceOf(Class);
    expect(e.constructor).toBe(Class);
    expect(e).toMatchObject({ status, code, message: `${status} text`, url: "https://x/api/me" });
  });
  it("a 429 carries the server's wait and says it; a 401 from the server was sent", () => {
    const e = APIError.generate(429, "429 slow down", { retryAfterMs: 2000 }) as InstanceType<
      typeof RateLimitError
    >;
    expect(e.retryAfterMs).toBe(2000);
    expect(e.suggestions[0]).toMatch(/^Wait 2(\.0)? ?s/);
    const a = APIError.generate(401, "401 Invalid API key") as InstanceType<typeof AuthenticationError>;
    expect(a.detectedBeforeSending).toBe(false);
  });
});

describe("BugError", () => {
  afterEach(() => vi.restoreAllMocks());
  it("the CLI shows an error that is not ours as a bug to report (exit 1, code bug)", () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((s) => {
      lines.push(String(s));
      return true;
    });
    const code = renderError(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(code).toBe(1);
    expect(lines.join("")).toMatch(
      /^Error: Unexpected error: Cannot read properties of undefined \(reading 'x'\)\. This is a bug in gigareels: please report it/,
    );
    const docs: unknown[] = [];
    renderError(new RangeError("boom"), (d) => docs.push(d));
    expect(docs[0]).toMatchObject({ error: { code: "bug", exitCode: 1 } });
  });
  it("our own errors are shown as they are", () => {
    const docs: unknown[] = [];
    renderError(new NotFoundError("404 Render not found", { status: 404 }), (d) => docs.push(d));
    expect(docs[0]).toMatchObject({ error: { code: "not_found", message: "404 Render not found" } });
    expect(BugError.from(new Error("x"))).toBeInstanceOf(GigaReelsError);
  });
});
