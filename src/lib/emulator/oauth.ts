/**
 * Browser login (gigareels-api.md, part B): the authorization code grant with PKCE S256 and
 * a loopback redirect, the device authorization grant, and token revocation.
 */
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { escapeHtml, html, json, page, type Reply, redirect } from "./http.js";
import { DEMO_EMAIL, type KeyStore, randomAlphanumeric } from "./keys.js";

export const CLIENT_ID = "gigareels-cli";
export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

export interface OAuthOptions {
  keys: KeyStore;
  baseUrl: () => string;
  autoApprove: boolean;
  codeTtlMs: number;
  deviceIntervalSeconds: number;
  now?: () => number;
}

interface AuthCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  email: string;
  expiresAt: number;
  used: boolean;
}

interface DeviceGrant {
  deviceCode: string;
  userCode: string;
  clientId: string;
  expiresAt: number;
  intervalMs: number;
  lastPollAt?: number;
  state: "pending" | "approved" | "denied" | "consumed";
  email?: string;
}

function oauthError(status: number, error: string, description: string): Reply {
  return json(
    status,
    { error, error_description: description },
    { "cache-control": "no-store", pragma: "no-cache" },
  );
}

/** base64url(SHA-256(verifier)), RFC 7636 section 4.2. */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** A loopback redirect URI per RFC 8252 section 7.3: http, 127.0.0.1/localhost/[::1], a port, /callback. */
export function isLoopbackRedirect(uri: string): boolean {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  return (
    u.protocol === "http:" &&
    ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname) &&
    u.port !== "" &&
    u.pathname === "/callback" &&
    u.username === "" &&
    u.password === "" &&
    u.hash === ""
  );
}

function withQuery(uri: string, params: Record<string, string>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

function normalizeUserCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z]/g, "");
}

const AUTHORIZE_PARAMS = [
  "response_type",
  "client_id",
  "redirect_uri",
  "state",
  "code_challenge",
  "code_challenge_method",
] as const;

export class OAuthServer {
  private readonly codes = new Map<string, AuthCode>();
  private readonly devices = new Map<string, DeviceGrant>();
  private readonly now: () => number;

  constructor(private readonly o: OAuthOptions) {
    this.now = o.now ?? Date.now;
  }

  // ---- authorization code + PKCE ----

  /** Null when the request is acceptable; else the problem (and whether it may be redirected). */
  private checkAuthorize(p: Record<string, string>): { message: string; redirectable: boolean } | null {
    if (p.client_id !== CLIENT_ID)
      return {
        message: `Unknown client_id "${p.client_id ?? ""}" (expected ${CLIENT_ID}).`,
        redirectable: false,
      };
    if (!p.redirect_uri || !isLoopbackRedirect(p.redirect_uri))
      return {
        message: "redirect_uri must be a loopback address such as http://127.0.0.1:PORT/callback.",
        redirectable: false,
      };
    if (p.response_type !== "code") return { message: "response_type must be code.", redirectable: true };
    if (!p.state) return { message: "state is required.", redirectable: true };
    if (!p.code_challenge || !/^[A-Za-z0-9_-]{43,128}$/.test(p.code_challenge))
      return { message: "code_challenge is required (base64url, 43 to 128 characters).", redirectable: true };
    if (p.code_challenge_method !== "S256")
      return { message: "code_challenge_method must be S256.", redirectable: true };
    return null;
  }

  private errorPage(status: number, message: string): Reply {
    return html(
      status,
      page("Sign-in request not valid", `<p class="error" id="error">${escapeHtml(message)}</p>`),
    );
  }

  private issueCode(p: Record<string, string>, email: string): string {
    const code = randomBytes(24).toString("base64url");
    this.codes.set(code, {
      clientId: p.client_id!,
      redirectUri: p.redirect_uri!,
      challenge: p.code_challenge!,
      email,
      expiresAt: this.now() + this.o.codeTtlMs,
      used: false,
    });
    return code;
  }

  /** GET /oauth/authorize */
  authorizePage(query: URLSearchParams): Reply {
    const p: Record<string, string> = {};
    for (const name of AUTHORIZE_PARAMS) {
      const v = query.get(name);
      if (v !== null) p[name] = v;
    }
    const problem = this.checkAuthorize(p);
    if (problem) {
      // Errors with a trustworthy redirect_uri go back to the client (RFC 6749 section 4.1.2.1).
      if (problem.redirectable && p.redirect_uri) {
        return redirect(
          withQuery(p.redirect_uri, {
            error: "invalid_request",
            error_description: problem.message,
            ...(p.state ? { state: p.state } : {}),
          }),
        );
      }
      return this.errorPage(400, problem.message);
    }
    if (this.o.autoApprove) {
      return redirect(withQuery(p.redirect_uri!, { code: this.issueCode(p, DEMO_EMAIL), state: p.state! }));
    }
    const hidden = AUTHORIZE_PARAMS.map(
      (n) => `<input type="hidden" name="${n}" value="${escapeHtml(p[n] ?? "")}">`,
    ).join("\n");
    return html(
      200,
      page(
        "Sign in to GigaReels",
        `<p><strong>GigaReels CLI</strong> (${escapeHtml(CLIENT_ID)}) wants to access your GigaReels account.
It will receive a new API key for this machine.</p>
<form method="post" action="/oauth/authorize">
${hidden}
<label for="email">Email</label>
<input id="email" name="email" type="email" value="${escapeHtml(DEMO_EMAIL)}" autocomplete="email">
<button id="approve" name="decision" value="approve" type="submit">Approve</button>
<button id="deny" name="decision" value="deny" type="submit">Deny</button>
</form>`,
      ),
    );
  }

  /** POST /oauth/authorize (the form on the page). */
  authorizeDecision(form: Record<string, string>): Reply {
    const problem = this.checkAuthorize(form);
    if (problem) return this.errorPage(400, problem.message);
    if (form.decision === "deny") {
      return redirect(withQuery(form.redirect_uri!, { error: "access_denied", state: form.state! }));
    }
    if (form.decision !== "approve") return this.errorPage(400, "Choose Approve or Deny.");
    const email = (form.email ?? "").trim() || DEMO_EMAIL;
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) return this.errorPage(400, "Enter a valid email address.");
    return redirect(withQuery(form.redirect_uri!, { code: this.issueCode(form, email), state: form.state! }));
  }

  // ---- token endpoint ----

  private issueKey(email: string, form: Record<string, string>): Reply {
    const machine = (form.device_name || form.key_name || hostname()).slice(0, 100);
    const info = this.o.keys.create({ email, keyName: `GigaReels CLI on ${machine}` });
    return json(
      200,
      { access_token: info.key, token_type: "Bearer", key_id: info.id, account: info.account },
      { "cache-control": "no-store", pragma: "no-cache" },
    );
  }

  /** POST /api/oauth/token */
  token(form: Record<string, string>): Reply {
    const grant = form.grant_type;
    if (!grant) return oauthError(400, "invalid_request", "grant_type is required.");
    if (grant === "authorization_code") return this.exchangeCode(form);
    if (grant === DEVICE_GRANT) return this.pollDevice(form);
    return oauthError(400, "unsupported_grant_type", `grant_type "${grant}" is not supported.`);
  }

  private exchangeCode(form: Record<string, string>): Reply {
    for (const field of ["code", "redirect_uri", "client_id", "code_verifier"]) {
      if (!form[field]) return oauthError(400, "invalid_request", `${field} is required.`);
    }
    if (form.client_id !== CLIENT_ID) return oauthError(401, "invalid_client", "Unknown client_id.");
    const verifier = form.code_verifier!;
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier))
      return oauthError(400, "invalid_request", "code_verifier must be 43 to 128 unreserved characters.");
    const code = this.codes.get(form.code!);
    if (!code) return oauthError(400, "invalid_grant", "The authorization code is unknown.");
    if (code.used) return oauthError(400, "invalid_grant", "The authorization code has already been used.");
    if (this.now() >= code.expiresAt) {
      code.used = true;
      return oauthError(400, "invalid_grant", "The authorization code has expired.");
    }
    if (code.clientId !== form.client_id)
      return oauthError(400, "invalid_grant", "The code was issued to another client.");
    if (code.redirectUri !== form.redirect_uri)
      return oauthError(400, "invalid_grant", "redirect_uri does not match the authorization request.");
    if (s256(verifier) !== code.challenge) {
      code.used = true;
      return oauthError(
        400,
        "invalid_grant",
        "PKCE verification failed: code_verifier does not match code_challenge.",
      );
    }
    code.used = true;
    return this.issueKey(code.email, form);
  }

  // ---- device flow (RFC 8628) ----

  /** POST /api/oauth/device/code */
  deviceCode(form: Record<string, string>): Reply {
    if (!form.client_id) return oauthError(400, "invalid_request", "client_id is required.");
    if (form.client_id !== CLIENT_ID) return oauthError(401, "invalid_client", "Unknown client_id.");
    const deviceCode = randomBytes(32).toString("base64url");
    let userCode: string;
    do {
      const raw = randomAlphanumeric(8, USER_CODE_ALPHABET);
      userCode = `${raw.slice(0, 4)}-${raw.slice(4)}`;
    } while (this.devices.has(normalizeUserCode(userCode)));
    const grant: DeviceGrant = {
      deviceCode,
      userCode,
      clientId: form.client_id,
      expiresAt: this.now() + this.o.codeTtlMs,
      intervalMs: this.o.deviceIntervalSeconds * 1000,
      state: "pending",
    };
    this.devices.set(normalizeUserCode(userCode), grant);
    const base = this.o.baseUrl();
    return json(200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: `${base}/device`,
      verification_uri_complete: `${base}/device?user_code=${encodeURIComponent(userCode)}`,
      expires_in: Math.max(1, Math.round(this.o.codeTtlMs / 1000)),
      interval: this.o.deviceIntervalSeconds,
    });
  }

  private deviceByCode(deviceCode: string): DeviceGrant | undefined {
    for (const g of this.devices.values()) if (g.deviceCode === deviceCode) return g;
    return undefined;
  }

  private pollDevice(form: Record<string, string>): Reply {
    if (!form.device_code) return oauthError(400, "invalid_request", "device_code is required.");
    if (!form.client_id) return oauthError(400, "invalid_request", "client_id is required.");
    if (form.client_id !== CLIENT_ID) return oauthError(401, "invalid_client", "Unknown client_id.");
    const g = this.deviceByCode(form.device_code);
    if (!g) return oauthError(400, "invalid_grant", "The device code is unknown.");
    if (g.state === "consumed")
      return oauthError(400, "invalid_grant", "The device code has already been used.");
    const now = this.now();
    if (now >= g.expiresAt)
      return oauthError(400, "expired_token", "The device code has expired. Start again.");
    const last = g.lastPollAt;
    g.lastPollAt = now;
    if (last !== undefined && now - last < g.intervalMs) {
      g.intervalMs += 5000;
      return oauthError(
        400,
        "slow_down",
        `Polling too fast; wait at least ${g.intervalMs / 1000} seconds between requests.`,
      );
    }
    if (g.state === "denied") return oauthError(400, "access_denied", "The request was denied.");
    if (g.state === "pending")
      return oauthError(400, "authorization_pending", "Waiting for the user to approve the request.");
    g.state = "consumed";
    return this.issueKey(g.email ?? DEMO_EMAIL, form);
  }

  /** Approve or deny a pending device request (what the /device page does). */
  decideDevice(
    userCode: string,
    approve: boolean,
    email = DEMO_EMAIL,
  ): "ok" | "unknown" | "expired" | "decided" {
    const g = this.devices.get(normalizeUserCode(userCode));
    if (!g) return "unknown";
    if (this.now() >= g.expiresAt) return "expired";
    if (g.state !== "pending") return "decided";
    g.state = approve ? "approved" : "denied";
    g.email = email;
    return "ok";
  }

  /** GET /device */
  devicePage(query: URLSearchParams): Reply {
    const userCode = query.get("user_code") ?? "";
    if (userCode && this.o.autoApprove) {
      const result = this.decideDevice(userCode, true);
      if (result === "ok") return this.deviceResult("ok", true);
    }
    return html(
      200,
      page(
        "Connect a device",
        `<p>Enter the code shown in your terminal to let the GigaReels CLI sign in.</p>
<form method="post" action="/device">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="${escapeHtml(userCode)}" placeholder="WDJB-MJHT" autocomplete="off">
<label for="email">Email</label>
<input id="email" name="email" type="email" value="${escapeHtml(DEMO_EMAIL)}" autocomplete="email">
<button id="approve" name="decision" value="approve" type="submit">Approve</button>
<button id="deny" name="decision" value="deny" type="submit">Deny</button>
</form>`,
      ),
    );
  }

  /** POST /device */
  deviceDecision(form: Record<string, string>): Reply {
    const approve = form.decision === "approve";
    if (!approve && form.decision !== "deny") return this.errorPage(400, "Choose Approve or Deny.");
    const email = (form.email ?? "").trim() || DEMO_EMAIL;
    return this.deviceResult(this.decideDevice(form.user_code ?? "", approve, email), approve);
  }

  private deviceResult(result: "ok" | "unknown" | "expired" | "decided", approve: boolean): Reply {
    if (result === "ok") {
      return html(
        200,
        page(
          approve ? "Device connected" : "Request denied",
          approve
            ? '<p id="result">Approved. You can close this window and return to your terminal.</p>'
            : '<p id="result">Denied. The CLI will not get access.</p>',
        ),
      );
    }
    const message =
      result === "unknown"
        ? "That code is not valid. Check the code shown in your terminal."
        : result === "expired"
          ? "That code has expired. Start the login again in your terminal."
          : "That code has already been used.";
    return html(400, page("Code not accepted", `<p class="error" id="error">${escapeHtml(message)}</p>`));
  }

  // ---- revocation (RFC 7009) ----

  /** POST /api/oauth/revoke: always 200. */
  revoke(form: Record<string, string>): Reply {
    if (form.token) this.o.keys.revoke(form.token.trim());
    return json(200, {});
  }
}
