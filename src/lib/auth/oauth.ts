/**
 * The OAuth calls of login (gigareels-api.md part B): the authorization-code exchange, the
 * device authorization request, and the device-token poll. They take an `OAuthPost`, the
 * SDK transport's keyless form POST, so every HTTP call goes through the one transport.
 */
import { isValidKeyFormat } from "../credentials/key-format.js";
import type { Account } from "../credentials/types.js";
import { MalformedResponseError } from "../sdk/errors.js";
import { sleep as sdkSleep } from "../sdk/transport.js";
import { LoginDeniedError, LoginExpiredError, TokenExchangeError } from "./errors.js";
import { CLIENT_ID } from "./pkce.js";

/** A keyless form-encoded POST to `{base}{path}`: the status and the parsed JSON body (or undefined). */
export type OAuthPost = (
  path: string,
  form: Record<string, string>,
  signal?: AbortSignal,
) => Promise<{ status: number; body: unknown }>;

export interface IssuedKey {
  /** The new API key. Never print it. */
  key: string;
  keyId?: string;
  account: Account;
}

export const TOKEN_PATH = "/api/oauth/token";
export const DEVICE_CODE_PATH = "/api/oauth/device/code";
export const REVOKE_PATH = "/api/oauth/revoke";
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Reads a successful token answer; the key must look like a GigaReels key. */
export function parseIssuedKey(body: unknown): IssuedKey {
  if (!isObject(body) || typeof body.access_token !== "string" || !isValidKeyFormat(body.access_token)) {
    throw new MalformedResponseError("The token answer did not carry a GigaReels API key", {
      suggestions: ["Check --base-url, then run gigareels login again"],
    });
  }
  const account = isObject(body.account) ? body.account : {};
  return {
    key: body.access_token,
    keyId: str(body.key_id),
    account: {
      id: str(account.id) ?? "",
      email: str(account.email) ?? "",
      ...(str(account.name) ? { name: str(account.name) } : {}),
    },
  };
}

/** The RFC 6749 error word and description of a 4xx body, or undefined. */
export function oauthError(body: unknown): { error: string; description?: string } | undefined {
  if (!isObject(body) || typeof body.error !== "string") return undefined;
  return { error: body.error, description: str(body.error_description) };
}

function describe(status: number, body: unknown): string {
  const e = oauthError(body);
  if (!e) return `${status}`;
  return `${status} ${e.error}${e.description ? `: ${e.description}` : ""}`;
}

export interface CodeExchange {
  code: string;
  redirectUri: string;
  verifier: string;
  clientId?: string;
}

/** Exchanges an authorization code (with its PKCE verifier) for a key. */
export async function exchangeCode(
  post: OAuthPost,
  input: CodeExchange,
  signal?: AbortSignal,
): Promise<IssuedKey> {
  const { status, body } = await post(
    TOKEN_PATH,
    {
      grant_type: "authorization_code",
      code: input.code,
      redirect_uri: input.redirectUri,
      client_id: input.clientId ?? CLIENT_ID,
      code_verifier: input.verifier,
    },
    signal,
  );
  if (status >= 200 && status < 300) return parseIssuedKey(body);
  const e = oauthError(body);
  if (e?.error === "access_denied") throw new LoginDeniedError();
  throw new TokenExchangeError(`The server refused the login code (${describe(status, body)})`, {
    suggestions: ["Run gigareels login again"],
  });
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  /** The bare verification URL (print this one). */
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds. */
  expiresIn: number;
  /** Seconds between polls (RFC 8628 default 5). */
  interval: number;
}

export async function requestDeviceCode(
  post: OAuthPost,
  options: { clientId?: string; signal?: AbortSignal } = {},
): Promise<DeviceAuthorization> {
  const { status, body } = await post(
    DEVICE_CODE_PATH,
    { client_id: options.clientId ?? CLIENT_ID },
    options.signal,
  );
  if (status < 200 || status >= 300) {
    throw new TokenExchangeError(`The server refused to start a device login (${describe(status, body)})`, {
      suggestions: ["Use gigareels login --web, or pipe a key into gigareels login --with-token"],
    });
  }
  if (!isObject(body) || !str(body.device_code) || !str(body.user_code) || !str(body.verification_uri)) {
    throw new MalformedResponseError(
      "The device login answer lacked device_code, user_code or verification_uri",
    );
  }
  const num = (v: unknown, dflt: number) =>
    typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : dflt;
  return {
    deviceCode: body.device_code as string,
    userCode: body.user_code as string,
    verificationUri: body.verification_uri as string,
    verificationUriComplete: str(body.verification_uri_complete),
    expiresIn: num(body.expires_in, 600),
    interval: num(body.interval, 5),
  };
}

const TRANSIENT = new Set(["server_error", "connection_error", "timeout", "rate_limited"]);

/** Sleeps `ms`; rejects when the signal fires. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface PollOptions {
  clientId?: string;
  signal?: AbortSignal;
  /** Injected in tests. Default: a real, abortable sleep. */
  sleep?: Sleep;
  /** Default Date.now. */
  now?: () => number;
  /** Added to the interval on slow_down. Default 5000 ms (RFC 8628 section 3.5). */
  slowDownMs?: number;
  /** Called before each wait, with the wait in ms (for progress and tests). */
  onWait?: (ms: number) => void;
}

/**
 * Polls the token endpoint at the server's interval until the person approves (the key),
 * denies (LoginDeniedError), or the code expires (LoginExpiredError). `slow_down` adds
 * `slowDownMs` to the interval for the rest of the wait.
 */
export async function pollDeviceToken(
  post: OAuthPost,
  auth: DeviceAuthorization,
  options: PollOptions = {},
): Promise<IssuedKey> {
  const sleep = options.sleep ?? sdkSleep;
  const now = options.now ?? Date.now;
  const slowDownMs = options.slowDownMs ?? 5000;
  const expiresAt = now() + auth.expiresIn * 1000;
  let intervalMs = Math.max(0, auth.interval * 1000);
  for (;;) {
    if (now() >= expiresAt) throw new LoginExpiredError();
    options.onWait?.(intervalMs);
    await sleep(intervalMs, options.signal);
    if (now() >= expiresAt) throw new LoginExpiredError();
    let answer: { status: number; body: unknown };
    try {
      answer = await post(
        TOKEN_PATH,
        { grant_type: DEVICE_GRANT, device_code: auth.deviceCode, client_id: options.clientId ?? CLIENT_ID },
        options.signal,
      );
    } catch (err) {
      // A busy, unreachable or slow server for one poll: keep polling until the code expires.
      if (!options.signal?.aborted && TRANSIENT.has((err as { code?: string }).code ?? "")) continue;
      throw err;
    }
    const { status, body } = answer;
    if (status >= 200 && status < 300) return parseIssuedKey(body);
    const e = oauthError(body);
    switch (e?.error) {
      case "authorization_pending":
        continue;
      case "slow_down":
        intervalMs += slowDownMs;
        continue;
      case "access_denied":
        throw new LoginDeniedError("The login was denied on the device page");
      case "expired_token":
        throw new LoginExpiredError();
    }
    // A busy or briefly failing server: keep polling until the code expires.
    if (status === 429 || status >= 500) continue;
    throw new TokenExchangeError(`The server refused the device login (${describe(status, body)})`, {
      suggestions: ["Run gigareels login again"],
    });
  }
}

/** Revokes a key (RFC 7009). The server answers 200 whether or not the key existed. */
export async function revokeKey(
  post: OAuthPost,
  key: string,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const { status, body } = await post(REVOKE_PATH, { token: key }, options.signal);
  if (status < 200 || status >= 300) {
    throw new TokenExchangeError(`The server did not revoke the key (${describe(status, body)})`);
  }
}
