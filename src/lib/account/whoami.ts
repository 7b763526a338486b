/**
 * `gigareels whoami`, without oclif: the account behind the key, from `GET /api/me`.
 * The key is found as every command finds it (GIGAREELS_API_KEY, GIGAREELS_API_KEY_FILE, the
 * profile's keychain item or file entry); errors are the SDK's (exit 4 when there is no key or
 * it is rejected, 5 when the API cannot be reached), with the fix for where the key came from.
 */
import {
  AuthenticationError,
  MalformedResponseError,
  NotFoundError,
  PermissionDeniedError,
} from "../sdk/errors.js";
import type { GigaReelsOptions, Me } from "../sdk/types.js";
import { fixForRejectedKey, hostOf, notTheApi } from "./advice.js";

export interface WhoamiOptions {
  /** --profile */
  profile?: string;
  /** --base-url */
  baseUrl?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** SDK options (User-Agent, a proxy-aware fetch, timeouts). */
  client?: Partial<GigaReelsOptions>;
}

const SOURCE_TEXT: Record<string, string> = {
  env: "from GIGAREELS_API_KEY",
  "env-file": "from GIGAREELS_API_KEY_FILE",
  keychain: "from the OS keychain",
  file: "from credentials.json",
  option: "given as an option",
};

export async function whoami(options: WhoamiOptions = {}): Promise<Me> {
  const env = options.env ?? process.env;
  const { GigaReels } = await import("../sdk/client.js");
  const client = new GigaReels({
    timeoutMs: 15_000,
    deadlineMs: 30_000,
    ...options.client,
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    env,
  });
  let me: Me;
  try {
    me = await client.me({ signal: options.signal });
  } catch (err) {
    if (err instanceof NotFoundError) {
      // Every GigaReels API serves /api/me: the base URL is some other server (exit 5, as status).
      const baseUrl = (await client.credentials().catch(() => null))?.baseUrl ?? err.url ?? "";
      const wrong = notTheApi(baseUrl, err.message);
      throw new MalformedResponseError(wrong.message, { cause: err, suggestions: wrong.fix });
    }
    if (err instanceof AuthenticationError || err instanceof PermissionDeniedError) {
      const cred = await client.credentials().catch(() => null);
      if (cred) {
        const host = hostOf(cred.baseUrl);
        const profile = cred.profile ?? options.profile ?? "default";
        const origin = cred.source === "env-file" ? (env.GIGAREELS_API_KEY_FILE?.trim() ?? null) : null;
        err.message = `${err.status} ${host} rejected the key ${cred.masked} ${SOURCE_TEXT[cred.source] ?? ""} (${serverText(err.message)})`;
        err.suggestions = fixForRejectedKey(cred.source, origin, profile);
        if (err instanceof PermissionDeniedError) {
          err.suggestions.unshift(
            "Check your plan in the dashboard: this key is not allowed to read its account",
          );
        }
      }
    }
    if (err instanceof MalformedResponseError && /is not an object$/.test(err.message)) {
      throw await notAnAccount(client, err);
    }
    throw err;
  }
  // An answer without the account's email (`{}`, `[]`, another API's object) would print an
  // empty line and exit 0: `EMAIL=$(gigareels whoami)` would carry on with nothing.
  if (typeof me.email !== "string" || me.email.trim() === "") throw await notAnAccount(client, me);
  return me;
}

/** A 200 answer to /api/me that is not an account: the base URL is probably not the API (exit 5). */
async function notAnAccount(
  client: { credentials(): Promise<{ baseUrl: string }> },
  answer: unknown,
): Promise<MalformedResponseError> {
  const what =
    answer instanceof MalformedResponseError
      ? "JSON that is not an object"
      : "an object without the account's email";
  const baseUrl = (await client.credentials().catch(() => null))?.baseUrl ?? "";
  const wrong = notTheApi(baseUrl, what);
  return new MalformedResponseError(wrong.message, {
    suggestions: wrong.fix,
    ...(answer instanceof Error ? { cause: answer } : {}),
  });
}

/** "401 Invalid API key" -> "Invalid API key". */
function serverText(message: string): string {
  return message.replace(/^\d{3}\s+/, "");
}

/** In a terminal: email, name and plan. Otherwise only the email, so `$(gigareels whoami)` works. */
export function formatWhoami(me: Me, terminal: boolean): string {
  const email = typeof me.email === "string" ? me.email : "";
  if (!terminal) return email;
  const lines = [email || "(no email)"];
  if (typeof me.name === "string" && me.name) lines.push(`  Name: ${me.name}`);
  if (typeof me.plan === "string" && me.plan) lines.push(`  Plan: ${me.plan}`);
  return lines.join("\n");
}
