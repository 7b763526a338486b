/** src/lib/net/proxy.ts: which proxy a URL goes through, and how a proxy's failure reads. */
import { describe, expect, it } from "vitest";
import {
  explainProxyFailure,
  maskProxyUrl,
  matchesNoProxy,
  ProxyError,
  proxyFor,
  proxySettings,
  routeFor,
} from "../../src/lib/net/proxy.js";

const P = "http://proxy.corp:3128";

describe("proxy selection", () => {
  it("https URLs use HTTPS_PROXY, http URLs HTTP_PROXY; lower case wins over upper case", () => {
    const env = {
      HTTPS_PROXY: "http://upper:1",
      https_proxy: "http://lower:2",
      HTTP_PROXY: "http://plain:3",
    };
    expect(proxyFor("https://gigareels.com/api/me", env)).toMatchObject({
      url: "http://lower:2",
      variable: "https_proxy",
    });
    expect(proxyFor("http://files.example/x.mp4", env)).toMatchObject({
      url: "http://plain:3",
      variable: "HTTP_PROXY",
    });
    expect(proxyFor("https://gigareels.com", { HTTPS_PROXY: P })).toMatchObject({ variable: "HTTPS_PROXY" });
  });

  it("an https URL falls back to HTTP_PROXY (as undici's agent does); an empty value means none", () => {
    expect(proxyFor("https://gigareels.com", { HTTP_PROXY: P })).toMatchObject({
      url: P,
      variable: "HTTP_PROXY",
    });
    expect(proxyFor("https://gigareels.com", { https_proxy: "", HTTPS_PROXY: P })).toBeNull();
    expect(proxyFor("https://gigareels.com", {})).toBeNull();
    expect(routeFor("https://gigareels.com", {})).toEqual({ proxy: null, reason: "unset" });
  });

  it("loopback is never proxied, whatever NO_PROXY says", () => {
    const env = { HTTPS_PROXY: P, HTTP_PROXY: P };
    for (const u of [
      "http://127.0.0.1:3000",
      "http://localhost:3000",
      "https://[::1]:8443",
      "http://127.8.9.10",
    ]) {
      expect(routeFor(u, env)).toEqual({ proxy: null, reason: "loopback" });
    }
    expect(proxyFor("https://gigareels.com", env)).not.toBeNull();
  });

  it("NO_PROXY: exact names, .suffix and *.suffix, host:port, *, separated by commas or spaces", () => {
    const u = (s: string) => new URL(s);
    expect(matchesNoProxy(u("https://gigareels.com"), "gigareels.com")).toBe(true);
    expect(matchesNoProxy(u("https://api.gigareels.com"), "gigareels.com")).toBe(false);
    expect(matchesNoProxy(u("https://api.gigareels.com"), ".gigareels.com")).toBe(true);
    expect(matchesNoProxy(u("https://api.gigareels.com"), "*.gigareels.com")).toBe(true);
    expect(matchesNoProxy(u("https://GigaReels.COM"), "other.org gigareels.com")).toBe(true);
    expect(matchesNoProxy(u("https://gigareels.com"), "gigareels.com:443")).toBe(true);
    expect(matchesNoProxy(u("https://gigareels.com:8443"), "gigareels.com:443")).toBe(false);
    expect(matchesNoProxy(u("https://anything.example"), "*")).toBe(true);
    expect(matchesNoProxy(u("https://gigareels.com"), "")).toBe(false);
    expect(routeFor("https://gigareels.com", { HTTPS_PROXY: P, no_proxy: "gigareels.com" })).toEqual({
      proxy: null,
      reason: "no_proxy",
      variable: "no_proxy",
    });
  });

  it("proxySettings reports which variable each value came from", () => {
    expect(proxySettings({ HTTP_PROXY: P, NO_PROXY: "a,b" })).toEqual({
      httpProxy: { value: P, variable: "HTTP_PROXY" },
      httpsProxy: { value: P, variable: "HTTP_PROXY" },
      noProxy: { value: "a,b", variable: "NO_PROXY" },
    });
  });
});

describe("proxy failures", () => {
  const proxy = {
    url: "http://alice:s3cr3t@proxy.corp:3128",
    shown: maskProxyUrl("http://alice:s3cr3t@proxy.corp:3128"),
    variable: "HTTPS_PROXY",
  };
  const target = new URL("https://gigareels.com/api/me");

  it("a proxy URL is shown without its password", () => {
    expect(proxy.shown).toBe("http://alice:****@proxy.corp:3128");
    expect(maskProxyUrl("http://proxy.corp:3128/")).toBe("http://proxy.corp:3128");
    expect(maskProxyUrl("not a url")).not.toContain("not a url");
  });

  it("undici's tunnel refusal (407, 403, 502) becomes a ProxyError that names the proxy and the fix", () => {
    const cause = (status: number) =>
      Object.assign(new TypeError("fetch failed"), {
        cause: Object.assign(new Error("Request was cancelled."), {
          cause: Object.assign(new Error(`Proxy response (${status}) !== 200 when HTTP Tunneling`), {
            code: "UND_ERR_ABORTED",
          }),
        }),
      });
    const auth = explainProxyFailure(cause(407), proxy, target) as ProxyError;
    expect(auth).toBeInstanceOf(ProxyError);
    expect(auth.kind).toBe("auth");
    expect(auth.message).toBe(
      "Could not reach gigareels.com:443 through the proxy http://alice:****@proxy.corp:3128 (from HTTPS_PROXY): the proxy asks for a user name and password (407 Proxy Authentication Required)",
    );
    expect(auth.suggestions[0]).toContain("HTTPS_PROXY (http://USER:PASSWORD@HOST:PORT)");
    expect(explainProxyFailure(cause(403), proxy, target)?.kind).toBe("forbidden");
    expect(explainProxyFailure(cause(502), proxy, target)?.message).toContain(
      "could not connect to it (502 Bad Gateway)",
    );
    for (const e of [auth, explainProxyFailure(cause(403), proxy, target)]) {
      expect(`${e?.message} ${e?.suggestions.join(" ")}`).not.toContain("s3cr3t");
    }
  });

  it("a forwarded request's 407 (plain http through the proxy) reads the same", () => {
    const err = Object.assign(new Error("x"), { cause: new Error("Proxy Authentication Required (407)") });
    expect(explainProxyFailure(err, proxy, new URL("http://files.example/v.mp4"))?.kind).toBe("auth");
  });

  it("a proxy that is down is 'unreachable'; a failure beyond the proxy (TLS) is left alone", () => {
    const refused = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:3128"), { code: "ECONNREFUSED" }),
    });
    const down = explainProxyFailure(refused, proxy, target);
    expect(down?.kind).toBe("unreachable");
    expect(down?.message).toBe(
      "Could not reach the proxy http://alice:****@proxy.corp:3128 (from HTTPS_PROXY): the connection was refused",
    );
    const tls = Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("unable to verify the first certificate"), {
        code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      }),
    });
    expect(explainProxyFailure(tls, proxy, target)).toBeNull();
  });
});
