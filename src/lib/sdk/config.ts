/**
 * Validation of what a client is configured with: the API key format and the base URL.
 * Both checks run before any byte is sent; neither message ever contains the key.
 */
import { describeKeyProblem, normalizeKey } from "../credentials/key-format.js";
import { isLoopbackHost } from "../net/proxy.js";
import { InvalidApiKeyError, InvalidBaseUrlError } from "./errors.js";

export { isLoopbackHost };

export const DEFAULT_BASE_URL = "https://gigareels.com";

/**
 * Trims the key (spaces, tabs, CR/LF) and checks `giga_` + 32 letters/digits.
 * Throws InvalidApiKeyError saying what is wrong (prefix, length, position), never the key.
 */
export function validateApiKey(
  raw: string,
  where = "the API key",
  /** What fixes the key where it is (default: copy it again, or log in). */
  fix = "Copy the key again from the dashboard (Settings -> API Keys), or run gigareels login",
): string {
  const key = normalizeKey(raw);
  const problem = describeKeyProblem(key);
  if (problem !== null) {
    const detail = where === "the API key" ? problem : `${problem} (from ${where})`;
    throw new InvalidApiKeyError(`Invalid API key: ${detail}; nothing was sent`, {
      suggestions: ['An API key is "giga_" followed by 32 letters or digits (37 characters)', fix],
    });
  }
  return key;
}

/**
 * Checks a base URL: https, or http on a loopback host. Returns it normalised (origin plus
 * path, no trailing slash, no query or fragment). Throws InvalidBaseUrlError otherwise.
 */
export function validateBaseUrl(raw: string, where = "the base URL"): string {
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidBaseUrlError(`Invalid base URL: ${where} is not a URL`, {
      suggestions: [`Use a URL such as ${DEFAULT_BASE_URL}`],
    });
  }
  if (url.username || url.password) {
    throw new InvalidBaseUrlError(`Invalid base URL: ${where} must not contain a user name or password`, {
      suggestions: [`Use a URL such as ${DEFAULT_BASE_URL}`],
    });
  }
  if (url.protocol === "https:") {
    // fine
  } else if (url.protocol === "http:") {
    if (!isLoopbackHost(url.hostname)) {
      throw new InvalidBaseUrlError(
        `Invalid base URL: ${url.origin} uses http; only https is allowed outside loopback (127.0.0.1, ::1, localhost), so the API key is never sent in clear text`,
        { suggestions: [`Use https://${url.host}`, `or ${DEFAULT_BASE_URL}`] },
      );
    }
  } else {
    throw new InvalidBaseUrlError(`Invalid base URL: ${where} uses ${url.protocol} (https is required)`, {
      suggestions: [`Use a URL such as ${DEFAULT_BASE_URL}`],
    });
  }
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path}`;
}
