/** The human form of `status`: ✓/X/! lines, colour only when asked, keys only masked. */
import { describe, expect, it } from "vitest";
import { formatStatus } from "../../src/lib/account/format.js";
import type { ProfileStatus, StatusReport } from "../../src/lib/account/status.js";

const KEY = `giga_${"Q".repeat(28)}zz42`;

function report(p: Partial<ProfileStatus>): StatusReport {
  const profile: ProfileStatus = {
    profile: "default",
    active: true,
    authenticated: true,
    key: {
      found: true,
      source: "env",
      origin: "GIGAREELS_API_KEY",
      masked: "giga_****zz42",
      id: null,
      createdAt: null,
      ageDays: null,
      rotationDue: false,
    },
    baseUrl: "https://gigareels.com",
    baseUrlSource: "default",
    host: "gigareels.com",
    account: { id: "acct_1", email: "ada@example.com", name: "Ada", plan: "pro" },
    check: { result: "valid", httpStatus: 200, reason: null, message: null, rateLimit: null },
    warnings: [],
    fix: [],
    errorCode: null,
    ...p,
  };
  return {
    version: 1,
    offline: false,
    ok: profile.errorCode === null,
    activeProfile: "default",
    credentialsFile: "/x/credentials.json",
    profiles: [profile],
  };
}

describe("formatStatus", () => {
  it("a valid key: a ✓ line under the host, then the details", () => {
    const text = formatStatus(report({}), { now: 0 });
    expect(text.split("\n")).toEqual([
      "gigareels.com (profile default, active)",
      "  ✓ Logged in to gigareels.com as ada@example.com (Ada, plan pro)",
      "  - Key: giga_****zz42 from GIGAREELS_API_KEY",
      "  - Base URL: https://gigareels.com",
    ]);
  });

  it("colour only when asked", () => {
    expect(formatStatus(report({}))).not.toContain("\u001b[");
    expect(formatStatus(report({}), { color: true })).toContain("\u001b[32m✓\u001b[39m");
    const bad = report({
      check: {
        result: "rejected",
        httpStatus: 401,
        reason: "unauthorized",
        message: "401 Invalid API key",
        rateLimit: null,
      },
    });
    expect(formatStatus(bad, { color: true })).toContain("\u001b[31mX\u001b[39m");
  });

  it("rate-limit figures, warnings and the fix", () => {
    const text = formatStatus(
      report({
        check: {
          result: "valid",
          httpStatus: 200,
          reason: null,
          message: null,
          rateLimit: { limit: 60, remaining: 59, resetAt: new Date(42_000).toISOString() },
        },
        warnings: [{ code: "key-rotation", message: "The key is 100 days old" }],
        fix: ["do this", "or that"],
      }),
      { now: 0 },
    );
    expect(text).toContain("  - Rate limit: 59 of 60 requests left, resets in 42 s");
    expect(text).toContain("  ! The key is 100 days old");
    expect(text).toContain("  - To fix: do this, or that");
  });

  it("the fixes read as sentences: a capitalised one after a full stop, an 'or ...' one after a comma", () => {
    const text = formatStatus(
      report({ fix: ["Check your connection", "Try again in a moment", "or use the emulator"] }),
      {
        now: 0,
      },
    );
    expect(text.split("\n")).toContain(
      "  - To fix: Check your connection. Try again in a moment, or use the emulator",
    );
  });

  it("never prints a full key, even one that slipped into a message", () => {
    const text = formatStatus(
      report({
        check: {
          result: "error",
          httpStatus: 500,
          reason: "unexpected",
          message: `echoed ${KEY}`,
          rateLimit: null,
        },
      }),
    );
    expect(text).not.toContain(KEY);
    expect(text).toContain("giga_****zz42");
  });
});
