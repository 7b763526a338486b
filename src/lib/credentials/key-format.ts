/**
 * The GigaReels API key format, published as `giga_` followed by exactly 32 ASCII letters
 * or digits (37 characters). This module is a leaf: it imports nothing (but a type), and it
 * never puts a key into the strings it returns.
 */
import type { KeySource } from "./types.js";

export const KEY_PREFIX = "giga_";
export const KEY_LENGTH = 37;
const KEY_PATTERN = /^giga_[A-Za-z0-9]{32}$/;
const WHITESPACE = /^[\s\uFEFF]+|[\s\uFEFF]+$/g;

/** Removes surrounding spaces, tabs, CR/LF (and a BOM), as the guide's troubleshooting advises. */
export function normalizeKey(raw: string): string {
  return raw.replace(WHITESPACE, "");
}

/** True when the raw value had whitespace around it (a common copy-paste mistake). */
export function hasSurroundingWhitespace(raw: string): boolean {
  return normalizeKey(raw) !== raw;
}

export function isValidKeyFormat(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * Says what is wrong with a (trimmed) key, or returns null when it is well formed.
 * The message names the problem and its position, never the key or its characters.
 */
export function describeKeyProblem(key: string): string | null {
  if (isValidKeyFormat(key)) return null;
  if (key.length === 0) return "the API key is empty";
  if (!key.startsWith(KEY_PREFIX)) return `the API key does not start with "${KEY_PREFIX}"`;
  for (let i = KEY_PREFIX.length; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!ok) {
      const what = /\s/.test(key[i] ?? "")
        ? "a whitespace character"
        : "a character that is not a letter or digit";
      return `the API key has ${what} at position ${i + 1}`;
    }
  }
  return `the API key has length ${key.length} instead of ${KEY_LENGTH}`;
}

/** `giga_****` followed by the last four characters. Safe to print and log. */
export function maskKey(key: string | undefined | null): string {
  if (!key) return "(none)";
  const k = normalizeKey(key);
  if (k.length < 12) return "giga_****";
  return `giga_****${k.slice(-4)}`;
}

/** Last four characters, kept as metadata so `status --offline` can show the mask. */
export function keyLast4(key: string): string {
  return normalizeKey(key).slice(-4);
}

/** Replaces every API-key-looking substring with its mask. Used on every log line and error message. */
export function redactKeys(text: string): string {
  return text.replace(/giga_[A-Za-z0-9]{4,}/g, (m) =>
    m.length >= 12 ? `giga_****${m.slice(-4)}` : "giga_****",
  );
}

/**
 * Where a resolved key came from, for messages about it ("GIGAREELS_API_KEY", "the file named
 * by GIGAREELS_API_KEY_FILE (/path)", the keychain item, credentials.json), and how to fix a
 * bad key there: only a stored key is fixed by `gigareels login`.
 */
export function describeKeySource(found: { source: KeySource; origin?: string; profile?: string }): {
  where: string;
  fix: string;
} {
  const login = `Run gigareels login${found.profile && found.profile !== "default" ? ` --profile ${found.profile}` : ""}`;
  const dashboard = "a key from the dashboard (Settings -> API Keys)";
  switch (found.source) {
    case "option":
      return { where: "the apiKey option", fix: `Pass ${dashboard}` };
    case "env":
      return { where: "GIGAREELS_API_KEY", fix: `Set GIGAREELS_API_KEY to ${dashboard}, or unset it` };
    case "env-file":
      return {
        where: `the file named by GIGAREELS_API_KEY_FILE (${found.origin})`,
        fix: `Put ${dashboard} in ${found.origin}, or unset GIGAREELS_API_KEY_FILE`,
      };
    case "keychain":
      return { where: `the ${found.origin}`, fix: login };
    default:
      return { where: `${found.origin}${found.profile ? ` (profile ${found.profile})` : ""}`, fix: login };
  }
}
