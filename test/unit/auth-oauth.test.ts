import { describe, expect, it } from "vitest";
import { LoginDeniedError, LoginExpiredError, TokenExchangeError } from "../../src/lib/auth/errors.js";
import {
  type DeviceAuthorization,
  DEVICE_GRANT,
  exchangeCode,
  type OAuthPost,
  pollDeviceToken,
  requestDeviceCode,
  revokeKey,
} from "../../src/lib/auth/oauth.js";
import { AbortedError, MalformedResponseError } from "../../src/lib/sdk/errors.js";

const KEY = `giga_${"A1b2".repeat(8)}`;
const OK = {
  access_token: KEY,
  token_type: "Bearer",
  key_id: "key_1",
  account: { id: "u1", email: "a@b.c" },
};

/** A scripted server: answers in order and records what was posted. */
function scripted(answers: Array<{ status: number; body: unknown }>) {
  const calls: Array<{ path: string; form: Record<string, string> }> = [];
  const post: OAuthPost = async (path, form) => {
    calls.push({ path, form });
    const next = answers.shift();
    if (!next) throw new Error("no more answers");
    return next;
  };
  return { post, calls };
}

/** A fake clock whose sleep only advances time. */
function fakeTime() {
  let t = 1_000_000;
  const waits: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      if (signal?.aborted) throw signal.reason;
      waits.push(ms);
      t += ms;
    },
    waits,
  };
}

const AUTH: DeviceAuthorization = {
  deviceCode: "dev",
  userCode: "WDJB-MJHT",
  verificationUri: "http://x/device",
  expiresIn: 600,
  interval: 5,
};
const pending = { status: 400, body: { error: "authorization_pending" } };

describe("code exchange", () => {
  it("posts the code, the verifier and the redirect URI, and returns the key and account", async () => {
    const { post, calls } = scripted([{ status: 200, body: OK }]);
    const issued = await exchangeCode(post, {
      code: "c",
      redirectUri: "http://127.0.0.1:9/callback",
      verifier: "v",
    });
    expect(issued).toEqual({ key: KEY, keyId: "key_1", account: { id: "u1", email: "a@b.c" } });
    expect(calls).toEqual([
      {
        path: "/api/oauth/token",
        form: {
          grant_type: "authorization_code",
          code: "c",
          redirect_uri: "http://127.0.0.1:9/callback",
          client_id: "gigareels-cli",
          code_verifier: "v",
        },
      },
    ]);
  });

  it("turns invalid_grant into token_exchange_failed with the server's words", async () => {
    const { post } = scripted([
      { status: 400, body: { error: "invalid_grant", error_description: "code already used" } },
    ]);
    const err = await exchangeCode(post, { code: "c", redirectUri: "r", verifier: "v" }).catch((e) => e);
    expect(err).toBeInstanceOf(TokenExchangeError);
    expect(err.code).toBe("token_exchange_failed");
    expect(err.message).toContain("400 invalid_grant: code already used");
  });

  it("refuses a success answer without a well-formed key", async () => {
    const { post } = scripted([{ status: 200, body: { access_token: "nope" } }]);
    await expect(exchangeCode(post, { code: "c", redirectUri: "r", verifier: "v" })).rejects.toBeInstanceOf(
      MalformedResponseError,
    );
  });
});

describe("device flow", () => {
  it("reads the device authorization", async () => {
    const { post, calls } = scripted([
      {
        status: 200,
        body: {
          device_code: "d",
          user_code: "ABCD-EFGH",
          verification_uri: "http://x/device",
          verification_uri_complete: "http://x/device?user_code=ABCD-EFGH",
          expires_in: 30,
          interval: 1,
        },
      },
    ]);
    expect(await requestDeviceCode(post)).toEqual({
      deviceCode: "d",
      userCode: "ABCD-EFGH",
      verificationUri: "http://x/device",
      verificationUriComplete: "http://x/device?user_code=ABCD-EFGH",
      expiresIn: 30,
      interval: 1,
    });
    expect(calls[0]).toEqual({ path: "/api/oauth/device/code", form: { client_id: "gigareels-cli" } });
  });

  it("waits the interval before every poll and returns the key once approved", async () => {
    const { post, calls } = scripted([pending, pending, { status: 200, body: OK }]);
    const time = fakeTime();
    const issued = await pollDeviceToken(post, AUTH, time);
    expect(issued.key).toBe(KEY);
    expect(time.waits).toEqual([5000, 5000, 5000]);
    expect(calls.map((c) => c.form)).toEqual(
      Array(3).fill({ grant_type: DEVICE_GRANT, device_code: "dev", client_id: "gigareels-cli" }),
    );
  });

  it("adds 5 s to the interval on every slow_down, for the rest of the wait", async () => {
    const slow = { status: 400, body: { error: "slow_down" } };
    const { post } = scripted([pending, slow, pending, slow, { status: 200, body: OK }]);
    const time = fakeTime();
    await pollDeviceToken(post, AUTH, time);
    expect(time.waits).toEqual([5000, 5000, 10000, 10000, 15000]);
  });

  it("stops on access_denied", async () => {
    const { post } = scripted([pending, { status: 400, body: { error: "access_denied" } }]);
    const err = await pollDeviceToken(post, AUTH, fakeTime()).catch((e) => e);
    expect(err).toBeInstanceOf(LoginDeniedError);
    expect(err.code).toBe("login_denied");
  });

  it("stops on expired_token", async () => {
    const { post } = scripted([{ status: 400, body: { error: "expired_token" } }]);
    const err = await pollDeviceToken(post, AUTH, fakeTime()).catch((e) => e);
    expect(err).toBeInstanceOf(LoginExpiredError);
    expect(err.code).toBe("login_expired");
  });

  it("gives up by itself when expires_in has passed", async () => {
    const answers = Array.from({ length: 10 }, () => pending);
    const { post, calls } = scripted(answers);
    const err = await pollDeviceToken(post, { ...AUTH, expiresIn: 12 }, fakeTime()).catch((e) => e);
    expect(err).toBeInstanceOf(LoginExpiredError);
    expect(calls.length).toBe(2);
  });

  it("keeps polling through a 503, and stops on an unknown error", async () => {
    const { post } = scripted([
      { status: 503, body: undefined },
      { status: 400, body: { error: "invalid_client" } },
    ]);
    const err = await pollDeviceToken(post, AUTH, fakeTime()).catch((e) => e);
    expect(err).toBeInstanceOf(TokenExchangeError);
    expect(err.message).toContain("invalid_client");
  });

  it("an abort during the wait ends the poll at once with the signal's reason", async () => {
    const { post, calls } = scripted([pending]);
    const ac = new AbortController();
    const polling = pollDeviceToken(post, { ...AUTH, interval: 3600 }, { signal: ac.signal });
    setTimeout(() => ac.abort(new AbortedError("Interrupted")), 10);
    await expect(polling).rejects.toBeInstanceOf(AbortedError);
    expect(calls.length).toBe(0);
  });
});

describe("revoke", () => {
  it("posts token= to /api/oauth/revoke", async () => {
    const { post, calls } = scripted([{ status: 200, body: {} }]);
    await revokeKey(post, KEY);
    expect(calls).toEqual([{ path: "/api/oauth/revoke", form: { token: KEY } }]);
  });

  it("throws when the server does not answer 2xx, without the key in the message", async () => {
    const { post } = scripted([{ status: 500, body: { error: "server_error" } }]);
    const err = await revokeKey(post, KEY).catch((e) => e);
    expect(err.message).not.toContain(KEY);
  });
});

describe("device polling through transient failures", () => {
  it("keeps polling when one poll throws a server or connection error", async () => {
    let n = 0;
    const post: OAuthPost = async () => {
      n++;
      if (n === 1) throw Object.assign(new Error("503"), { code: "server_error" });
      if (n === 2) throw Object.assign(new Error("refused"), { code: "connection_error" });
      return { status: 200, body: OK };
    };
    const issued = await pollDeviceToken(post, AUTH, fakeTime());
    expect(issued.key).toBe(KEY);
    expect(n).toBe(3);
  });

  it("does not swallow other errors", async () => {
    const post: OAuthPost = async () => {
      throw Object.assign(new Error("bad"), { code: "malformed_response" });
    };
    await expect(pollDeviceToken(post, AUTH, fakeTime())).rejects.toThrow("bad");
  });
});
