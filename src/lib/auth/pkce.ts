/**
 * PKCE (RFC 7636, S256) and the OAuth `state`, plus the authorize URL of the browser flow
 * (gigareels-api.md part B).
 */
import { createHash, randomBytes } from "node:crypto";

export const CLIENT_ID = "gigareels-cli";
export const CALLBACK_PATH = "/callback";

export interface PkcePair {
  /** 43 characters of the unreserved set, 256 random bits. */
  verifier: string;
  /** BASE64URL(SHA256(verifier)). */
  challenge: string;
  method: "S256";
}

const VERIFIER_PATTERN = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A fresh code verifier: 32 random bytes, base64url (43 characters). */
export function createVerifier(): string {
  return randomBytes(32).toString("base64url");
}

/** The S256 code challenge of a verifier. */
export function challengeFor(verifier: string): string {
  if (!VERIFIER_PATTERN.test(verifier)) {
    throw new RangeError("A PKCE code verifier is 43-128 characters of A-Z a-z 0-9 - . _ ~");
  }
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

export function createPkcePair(): PkcePair {
  const verifier = createVerifier();
  return { verifier, challenge: challengeFor(verifier), method: "S256" };
}

/** A fresh `state`: 256 random bits, base64url. */
export function createState(): string {
  return randomBytes(32).toString("base64url");
}

/** The loopback redirect URI, with the literal 127.0.0.1 (RFC 8252 section 7.3). */
export function loopbackRedirectUri(port: number): string {
  return `http://127.0.0.1:${port}${CALLBACK_PATH}`;
}

export interface AuthorizeUrlInput {
  baseUrl: string;
  redirectUri: string;
  state: string;
  challenge: string;
  clientId?: string;
}

/** `{base}/oauth/authorize?response_type=code&client_id&redirect_uri&state&code_challenge&code_challenge_method=S256`. */
export function buildAuthorizeUrl(input: AuthorizeUrlInput): string {
  const url = new URL("oauth/authorize", withTrailingSlash(input.baseUrl));
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: input.clientId ?? CLIENT_ID,
    redirect_uri: input.redirectUri,
    state: input.state,
    code_challenge: input.challenge,
    code_challenge_method: "S256",
  }).toString();
  return url.toString();
}

function withTrailingSlash(base: string): string {
  return base.endsWith("/") ? base : `${base}/`;
}
