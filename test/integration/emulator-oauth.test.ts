/** Browser login against the emulator: authorize page, PKCE code exchange, device flow, revoke. */
import { describe, expect, it } from "vitest";
import {
  api,
  authorizeAndApprove,
  pkcePair,
  postForm,
  startEmulator,
  useEmulator,
} from "../helpers/emulator.js";

const REDIRECT = "http://127.0.0.1:45678/callback";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function authorizeUrl(base: string, overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    response_type: "code",
    client_id: "gigareels-cli",
    redirect_uri: REDIRECT,
    state: "state-123",
    code_challenge: pkcePair().challenge,
    code_challenge_method: "S256",
    ...overrides,
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return `${base}/oauth/authorize?${q}`;
}

async function exchange(emu: { url: string }, fields: Record<string, string>) {
  const res = await postForm(emu as never, "/api/oauth/token", fields);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, res };
}

describe("emulator: authorization code with PKCE", () => {
  const emu = useEmulator({ codeTtlSeconds: 1 });

  it("serves a sign-in page with approve and deny buttons and the parameters", async () => {
    const res = await fetch(authorizeUrl(emu().url));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    const page = await res.text();
    expect(page).toContain('id="approve"');
    expect(page).toContain('id="deny"');
    expect(page).toContain('type="email"');
    expect(page).toContain('value="state-123"');
  });

  it.each([
    ["an unknown client_id", { client_id: "other" }],
    ["a non-loopback redirect_uri", { redirect_uri: "https://evil.example.com/callback" }],
    ["a redirect_uri without a port", { redirect_uri: "http://127.0.0.1/callback" }],
    ["no redirect_uri", { redirect_uri: undefined }],
  ])("shows an error page (no redirect) for %s", async (_what, overrides) => {
    const res = await fetch(authorizeUrl(emu().url, overrides), { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toContain('id="error"');
  });

  it.each([
    ["response_type", { response_type: "token" }],
    ["state", { state: undefined }],
    ["code_challenge", { code_challenge: undefined }],
    ["code_challenge_method", { code_challenge_method: "plain" }],
  ])("redirects invalid_request to a valid loopback redirect_uri for a bad %s", async (_what, overrides) => {
    const res = await fetch(authorizeUrl(emu().url, overrides), { redirect: "manual" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("error")).toBe("invalid_request");
  });

  it("accepts localhost and [::1] loopback redirect URIs", async () => {
    for (const uri of ["http://localhost:5000/callback", "http://[::1]:5000/callback"]) {
      const res = await fetch(authorizeUrl(emu().url, { redirect_uri: uri }));
      expect(res.status).toBe(200);
    }
  });

  it("approve redirects with a code and the state; the code exchanges for a working key once", async () => {
    const { verifier, challenge } = pkcePair();
    const location = await authorizeAndApprove(emu(), {
      redirectUri: REDIRECT,
      state: "s1",
      challenge,
      email: "grace@example.com",
    });
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("s1");
    const code = location.searchParams.get("code")!;
    expect(code).toBeTruthy();
    const fields = {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      client_id: "gigareels-cli",
      code_verifier: verifier,
    };
    const ok = await exchange(emu(), fields);
    expect(ok.status).toBe(200);
    expect(ok.res.headers.get("cache-control")).toBe("no-store");
    expect(ok.body).toMatchObject({ token_type: "Bearer", account: { email: "grace@example.com" } });
    const token = String(ok.body.access_token);
    expect(token).toMatch(/^giga_[A-Za-z0-9]{32}$/);
    const info = emu().keyInfo(token)!;
    expect(ok.body.key_id).toBe(info.id);
    expect(ok.body.account).toEqual(info.account);
    expect(info.name).toMatch(/^GigaReels CLI on .+/);
    const me = (await (await api(emu(), "/api/me", { key: token })).json()) as Record<string, unknown>;
    expect(me.email).toBe("grace@example.com");

    const replay = await exchange(emu(), fields);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe("invalid_grant");
    expect(String(replay.body.error_description)).toMatch(/already been used/);
  });

  it("deny redirects with error=access_denied and the state", async () => {
    const location = await authorizeAndApprove(emu(), {
      redirectUri: REDIRECT,
      state: "s2",
      challenge: pkcePair().challenge,
      decision: "deny",
    });
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("s2");
    expect(location.searchParams.get("code")).toBeNull();
  });

  it("rejects a wrong code_verifier (PKCE), a different redirect_uri, and then the burnt code", async () => {
    const { challenge } = pkcePair();
    const code = (
      await authorizeAndApprove(emu(), { redirectUri: REDIRECT, state: "s", challenge })
    ).searchParams.get("code")!;
    const base = { grant_type: "authorization_code", code, client_id: "gigareels-cli" };
    const wrongUri = await exchange(emu(), {
      ...base,
      redirect_uri: "http://127.0.0.1:1/callback",
      code_verifier: pkcePair().verifier,
    });
    expect(wrongUri.status).toBe(400);
    expect(wrongUri.body.error).toBe("invalid_grant");
    expect(String(wrongUri.body.error_description)).toMatch(/redirect_uri/);
    const wrongVerifier = await exchange(emu(), {
      ...base,
      redirect_uri: REDIRECT,
      code_verifier: pkcePair().verifier,
    });
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.body).toEqual({
      error: "invalid_grant",
      error_description: "PKCE verification failed: code_verifier does not match code_challenge.",
    });
  });

  it("rejects an expired code", async () => {
    const { verifier, challenge } = pkcePair();
    const code = (
      await authorizeAndApprove(emu(), { redirectUri: REDIRECT, state: "s", challenge })
    ).searchParams.get("code")!;
    await sleep(1100);
    const res = await exchange(emu(), {
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      client_id: "gigareels-cli",
      code_verifier: verifier,
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: "invalid_grant",
      error_description: "The authorization code has expired.",
    });
  });

  it("answers RFC 6749 errors for malformed token requests", async () => {
    expect((await exchange(emu(), {})).body.error).toBe("invalid_request");
    expect((await exchange(emu(), { grant_type: "password" })).body).toMatchObject({
      error: "unsupported_grant_type",
    });
    const missing = await exchange(emu(), { grant_type: "authorization_code", code: "x" });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe("invalid_request");
    const unknown = await exchange(emu(), {
      grant_type: "authorization_code",
      code: "nope",
      redirect_uri: REDIRECT,
      client_id: "gigareels-cli",
      code_verifier: pkcePair().verifier,
    });
    expect(unknown.body.error).toBe("invalid_grant");
    const client = await exchange(emu(), {
      grant_type: "authorization_code",
      code: "nope",
      redirect_uri: REDIRECT,
      client_id: "someone-else",
      code_verifier: pkcePair().verifier,
    });
    expect(client.status).toBe(401);
    expect(client.body.error).toBe("invalid_client");
  });

  it("autoApprove redirects at once with a code", async () => {
    const auto = await startEmulator({ port: 0, autoApprove: true });
    try {
      const { verifier, challenge } = pkcePair();
      const res = await fetch(authorizeUrl(auto.url, { code_challenge: challenge }), { redirect: "manual" });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get("location")!);
      expect(location.searchParams.get("state")).toBe("state-123");
      const ok = await exchange(auto, {
        grant_type: "authorization_code",
        code: location.searchParams.get("code")!,
        redirect_uri: REDIRECT,
        client_id: "gigareels-cli",
        code_verifier: verifier,
      });
      expect(ok.status).toBe(200);
    } finally {
      await auto.stop();
    }
  });
});

describe("emulator: device flow", () => {
  const emu = useEmulator({ deviceIntervalSeconds: 0.2, codeTtlSeconds: 2 });

  async function start() {
    const res = await postForm(emu(), "/api/oauth/device/code", { client_id: "gigareels-cli" });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, string | number>;
  }
  const poll = (deviceCode: string) =>
    exchange(emu(), { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: "gigareels-cli" });

  it("issues codes in the published shape", async () => {
    const d = await start();
    expect(d.user_code).toMatch(/^[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}$/);
    expect(d.verification_uri).toBe(`${emu().url}/device`);
    expect(d.verification_uri_complete).toBe(`${emu().url}/device?user_code=${d.user_code}`);
    expect(d.expires_in).toBe(2);
    expect(d.interval).toBe(0.2);
    expect(String(d.device_code).length).toBeGreaterThan(20);
    const bad = await postForm(emu(), "/api/oauth/device/code", {});
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("pending, slow_down (interval grows by 5 s), then success once after approveDevice", async () => {
    const d = await start();
    const first = await poll(String(d.device_code));
    expect(first.body.error).toBe("authorization_pending");
    const fast = await poll(String(d.device_code));
    expect(fast.status).toBe(400);
    expect(fast.body.error).toBe("slow_down");
    expect(String(fast.body.error_description)).toContain("5.2 seconds");
    emu().approveDevice(String(d.user_code));
    // Still too soon for the grown interval.
    await sleep(300);
    expect((await poll(String(d.device_code))).body.error).toBe("slow_down");
  });

  it("succeeds once after approval, polled at the interval", async () => {
    const d = await start();
    expect((await poll(String(d.device_code))).body.error).toBe("authorization_pending");
    emu().approveDevice(String(d.user_code).toLowerCase().replace("-", ""));
    await sleep(250);
    const ok = await poll(String(d.device_code));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: "Bearer", account: { email: "demo@gigareels.local" } });
    expect((await api(emu(), "/api/me", { key: String(ok.body.access_token) })).status).toBe(200);
    await sleep(250);
    const again = await poll(String(d.device_code));
    expect(again.body.error).toBe("invalid_grant");
  });

  it("answers access_denied after denial", async () => {
    const d = await start();
    emu().approveDevice(String(d.user_code), false);
    const res = await poll(String(d.device_code));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("access_denied");
  });

  it("answers expired_token after expires_in", async () => {
    const d = await start();
    await sleep(2100);
    const res = await poll(String(d.device_code));
    expect(res.body.error).toBe("expired_token");
    expect(() => emu().approveDevice(String(d.user_code))).toThrow(/expired/);
  });

  it("the /device page approves with a form POST (user code and buttons)", async () => {
    const d = await start();
    const page = await (await fetch(String(d.verification_uri_complete))).text();
    expect(page).toContain('id="approve"');
    expect(page).toContain('id="deny"');
    expect(page).toContain(`value="${d.user_code}"`);
    const res = await postForm(emu(), "/device", {
      user_code: String(d.user_code),
      email: "dev@example.com",
      decision: "approve",
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Approved");
    const ok = await poll(String(d.device_code));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ account: { email: "dev@example.com" } });
    const unknown = await postForm(emu(), "/device", { user_code: "BBBB-BBBB", decision: "approve" });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain("not valid");
  });

  it("the /device page denies", async () => {
    const d = await start();
    const res = await postForm(emu(), "/device", { user_code: String(d.user_code), decision: "deny" });
    expect(res.status).toBe(200);
    expect((await poll(String(d.device_code))).body.error).toBe("access_denied");
  });
});

describe("emulator: device flow with autoApprove", () => {
  const emu = useEmulator({ autoApprove: true, deviceIntervalSeconds: 0 });

  it("opening verification_uri_complete approves at once; the bare page still asks", async () => {
    const res = await postForm(emu(), "/api/oauth/device/code", { client_id: "gigareels-cli" });
    const d = (await res.json()) as Record<string, string>;
    const bare = await (await fetch(String(d.verification_uri))).text();
    expect(bare).toContain('id="approve"');
    const pending = await exchange(emu(), {
      grant_type: DEVICE_GRANT,
      device_code: String(d.device_code),
      client_id: "gigareels-cli",
    });
    expect(pending.body.error).toBe("authorization_pending");
    const page = await (await fetch(String(d.verification_uri_complete))).text();
    expect(page).toContain("Approved");
    const ok = await exchange(emu(), {
      grant_type: DEVICE_GRANT,
      device_code: String(d.device_code),
      client_id: "gigareels-cli",
    });
    expect(ok.status).toBe(200);
    expect(String(ok.body.access_token)).toMatch(/^giga_/);
  });
});

describe("emulator: revocation", () => {
  const emu = useEmulator();

  it("revokes a key (then 401) and answers 200 for unknown tokens too", async () => {
    const key = emu().createKey();
    expect((await api(emu(), "/api/me", { key })).status).toBe(200);
    const res = await postForm(emu(), "/api/oauth/revoke", { token: key });
    expect(res.status).toBe(200);
    expect(emu().keyInfo(key)?.revoked).toBe(true);
    const after = await api(emu(), "/api/me", { key });
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: "Invalid API key" });
    expect((await postForm(emu(), "/api/oauth/revoke", { token: `giga_${"Z".repeat(32)}` })).status).toBe(
      200,
    );
    expect((await postForm(emu(), "/api/oauth/revoke", {})).status).toBe(200);
    // The log never holds the full key, even from the form body.
    expect(JSON.stringify(emu().requests)).not.toContain(key);
  });
});
