/**
 * What to tell a person whose key is missing, rejected or old, by where the key came from.
 * Shared by `status` and `whoami`. A leaf: imports only types.
 */
import type { KeySource } from "../credentials/types.js";

/** The guide's advice: "Rotate keys every 90 days". */
export const ROTATE_AFTER_DAYS = 90;

const DASHBOARD = "the dashboard (Settings -> API Keys)";

/** `gigareels login`, with `--profile NAME` unless the profile is the default one. */
export function loginCommand(profile?: string): string {
  return `gigareels login${profile && profile !== "default" ? ` --profile ${profile}` : ""}`;
}

/** The fix for a key the server rejected (401/403) or that is malformed. */
export function fixForRejectedKey(
  source: KeySource | null,
  origin: string | null,
  profile: string,
): string[] {
  switch (source) {
    case "env":
      return [
        `Unset GIGAREELS_API_KEY (then the stored login is used), or set it to a valid key from ${DASHBOARD}`,
      ];
    case "env-file":
      return [`Unset GIGAREELS_API_KEY_FILE, or put a valid key in ${origin ?? "the file it names"}`];
    case "option":
      return [`Pass a valid key from ${DASHBOARD}`];
    default:
      return [`Run \`${loginCommand(profile)}\` to store a new key`];
  }
}

/** The fix when no key was found at all. */
export function fixForMissingKey(profile: string): string[] {
  return [`Run \`${loginCommand(profile)}\``, `or set GIGAREELS_API_KEY to a key from ${DASHBOARD}`];
}

/** How to rotate a key, by where it lives. */
export function rotationAdvice(source: KeySource | null, profile: string): string {
  if (source === "env" || source === "env-file") {
    const where = source === "env" ? "GIGAREELS_API_KEY" : "the file GIGAREELS_API_KEY_FILE names";
    return `create a new key in ${DASHBOARD}, put it in ${where}, then revoke the old one`;
  }
  return `run \`${loginCommand(profile)}\` for a new key (it revokes the old one)`;
}

/** "https://gigareels.com" -> "gigareels.com" (the text itself when it is not a URL). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * A 404 from `GET /api/me`, which every GigaReels API serves, or a 404 page that is not JSON:
 * the base URL points at another server (a typo, a web server's page, a proxy's). What to say,
 * and the fix.
 */
export function notTheApi(
  baseUrl: string,
  answer: string,
  request = "GET /api/me",
): { message: string; fix: string[] } {
  return {
    message: `${hostOf(baseUrl)} does not look like the GigaReels API: it answered ${request} with ${answer}`,
    fix: [
      `Check the base URL ${baseUrl} (--base-url, GIGAREELS_BASE_URL or the profile's; the API is https://gigareels.com)`,
    ],
  };
}
