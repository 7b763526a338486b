/**
 * `gigareels status`, without oclif: for the active profile (or every profile), where the key
 * comes from, the key masked, the base URL and the account; then a check of the key against
 * `GET /api/me` (valid, rejected, unreachable), the key's age and the common mistakes.
 *
 * `--offline` reads only local state: the environment, the file GIGAREELS_API_KEY_FILE names
 * and credentials.json (whose metadata keeps the last four characters, the account and the
 * creation time). It never opens the keychain and never loads the SDK's HTTP client (ky): the
 * client is imported lazily, only for the check.
 *
 * The report is the documented `--json` object (README, "gigareels status --json"); the
 * command only prints it.
 */
import { oneLine } from "../text.js";
import {
  credentialsPath,
  describeKeyProblem,
  hasSurroundingWhitespace,
  KEY_PREFIX,
  maskKey,
  readCredentialsFile,
  resolveApiKey,
  updateProfileMetadata,
  validateProfileName,
} from "../credentials/index.js";
import { keychainOrigin } from "../credentials/keychain.js";
import type {
  CredentialStoreOptions,
  CredentialsFileSummary,
  KeySource,
  ProfileSummary,
  ResolvedKey,
} from "../credentials/types.js";
import { DEFAULT_BASE_URL, validateBaseUrl } from "../sdk/config.js";
import {
  AbortedError,
  APIError,
  AuthenticationError,
  ConnectionError,
  CrossOriginRedirectError,
  errorCode,
  MalformedResponseError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from "../sdk/errors.js";
import type { GigaReelsOptions, Me } from "../sdk/types.js";
import {
  fixForMissingKey,
  fixForRejectedKey,
  hostOf,
  notTheApi,
  ROTATE_AFTER_DAYS,
  rotationAdvice,
} from "./advice.js";

export const STATUS_SCHEMA_VERSION = 1;

/** What the check against /api/me found. "skipped": not checked (--offline, or no key). */
export type CheckResult = "valid" | "rejected" | "unreachable" | "error" | "skipped";

export type WarningCode =
  | "key-whitespace"
  | "key-prefix"
  | "key-format"
  | "base-url-http"
  | "base-url-invalid"
  | "key-rotation"
  | "env-overrides-profile"
  | "keychain"
  | "credentials-file";

export interface StatusWarning {
  code: WarningCode;
  message: string;
}

export interface KeyStatus {
  /** A key was found (offline, for the keychain: credentials.json says it is there). */
  found: boolean;
  source: KeySource | null;
  /** Env var name, file path, or keychain service/account. */
  origin: string | null;
  /** `giga_****` + the last four characters. */
  masked: string | null;
  id: string | null;
  /** ISO 8601, from /api/me, else from credentials.json. */
  createdAt: string | null;
  ageDays: number | null;
  /** Older than 90 days. */
  rotationDue: boolean;
}

export interface AccountStatus {
  id: string;
  email: string;
  name: string | null;
  /** Only from /api/me (not kept offline). */
  plan: string | null;
}

export interface CheckStatus {
  result: CheckResult;
  /** HTTP status of the answer, when there was one. */
  httpStatus: number | null;
  /**
   * rejected: unauthorized | forbidden | malformed-key; unreachable: dns | refused | timeout |
   * tls | reset | network | blocked-port | proxy | server-error | not-json | not-found | redirect; error:
   * invalid-base-url | rate-limited | http-error | unexpected; skipped: offline | no-key.
   */
  reason: string | null;
  /** One line, never a key. */
  message: string | null;
  rateLimit: { limit: number | null; remaining: number | null; resetAt: string | null } | null;
}

export interface ProfileStatus {
  profile: string;
  /** This is the key commands use now. */
  active: boolean;
  /** true: valid; false: no key, or rejected; null: not known (offline, unreachable). */
  authenticated: boolean | null;
  key: KeyStatus;
  baseUrl: string;
  baseUrlSource: "--base-url" | "GIGAREELS_BASE_URL" | "profile" | "default";
  host: string;
  account: AccountStatus | null;
  check: CheckStatus;
  warnings: StatusWarning[];
  /** What to do, when something is wrong. */
  fix: string[];
  /**
   * The error code of what is wrong ("missing_api_key", "authentication_error",
   * "connection_error", ...), null when the profile is fine. The CLI turns it into the exit
   * code (src/lib/cli/report-codes.ts).
   */
  errorCode: string | null;
}

export interface StatusReport {
  version: typeof STATUS_SCHEMA_VERSION;
  offline: boolean;
  /** Every listed profile is fine (no errorCode; exit code 0). */
  ok: boolean;
  activeProfile: string;
  credentialsFile: string;
  profiles: ProfileStatus[];
}

export interface StatusOptions {
  /** --profile */
  profile?: string;
  /** --all: every profile in credentials.json (and the environment's key, when set). */
  all?: boolean;
  /** --offline: local state only, no network, no keychain. */
  offline?: boolean;
  /** --base-url */
  baseUrl?: string;
  env?: NodeJS.ProcessEnv;
  configDir?: string;
  signal?: AbortSignal;
  /** Keychain seams (tests) and the store choice; default from the environment. */
  credentials?: Pick<CredentialStoreOptions, "keytar" | "keychainTimeoutMs" | "store">;
  /** SDK options for the check (User-Agent, a proxy-aware fetch, timeouts). */
  client?: Partial<GigaReelsOptions>;
  /** Update the stored account, key id and creation time after a valid check. Default true. */
  refreshMetadata?: boolean;
  now?: () => number;
}

const DAY_MS = 86_400_000;
/** A status check answers fast or not at all: one retry, 10 s per attempt, 20 s in all. */
const CHECK_DEFAULTS: Partial<GigaReelsOptions> = { timeoutMs: 10_000, deadlineMs: 20_000, maxRetries: 1 };

const nonEmpty = (v: string | undefined): v is string => v !== undefined && v.trim() !== "";

interface Candidate {
  profile: string;
  active: boolean;
  /** The environment's key may be used (false for stored profiles listed by --all). */
  useEnv: boolean;
}

/** A key as found: the resolved key online; offline, for stored keys, only the metadata. */
interface Found {
  source: KeySource;
  origin: string;
  masked: string;
  /** The key itself (online, and offline for environment keys). */
  key?: string;
  raw?: string;
}

export async function status(options: StatusOptions = {}): Promise<StatusReport> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const offline = options.offline === true;
  const store: CredentialStoreOptions = {
    ...options.credentials,
    ...(options.configDir ? { configDir: options.configDir } : {}),
    env,
  };
  const envKeySet = nonEmpty(env.GIGAREELS_API_KEY) || nonEmpty(env.GIGAREELS_API_KEY_FILE);

  // credentials.json (never the keychain). A broken file does not hide a key from the environment.
  const fileWarnings: StatusWarning[] = [];
  let file: CredentialsFileSummary;
  try {
    file = await readCredentialsFile(store);
  } catch (err) {
    if (!envKeySet || options.all) throw err;
    fileWarnings.push({ code: "credentials-file", message: (err as Error).message });
    file = { path: "", state: "missing", activeProfile: "default", profiles: [] };
  }
  const activeProfile = options.profile
    ? validateProfileName(options.profile)
    : validateProfileName(env.GIGAREELS_PROFILE?.trim() || file.activeProfile);

  const candidates: Candidate[] = [{ profile: activeProfile, active: true, useEnv: true }];
  if (options.all) {
    const others = file.profiles.map((p) => p.name).filter((n) => envKeySet || n !== activeProfile);
    for (const name of others.sort()) candidates.push({ profile: name, active: false, useEnv: false });
  }

  const profiles = await Promise.all(
    candidates.map((c) =>
      profileStatus(c, {
        ...options,
        env,
        store,
        file,
        envKeySet,
        offline,
        now,
        extraWarnings: c.active ? fileWarnings : [],
      }),
    ),
  );
  return {
    version: STATUS_SCHEMA_VERSION,
    offline,
    ok: profiles.every((p) => p.errorCode === null),
    activeProfile,
    credentialsFile: credentialsPath(store),
    profiles,
  };
}

interface Context extends StatusOptions {
  env: NodeJS.ProcessEnv;
  store: CredentialStoreOptions;
  file: CredentialsFileSummary;
  envKeySet: boolean;
  offline: boolean;
  now: () => number;
  extraWarnings: StatusWarning[];
}

async function profileStatus(c: Candidate, ctx: Context): Promise<ProfileStatus> {
  const warnings: StatusWarning[] = [...ctx.extraWarnings];
  const record = ctx.file.profiles.find((p) => p.name === c.profile) ?? null;
  const found = await findKey(c, ctx, record, warnings);
  const stored = found?.source === "keychain" || found?.source === "file";

  // The base URL, chosen as the SDK client chooses it.
  const base = chooseBaseUrl(ctx.baseUrl, ctx.env, stored ? record : null);
  const entry: ProfileStatus = {
    profile: c.profile,
    active: c.active,
    authenticated: null,
    key: {
      found: found !== null,
      source: found?.source ?? null,
      origin: found?.origin ?? null,
      masked: found?.masked ?? null,
      id: stored ? (record?.keyId ?? null) : null,
      createdAt: null,
      ageDays: null,
      rotationDue: false,
    },
    baseUrl: base.url,
    baseUrlSource: base.source,
    host: hostOf(base.url),
    account: stored && record?.account ? { ...toAccount(record.account), plan: null } : null,
    check: { result: "skipped", httpStatus: null, reason: null, message: null, rateLimit: null },
    warnings,
    fix: [],
    errorCode: null,
  };

  if (found && c.useEnv && record && (found.source === "env" || found.source === "env-file")) {
    warnings.push({
      code: "env-overrides-profile",
      message: `${found.source === "env" ? "GIGAREELS_API_KEY" : "GIGAREELS_API_KEY_FILE"} is set: it is used instead of the key stored for profile ${c.profile} (giga_****${record.keyLast4})`,
    });
  }

  // Common mistakes: whitespace around the key, a missing prefix, a malformed key.
  let keyProblem: string | null = null;
  if (found?.key !== undefined) {
    if (found.raw !== undefined && hasWhitespace(found.raw, found.source)) {
      warnings.push({
        code: "key-whitespace",
        message: `The key from ${describeOrigin(found)} has spaces or line breaks around it; they are ignored here, but other tools may send them: remove them`,
      });
    }
    keyProblem = describeKeyProblem(found.key);
    if (keyProblem) {
      warnings.push({
        code: found.key.startsWith(KEY_PREFIX) ? "key-format" : "key-prefix",
        message: `The key from ${describeOrigin(found)} is not a GigaReels key: ${keyProblem} (a key is "${KEY_PREFIX}" followed by 32 letters or digits)`,
      });
    }
  }

  let baseUrlError: unknown;
  try {
    entry.baseUrl = validateBaseUrl(base.url, base.source === "default" ? "the base URL" : base.source);
  } catch (err) {
    baseUrlError = err;
  }
  const plainHttp = /^http:/i.test(entry.baseUrl);
  // Not for a loopback URL the person chose: with --local/--base-url now, or at login (the
  // emulator's printed command), recorded on the profile as localChosen.
  const chosen =
    !baseUrlError &&
    (base.source === "--base-url" || (record?.localChosen === true && record.baseUrl === entry.baseUrl));
  if (plainHttp && !chosen) {
    warnings.push({
      code: "base-url-http",
      message: baseUrlError
        ? `The base URL ${entry.baseUrl} is not https: the key is never sent over it`
        : `The base URL ${entry.baseUrl} is not https: fine for a local emulator on loopback, never for a real server`,
    });
  }

  // Without a usable key the check below does not reach the base URL: say what is wrong with it.
  if (baseUrlError && (!found || keyProblem) && !plainHttp) {
    const e = baseUrlError as Error & { suggestions?: string[] };
    warnings.push({ code: "base-url-invalid", message: oneLine(e.message, e.suggestions) });
  }

  if (!found) {
    entry.authenticated = false;
    entry.check = { ...entry.check, reason: "no-key", message: "No API key found" };
    entry.fix = fixForMissingKey(c.profile);
    entry.errorCode = "missing_api_key";
  } else if (keyProblem) {
    entry.authenticated = false;
    entry.check = {
      ...entry.check,
      result: "rejected",
      reason: "malformed-key",
      message: `Not sent: ${keyProblem}`,
    };
    entry.fix = fixForRejectedKey(found.source, found.origin, c.profile);
    entry.errorCode = "invalid_api_key";
  } else if (baseUrlError) {
    entry.check = {
      ...entry.check,
      result: "error",
      reason: "invalid-base-url",
      message: (baseUrlError as Error).message,
    };
    entry.fix = (baseUrlError as { suggestions?: string[] }).suggestions ?? [];
    entry.errorCode = errorCode(baseUrlError);
  } else if (ctx.offline) {
    entry.check = { ...entry.check, reason: "offline", message: "Not checked (--offline)" };
  } else {
    await check(entry, found, ctx, record);
  }

  // Key age: the server's creation time, else the one kept in credentials.json.
  if (!entry.key.createdAt && stored && record?.createdAt) entry.key.createdAt = record.createdAt;
  if (entry.key.createdAt) {
    const t = Date.parse(entry.key.createdAt);
    if (Number.isFinite(t)) {
      entry.key.ageDays = Math.max(0, Math.floor((ctx.now() - t) / DAY_MS));
      entry.key.rotationDue = entry.key.ageDays > ROTATE_AFTER_DAYS;
      if (entry.key.rotationDue) {
        warnings.push({
          code: "key-rotation",
          message: `The key is ${entry.key.ageDays} days old; rotate keys every ${ROTATE_AFTER_DAYS} days: ${rotationAdvice(found?.source ?? null, c.profile)}`,
        });
      }
    }
  }
  return entry;
}

/** The key of one candidate, from the environment or the profile; offline, without the keychain. */
async function findKey(
  c: Candidate,
  ctx: Context,
  record: ProfileSummary | null,
  warnings: StatusWarning[],
): Promise<Found | null> {
  const env = c.useEnv ? ctx.env : withoutKeyVars(ctx.env);
  if (ctx.offline && !(c.useEnv && ctx.envKeySet)) {
    if (!record) return null;
    const masked = record.keyLast4 ? `giga_****${record.keyLast4}` : "giga_****";
    if (record.keyLocation === "file") {
      return record.keyInFile ? { source: "file", origin: ctx.file.path, masked } : null;
    }
    // The item itself is not read: credentials.json says it is there.
    return { source: "keychain", origin: keychainOrigin(c.profile), masked };
  }
  // With a key in the environment, resolveApiKey returns before the keychain (also offline).
  const resolved: ResolvedKey | null = await resolveApiKey({
    ...ctx.store,
    env,
    profile: c.profile,
    onWarning: (message) => warnings.push({ code: "keychain", message }),
  });
  if (!resolved) return null;
  return {
    source: resolved.source,
    origin: resolved.origin,
    masked: maskKey(resolved.key),
    key: resolved.key,
    raw: resolved.raw,
  };
}

/** GET /api/me with the key; fills in the check, the account and the key's metadata. */
async function check(
  entry: ProfileStatus,
  found: Found,
  ctx: Context,
  record: ProfileSummary | null,
): Promise<void> {
  const { GigaReels } = await import("../sdk/client.js");
  const client = new GigaReels({
    ...CHECK_DEFAULTS,
    ...ctx.client,
    apiKey: found.key,
    baseUrl: entry.baseUrl,
    env: {},
  });
  let me: Me;
  try {
    me = await client.me({ signal: ctx.signal });
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    describeFailure(entry, found, err);
    return;
  }
  const rl = client.rateLimitFor("other");
  entry.authenticated = true;
  entry.check = {
    result: "valid",
    httpStatus: 200,
    reason: null,
    message: null,
    rateLimit: rl
      ? {
          limit: rl.limit,
          remaining: rl.remaining,
          resetAt: rl.resetAt === null ? null : new Date(rl.resetAt).toISOString(),
        }
      : null,
  };
  entry.account = {
    ...toAccount(me),
    plan: typeof me.plan === "string" ? me.plan : null,
  };
  if (typeof me.key?.id === "string") entry.key.id = me.key.id;
  if (typeof me.key?.createdAt === "string" && Number.isFinite(Date.parse(me.key.createdAt))) {
    entry.key.createdAt = me.key.createdAt;
  }
  if (ctx.refreshMetadata !== false && record && (found.source === "keychain" || found.source === "file")) {
    await refreshMetadata(entry, record, ctx);
  }
}

/** Keeps what the check learnt in credentials.json, so `status --offline` can show it. Best effort. */
async function refreshMetadata(entry: ProfileStatus, record: ProfileSummary, ctx: Context): Promise<void> {
  const account = entry.account
    ? {
        id: entry.account.id,
        email: entry.account.email,
        ...(entry.account.name !== null ? { name: entry.account.name } : {}),
      }
    : undefined;
  const patch: Parameters<typeof updateProfileMetadata>[1] = {};
  if (
    account &&
    JSON.stringify(toAccount(account)) !== JSON.stringify(record.account && toAccount(record.account))
  )
    patch.account = account;
  if (entry.key.id && entry.key.id !== record.keyId) patch.keyId = entry.key.id;
  if (entry.key.createdAt && entry.key.createdAt !== record.createdAt) patch.createdAt = entry.key.createdAt;
  if (Object.keys(patch).length === 0) return;
  try {
    await updateProfileMetadata(entry.profile, patch, { ...ctx.store, lockTimeoutMs: 2000 });
  } catch {
    // A read-only or busy config folder only costs the offline view an update.
  }
}

function describeFailure(entry: ProfileStatus, found: Found, err: unknown): void {
  const message = oneLine((err as Error)?.message ?? String(err));
  const httpStatus = err instanceof APIError ? err.status : null;
  const set = (result: CheckResult, reason: string, fix: string[], authenticated: boolean | null = null) => {
    entry.check = { result, httpStatus, reason, message, rateLimit: null };
    entry.fix = fix;
    entry.authenticated = authenticated;
    entry.errorCode = errorCode(err);
  };
  const sdkFix = (err as { suggestions?: string[] }).suggestions ?? [];
  const rejectedFix = fixForRejectedKey(found.source, found.origin, entry.profile);
  if (err instanceof AuthenticationError) set("rejected", "unauthorized", rejectedFix, false);
  else if (err instanceof PermissionDeniedError)
    set(
      "rejected",
      "forbidden",
      ["Check your plan in the dashboard: this key is not allowed to read its account", ...rejectedFix],
      false,
    );
  else if (err instanceof ConnectionError) set("unreachable", err.reason, sdkFix);
  else if (err instanceof TimeoutError) set("unreachable", "timeout", sdkFix);
  else if (err instanceof ServerError) set("unreachable", "server-error", sdkFix);
  else if (err instanceof MalformedResponseError)
    set("unreachable", "not-json", [
      `Check the base URL (${entry.baseUrl}): something other than the GigaReels API answered (a proxy, a captive portal?)`,
    ]);
  else if (err instanceof CrossOriginRedirectError) set("unreachable", "redirect", sdkFix);
  else if (err instanceof RateLimitError) set("error", "rate-limited", sdkFix);
  else if (err instanceof NotFoundError) {
    // Not this API at all: a web server's 404 page (not-json) or another API's 404 (not-found).
    const wrong = notTheApi(entry.baseUrl, message);
    set("unreachable", err.body === undefined ? "not-json" : "not-found", wrong.fix);
    entry.check.message = wrong.message;
  } else if (err instanceof APIError) set("error", "http-error", sdkFix);
  else set("error", "unexpected", sdkFix);
  // The API cannot be reached (exit 5), whatever the error class says.
  if (entry.check.result === "unreachable") entry.errorCode = "connection_error";
}

function chooseBaseUrl(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  record: ProfileSummary | null,
): { url: string; source: ProfileStatus["baseUrlSource"] } {
  if (nonEmpty(flag)) return { url: flag.trim(), source: "--base-url" };
  if (nonEmpty(env.GIGAREELS_BASE_URL))
    return { url: env.GIGAREELS_BASE_URL.trim(), source: "GIGAREELS_BASE_URL" };
  if (record?.baseUrl) return { url: record.baseUrl, source: "profile" };
  return { url: DEFAULT_BASE_URL, source: "default" };
}

/** A key file's one final line break is normal (`echo key > file`); anything else is a mistake. */
function hasWhitespace(raw: string, source: KeySource): boolean {
  return hasSurroundingWhitespace(source === "env-file" ? raw.replace(/\r?\n$/, "") : raw);
}

/** Where a key came from, in words. */
export function describeOrigin(found: { source: KeySource | null; origin: string | null }): string {
  switch (found.source) {
    case "env":
      return "GIGAREELS_API_KEY";
    case "env-file":
      return `the file ${found.origin} (GIGAREELS_API_KEY_FILE)`;
    case "keychain":
      return `the ${found.origin}`;
    case "file":
      return `the credentials file ${found.origin}`;
    case "option":
      return "the apiKey option";
    default:
      return "nowhere";
  }
}

/** As auth/services.ts's withoutKeyVars, which cannot be imported here: that module loads the SDK client (ky). */
function withoutKeyVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { GIGAREELS_API_KEY: _k, GIGAREELS_API_KEY_FILE: _f, ...rest } = env;
  return rest;
}

function toAccount(a: { id?: unknown; email?: unknown; name?: unknown }): Omit<AccountStatus, "plan"> {
  return {
    id: typeof a.id === "string" ? a.id : "",
    email: typeof a.email === "string" ? a.email : "",
    name: typeof a.name === "string" && a.name !== "" ? a.name : null,
  };
}
