import { describe, expect, it } from "vitest";
import {
  buildAuthorizeUrl,
  CLIENT_ID,
  challengeFor,
  createPkcePair,
  createState,
  createVerifier,
  loopbackRedirectUri,
} from "../../src/lib/auth/pkce.js";

describe("PKCE", () => {
  it("computes the RFC 7636 appendix B challenge", () => {
    expect(challengeFor("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it("makes a fresh 43-character verifier of the unreserved set each time", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const v = createVerifier();
      expect(v).toMatch(/^[A-Za-z0-9\-._~]{43}$/);
      seen.add(v);
    }
    expect(seen.size).toBe(50);
  });

  it("pairs a verifier with its S256 challenge", () => {
    const pair = createPkcePair();
    expect(pair.method).toBe("S256");
    expect(pair.challenge).toBe(challengeFor(pair.verifier));
    expect(pair.challenge).not.toBe(pair.verifier);
  });

  it("refuses verifiers outside 43-128 unreserved characters", () => {
    expect(() => challengeFor("short")).toThrow(RangeError);
    expect(() => challengeFor("a".repeat(129))).toThrow(RangeError);
    expect(() => challengeFor(`${"a".repeat(42)}+`)).toThrow(RangeError);
  });

  it("makes a state of at least 128 random bits, different every time", () => {
    const a = createState();
    const b = createState();
    expect(a).not.toBe(b);
    expect(Buffer.from(a, "base64url").length * 8).toBeGreaterThanOrEqual(128);
  });
});

describe("authorize URL", () => {
  it("carries every parameter of the contract with the literal 127.0.0.1 redirect", () => {
    const redirectUri = loopbackRedirectUri(54321);
    expect(redirectUri).toBe("http://127.0.0.1:54321/callback");
    const url = new URL(
      buildAuthorizeUrl({ baseUrl: "http://127.0.0.1:3000", redirectUri, state: "st&te", challenge: "ch" }),
    );
    expect(url.origin + url.pathname).toBe("http://127.0.0.1:3000/oauth/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: CLIENT_ID,
      redirect_uri: redirectUri,
      state: "st&te",
      code_challenge: "ch",
      code_challenge_method: "S256",
    });
  });

  it("keeps a base URL's path prefix", () => {
    const url = buildAuthorizeUrl({
      baseUrl: "https://example.test/gr/",
      redirectUri: "http://127.0.0.1:1/callback",
      state: "s",
      challenge: "c",
    });
    expect(url.startsWith("https://example.test/gr/oauth/authorize?")).toBe(true);
  });
});
