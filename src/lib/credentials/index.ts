/**
 * The credential store: where the API key lives (the OS keychain, credentials.json as the
 * fallback), profiles, and key resolution for the CLI and `new GigaReels()`.
 * The file format is documented in ./file-store.ts. keytar is only imported when a key is
 * read from or written to the keychain.
 */
import {
  ApiKeyFileError,
  CredentialsError,
  InvalidCredentialStoreError,
  InvalidKeyFormatError,
  InvalidProfileNameError,
  KeychainUnavailableError,
  ProfileNotFoundError,
} from "./errors.js";
import {
  credentialsFilePath,
  DEFAULT_PROFILE,
  fileKey,
  type LoadedFile,
  loadCredentialsFile,
  migrateIfNeeded,
  mutateCredentialsFile,
} from "./file-store.js";
import {
  KeychainFailure,
  keychainAccounts,
  keychainDelete,
  keychainGet,
  keychainOrigin,
  keychainSet,
} from "./keychain.js";
import { readFile } from "../fs/promises.js";
import { describeKeyProblem, keyLast4, normalizeKey } from "./key-format.js";
import type {
  Account,
  CredentialStoreOptions,
  CredentialsFileSummary,
  CredentialsFileV2,
  DeleteResult,
  KeyLocation,
  KeyObtainedBy,
  ProfileRecord,
  ProfileSummary,
  ResolvedKey,
  SaveResult,
} from "./types.js";

export type * from "./types.js";
export * from "./errors.js";
export * from "./key-format.js";
export { DEFAULT_BASE_URL, DEFAULT_PROFILE } from "./file-store.js";
export { KEYCHAIN_SERVICE, type KeytarLike } from "./keychain.js";

export interface ResolveOptions extends CredentialStoreOptions {
  /** `--profile` value. */
  profile?: string;
  /** A key given explicitly (e.g. `new GigaReels({ apiKey })`); wins over everything. */
  apiKey?: string;
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The order profiles are listed in: case-insensitive, then by code point (names are ASCII:
 * PROFILE_NAME). Not localeCompare: its first call initialises ICU's collator, about 7 ms of a
 * `status --offline` run here as soon as a file holds two profiles, and its order depends on
 * the user's locale.
 */
export function compareProfileNames(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Throws InvalidProfileNameError unless `name` is a usable profile name. */
export function validateProfileName(name: string): string {
  if (!PROFILE_NAME.test(name)) throw new InvalidProfileNameError(name);
  return name;
}

const envOf = (o: CredentialStoreOptions) => o.env ?? process.env;

/** Path of credentials.json (GIGAREELS_CONFIG_DIR or ~/.gigareels). */
export function credentialsPath(options: CredentialStoreOptions = {}): string {
  return credentialsFilePath(options);
}

/** The store asked for: option, else GIGAREELS_CREDENTIAL_STORE, else undefined (keychain with fallback). */
function explicitStore(options: CredentialStoreOptions, override?: KeyLocation): KeyLocation | undefined {
  if (override) return override;
  if (options.store) return options.store;
  const v = envOf(options).GIGAREELS_CREDENTIAL_STORE?.trim().toLowerCase();
  if (!v) return undefined;
  if (v === "file" || v === "keychain") return v;
  throw new InvalidCredentialStoreError(v);
}

function warn(options: CredentialStoreOptions, message: string, sink?: string[]): void {
  sink?.push(message);
  options.onWarning?.(message);
}

function fileDataOrThrow(loaded: LoadedFile): CredentialsFileV2 | null {
  if (loaded.state === "missing") return null;
  if (loaded.state === "ok") return loaded.data;
  throw loaded.error;
}

/** `--profile` value, else GIGAREELS_PROFILE, else the file's activeProfile, else "default". */
export async function activeProfileName(options: ResolveOptions = {}): Promise<string> {
  if (options.profile) return validateProfileName(options.profile);
  const fromEnv = envOf(options).GIGAREELS_PROFILE?.trim();
  if (fromEnv) return validateProfileName(fromEnv);
  const data = fileDataOrThrow(await loadCredentialsFile(options));
  return data?.activeProfile ?? DEFAULT_PROFILE;
}

/** Like activeProfileName, but a broken file does not stop it (for env keys). */
async function activeProfileNameLenient(options: ResolveOptions): Promise<string> {
  if (options.profile) return validateProfileName(options.profile);
  const fromEnv = envOf(options).GIGAREELS_PROFILE?.trim();
  if (fromEnv) return validateProfileName(fromEnv);
  try {
    const loaded = await loadCredentialsFile({ ...options, onWarning: undefined });
    if (loaded.state === "ok") return loaded.data.activeProfile;
  } catch {}
  return DEFAULT_PROFILE;
}

/**
 * Finds the key to use, in this order: `apiKey` option, GIGAREELS_API_KEY,
 * GIGAREELS_API_KEY_FILE, the active profile's keychain item, its file entry. Returns null
 * when there is none. A keychain that fails or times out is reported through onWarning
 * (when the profile says its key is there) and the file entry is tried next.
 */
export async function resolveApiKey(options: ResolveOptions = {}): Promise<ResolvedKey | null> {
  const env = envOf(options);
  if (options.apiKey !== undefined && normalizeKey(options.apiKey) !== "") {
    const profile = await activeProfileNameLenient(options);
    return {
      key: normalizeKey(options.apiKey),
      raw: options.apiKey,
      source: "option",
      origin: "apiKey option",
      profile,
    };
  }
  const envKey = env.GIGAREELS_API_KEY;
  if (envKey !== undefined && normalizeKey(envKey) !== "") {
    const profile = await activeProfileNameLenient(options);
    return { key: normalizeKey(envKey), raw: envKey, source: "env", origin: "GIGAREELS_API_KEY", profile };
  }
  const keyFile = env.GIGAREELS_API_KEY_FILE?.trim();
  if (keyFile) {
    let raw: string;
    try {
      raw = await readFile(keyFile, "utf8");
    } catch (err) {
      throw new ApiKeyFileError(keyFile, (err as NodeJS.ErrnoException).code ?? "unreadable");
    }
    if (normalizeKey(raw) === "") throw new ApiKeyFileError(keyFile, "empty");
    const profile = await activeProfileNameLenient(options);
    return { key: normalizeKey(raw), raw, source: "env-file", origin: keyFile, profile };
  }

  const profile = await activeProfileName(options);
  const loaded = await loadCredentialsFile(options);
  const data = fileDataOrThrow(loaded);
  if (loaded.state === "ok" && loaded.migratedFrom && !options.readOnly) await migrateIfNeeded(options);
  const record = data?.profiles[profile];
  const store = explicitStore(options);

  // Keychain: when the record says the key is there, or when there is no record at all
  // (a keychain item without metadata); not when the file store is forced.
  const askKeychain = store !== "file" && (!record || record.keyLocation === "keychain");
  if (askKeychain) {
    try {
      const raw = await keychainGet(profile, options);
      if (raw !== null && normalizeKey(raw) !== "") {
        const found: ResolvedKey = {
          key: normalizeKey(raw),
          raw,
          source: "keychain",
          origin: keychainOrigin(profile),
          profile,
        };
        if (record) {
          found.baseUrl = record.baseUrl;
          found.record = stripKey(record);
        }
        return found;
      }
      if (record?.keyLocation === "keychain") {
        warn(
          options,
          `Profile "${profile}" says its key is in the ${keychainOrigin(profile)}, but there is no such item. Run \`gigareels login${profile === DEFAULT_PROFILE ? "" : ` --profile ${profile}`}\`.`,
        );
      }
    } catch (err) {
      if (!(err instanceof KeychainFailure)) throw err;
      if (record?.keyLocation === "keychain") {
        warn(
          options,
          `Could not read the key of profile "${profile}" from the OS keychain (${err.reason}). Unlock your keyring, or run \`gigareels login --insecure-storage\` to keep the key in ${loaded.path}.`,
        );
      }
    }
  }

  const raw = fileKey(record);
  if (raw !== undefined && record) {
    return {
      key: normalizeKey(raw),
      raw,
      source: "file",
      origin: loaded.path,
      profile,
      baseUrl: record.baseUrl,
      record: stripKey(record),
    };
  }
  return null;
}

function stripKey(record: ProfileRecord): ProfileRecord {
  const { apiKey: _drop, ...rest } = record;
  return rest;
}

function summarize(name: string, record: ProfileRecord, activeProfile: string): ProfileSummary {
  const { apiKey, ...rest } = record;
  return {
    ...rest,
    name,
    active: name === activeProfile,
    keyInFile: typeof apiKey === "string" && apiKey !== "",
  };
}

/**
 * Reads credentials.json only (never the keychain, never keytar): for `status --offline`
 * and `profiles` listings. Throws the file's error when it is corrupt, a newer version,
 * a symlink or unreadable. A v1 file is shown as v2 (migratedFrom: 1) and not rewritten.
 */
export async function readCredentialsFile(
  options: CredentialStoreOptions = {},
): Promise<CredentialsFileSummary> {
  const loaded = await loadCredentialsFile(options);
  const data = fileDataOrThrow(loaded);
  if (!data) return { path: loaded.path, state: "missing", activeProfile: DEFAULT_PROFILE, profiles: [] };
  const summary: CredentialsFileSummary = {
    path: loaded.path,
    state: "ok",
    version: loaded.state === "ok" && loaded.migratedFrom ? 1 : data.version,
    activeProfile: data.activeProfile,
    profiles: Object.entries(data.profiles)
      .sort(([a], [b]) => compareProfileNames(a, b))
      .map(([name, rec]) => summarize(name, rec, data.activeProfile)),
  };
  if (loaded.state === "ok" && loaded.migratedFrom) summary.migratedFrom = 1;
  return summary;
}

/**
 * The selected profile (`--profile`, GIGAREELS_PROFILE, the file's active one) as stored in
 * the file, without the key; null when it has no entry. Never opens the keychain.
 */
export async function readProfileOffline(
  options: ResolveOptions = {},
): Promise<(ProfileSummary & { path: string }) | null> {
  const file = await readCredentialsFile(options);
  const name = options.profile
    ? validateProfileName(options.profile)
    : envOf(options).GIGAREELS_PROFILE?.trim() || file.activeProfile;
  const p = file.profiles.find((x) => x.name === name);
  return p ? { ...p, active: true, path: file.path } : null;
}

/** Every profile in the file (without keys), sorted by name. Never opens the keychain. */
export async function listProfiles(options: CredentialStoreOptions = {}): Promise<ProfileSummary[]> {
  return (await readCredentialsFile(options)).profiles;
}

export interface SaveInput {
  profile: string;
  key: string;
  baseUrl: string;
  keyId?: string;
  account?: Account;
  createdAt?: string;
  /** How the key was obtained (login --web, --device, --with-token). */
  obtainedBy?: KeyObtainedBy;
  /** The person chose this plain-http loopback base URL at login (ProfileRecord.localChosen). */
  localChosen?: boolean;
  /** "file" for --insecure-storage; "keychain" forces it (no fallback). Default: option/env, else keychain with fallback. */
  store?: KeyLocation;
  /** Make this the active profile. Default: only when the file has no usable active profile yet. */
  activate?: boolean;
}

/**
 * Stores a key for a profile: in the OS keychain by default, with the metadata (keyLast4,
 * keyId, account, createdAt, baseUrl) in credentials.json; in the file when asked, or when
 * the keychain fails (then `fallbackWarning` says "saved in plain text in <path>", also sent
 * to onWarning). An explicit "keychain" store does not fall back: it throws instead.
 * A corrupt credentials.json is copied aside and replaced.
 */
export async function saveCredentials(
  input: SaveInput,
  options: CredentialStoreOptions = {},
): Promise<SaveResult> {
  const profile = validateProfileName(input.profile);
  const key = normalizeKey(input.key);
  const problem = describeKeyProblem(key);
  if (problem) throw new InvalidKeyFormatError(problem);
  const path = credentialsFilePath(options);
  const explicit = explicitStore(options, input.store);
  let location: KeyLocation = explicit ?? "keychain";
  let fallbackWarning: string | undefined;
  /** The keychain item before this save: a string, null for none, undefined when unknown. */
  let keychainBefore: string | null | undefined;

  if (location === "keychain") {
    try {
      // Kept to put it back should the file write fail (the new value replaces it in place).
      keychainBefore = await keychainGet(profile, options).catch(() => undefined);
      await keychainSet(profile, key, options);
    } catch (err) {
      if (!(err instanceof KeychainFailure)) throw err;
      if (explicit === "keychain") throw new KeychainUnavailableError(err.reason);
      location = "file";
      fallbackWarning = `OS keychain unavailable (${err.reason}): API key saved in plain text in ${path}`;
    }
  }

  const record: ProfileRecord = {
    baseUrl: input.baseUrl,
    keyLocation: location,
    ...(location === "file" ? { apiKey: key } : {}),
    ...(input.keyId !== undefined ? { keyId: input.keyId } : {}),
    keyLast4: keyLast4(key),
    ...(input.account !== undefined ? { account: input.account } : {}),
    createdAt: input.createdAt ?? new Date().toISOString(),
    ...(input.obtainedBy !== undefined ? { obtainedBy: input.obtainedBy } : {}),
    ...(input.localChosen ? { localChosen: true } : {}),
  };

  // New value first, old one removed after: the keychain item is written above, the file
  // here; when the file write fails the keychain gets its previous item back, so what was
  // stored before stays readable (a file entry whose key lives in the keychain included).
  let written: { previous: ProfileRecord | undefined; activeProfile: string };
  try {
    written = await mutateCredentialsFile(
      { ...options, onCorrupt: "replace", lockTimeoutMs: options.lockTimeoutMs },
      (data) => {
        const prev = data.profiles[profile];
        const hadActive = data.profiles[data.activeProfile] !== undefined;
        data.profiles[profile] = record;
        if (input.activate ?? !hadActive) data.activeProfile = profile;
        return { next: data, result: { previous: prev, activeProfile: data.activeProfile } };
      },
    );
  } catch (err) {
    if (location === "keychain") await restoreKeychain(profile, keychainBefore, options);
    throw err;
  }
  const { previous, activeProfile } = written;
  if (fallbackWarning) options.onWarning?.(fallbackWarning);

  // The key moved from the keychain to the file: remove the stale keychain item (best effort).
  if (location === "file" && previous?.keyLocation === "keychain" && !fallbackWarning) {
    await keychainDelete(profile, options).catch((err: unknown) => {
      if (err instanceof KeychainFailure) {
        warn(
          options,
          `The old key of profile "${profile}" could not be removed from the ${keychainOrigin(profile)} (${err.reason}).`,
        );
      } else throw err;
    });
  }
  const result: SaveResult = { location, profile, activeProfile, path };
  if (fallbackWarning) result.fallbackWarning = fallbackWarning;
  return result;
}

/** Puts the keychain item of `profile` back as it was before a save whose file write failed. */
async function restoreKeychain(
  profile: string,
  before: string | null | undefined,
  options: CredentialStoreOptions,
): Promise<void> {
  try {
    if (before === null) await keychainDelete(profile, options);
    else if (before !== undefined) await keychainSet(profile, before, options);
    else throw new KeychainFailure("its previous value could not be read", "error");
  } catch (err) {
    const why = err instanceof KeychainFailure ? err.reason : (err as Error).message;
    warn(
      options,
      `The ${keychainOrigin(profile)} now holds the new key but credentials.json could not be updated, and the previous item could not be put back (${why}); run \`gigareels login${profile === DEFAULT_PROFILE ? "" : ` --profile ${profile}`}\` again.`,
    );
  }
}

/**
 * Updates a profile's metadata in credentials.json (keyId, account, baseUrl, createdAt) without
 * touching the key, e.g. after `status` fetched the account. Throws ProfileNotFoundError.
 */
export async function updateProfileMetadata(
  profile: string,
  patch: { keyId?: string; account?: Account; baseUrl?: string; createdAt?: string },
  options: CredentialStoreOptions = {},
): Promise<ProfileSummary> {
  validateProfileName(profile);
  return mutateCredentialsFile(options, (data, ctx) => {
    const rec = data.profiles[profile];
    if (!rec) throw new ProfileNotFoundError(profile, Object.keys(data.profiles), ctx.path);
    if (patch.keyId !== undefined) rec.keyId = patch.keyId;
    if (patch.account !== undefined) rec.account = patch.account;
    if (patch.baseUrl !== undefined) rec.baseUrl = patch.baseUrl;
    if (patch.createdAt !== undefined) rec.createdAt = patch.createdAt;
    return { next: data, result: summarize(profile, rec, data.activeProfile) };
  });
}

/** Makes `profile` the file's active profile. Throws ProfileNotFoundError when it has no entry. */
export async function setActiveProfile(profile: string, options: CredentialStoreOptions = {}): Promise<void> {
  validateProfileName(profile);
  await mutateCredentialsFile(options, (data, ctx) => {
    if (!data.profiles[profile])
      throw new ProfileNotFoundError(profile, Object.keys(data.profiles), ctx.path);
    data.activeProfile = profile;
    return { next: data, result: undefined };
  });
}

/**
 * Removes a profile (or all) from both the keychain and credentials.json and says what was
 * removed. The file is deleted when no profile is left. Keychain failures do not stop the
 * removal; they are reported (warnings + onWarning). With `all`, a corrupt file is copied
 * aside and removed; for one profile a corrupt file is an error.
 */
export async function deleteCredentials(
  target: { profile: string } | { all: true },
  options: CredentialStoreOptions = {},
): Promise<DeleteResult> {
  const all = "all" in target && target.all === true;
  const one = all ? undefined : validateProfileName((target as { profile: string }).profile);
  const path = credentialsFilePath(options);
  const warnings: string[] = [];
  const store = explicitStore(options);

  let keptAsidePath: string | undefined;
  const { removed, keychainNames, pointed, fileRemoved } = await mutateCredentialsFile(
    { ...options, onCorrupt: all ? "replace" : "throw" },
    (data, ctx) => {
      keptAsidePath = ctx.keptAsidePath;
      const names = all ? Object.keys(data.profiles) : one && data.profiles[one] ? [one] : [];
      // Keychain items to remove: those the file points to, plus (unless the file store is
      // forced) the one of the named profile even without an entry (an orphan item).
      const pointed = new Set<string>();
      for (const n of names) if (data.profiles[n]?.keyLocation === "keychain") pointed.add(n);
      const kc = new Set(pointed);
      if (one && store !== "file") kc.add(one);
      for (const n of names) delete data.profiles[n];
      const left = Object.keys(data.profiles);
      if (left.length === 0) {
        return {
          next: ctx.existed ? null : undefined,
          result: { removed: names, keychainNames: kc, pointed, fileRemoved: ctx.existed },
        };
      }
      if (!data.profiles[data.activeProfile]) {
        data.activeProfile = data.profiles[DEFAULT_PROFILE] ? DEFAULT_PROFILE : left.sort()[0]!;
      }
      return {
        next: names.length ? data : undefined,
        result: { removed: names, keychainNames: kc, pointed, fileRemoved: false },
      };
    },
  );

  const keychainProfiles: string[] = [];
  // Only a key the file said is in the keychain is worth a warning when it cannot be removed;
  // a look for an orphan item (the key was in the file) stays quiet when the keychain fails.
  const mustReport = pointed;
  if (all && store !== "file") {
    try {
      for (const n of await keychainAccounts(options)) keychainNames.add(n);
    } catch (err) {
      if (!(err instanceof KeychainFailure)) throw err;
      if (mustReport.size) {
        warn(options, `Could not list the OS keychain items of service gigareels (${err.reason}).`, warnings);
      }
    }
  }
  for (const n of keychainNames) {
    try {
      if (await keychainDelete(n, options)) keychainProfiles.push(n);
    } catch (err) {
      if (!(err instanceof KeychainFailure)) throw err;
      if (mustReport.has(n)) {
        warn(
          options,
          `Could not remove the key of profile "${n}" from the ${keychainOrigin(n)} (${err.reason}); remove it with your keychain tool.`,
          warnings,
        );
      }
    }
  }
  const result: DeleteResult = {
    path,
    fileProfiles: removed,
    keychainProfiles: keychainProfiles.sort(),
    fileRemoved,
    warnings,
  };
  if (keptAsidePath) result.keptAsidePath = keptAsidePath;
  return result;
}

/** True when `err` is one of the credential store's errors (has `code` and `suggestions`). */
export function isCredentialsError(err: unknown): err is CredentialsError {
  return err instanceof CredentialsError;
}
