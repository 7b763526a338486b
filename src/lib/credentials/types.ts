/**
 * The one credential store interface, used by the CLI and by `new GigaReels()`.
 * Implemented in this folder; imports nothing of ours except leaf helpers.
 */
import type { Env } from "../sdk/env.js";

export type KeySource = "option" | "env" | "env-file" | "keychain" | "file";
export type KeyLocation = "keychain" | "file";
/**
 * How a stored key was obtained: minted by this CLI through the browser ("web") or device
 * ("device") login, or pasted/piped in ("token", from the dashboard: it may live elsewhere too).
 * Only a key this CLI minted is revoked on logout. A record without it counts as "token".
 */
export type KeyObtainedBy = "web" | "device" | "token";

export interface Account {
  id: string;
  email: string;
  name?: string;
}

/** One profile in credentials.json (v2). The key itself is only present when location is "file". */
export interface ProfileRecord {
  baseUrl: string;
  keyLocation: KeyLocation;
  apiKey?: string;
  keyId?: string;
  keyLast4: string;
  account?: Account;
  createdAt: string;
  /** Absent in records written before it existed: read as "token" (never revoked on logout). */
  obtainedBy?: KeyObtainedBy;
  /**
   * True when the person chose this plain-http loopback `baseUrl` at login (`--local`, or
   * `--base-url` as the emulator's printed command has it): `status` does not warn that it is
   * not https. Absent for https URLs and for a URL that came from the environment.
   */
  localChosen?: boolean;
}

export interface CredentialsFileV2 {
  version: 2;
  activeProfile: string;
  profiles: Record<string, ProfileRecord>;
}

/** A key found by `resolveApiKey`, with where it came from (for `status`). */
export interface ResolvedKey {
  /** Trimmed key. */
  key: string;
  /** The value as found, before trimming (to warn about surrounding whitespace). */
  raw: string;
  source: KeySource;
  /** Env var name, file path or keychain service/account, for messages. */
  origin: string;
  profile: string;
  /** Base URL stored with the profile, when the key came from a profile. */
  baseUrl?: string;
  record?: ProfileRecord;
}

export interface SaveResult {
  location: KeyLocation;
  profile: string;
  /** The profile that is active in the file after the save. */
  activeProfile: string;
  /** Path of credentials.json. */
  path: string;
  /** Set when the keychain was wanted but could not be used ("saved in plain text in <path>"). */
  fallbackWarning?: string;
}

export interface CredentialStoreOptions {
  /** Default: GIGAREELS_CONFIG_DIR or ~/.gigareels */
  configDir?: string;
  /** Default: GIGAREELS_CREDENTIAL_STORE, else "keychain" (falling back to the file). */
  store?: "keychain" | "file";
  /** Per keychain call. Default 3000 ms. */
  keychainTimeoutMs?: number;
  env?: Env;
  /** Receives one-line warnings (fallback to file, tightened permissions, migration). */
  onWarning?: (message: string) => void;
  /**
   * Reads only: a v1 file is read as v2 but not rewritten (the next write migrates it), and a
   * file or folder others can access is reported, not chmod-ed. The SDK reads this way.
   */
  readOnly?: boolean;
  /** How long to wait for the credentials.json lock. Default 15 000 ms. */
  lockTimeoutMs?: number;
  /** For tests: a keytar stand-in (or loader) instead of `import("keytar")`. */
  keytar?: import("./keychain.js").KeytarLike | (() => Promise<import("./keychain.js").KeytarLike>);
}

/** A profile as `status --offline` and `listProfiles` see it: the record without the key. */
export interface ProfileSummary extends Omit<ProfileRecord, "apiKey"> {
  name: string;
  active: boolean;
  /** True when the file holds the key itself (plain text). */
  keyInFile: boolean;
}

/** What `readCredentialsFile` found, without ever opening the keychain. */
export interface CredentialsFileSummary {
  path: string;
  /** "missing": no file; "ok": read (a v1 file is shown as v2, see migratedFrom). */
  state: "missing" | "ok";
  version?: number;
  /** 1 when the file on disk is still in the v1 format. */
  migratedFrom?: 1;
  /** From the file (or "default"); `activeProfileName` also honours --profile and GIGAREELS_PROFILE. */
  activeProfile: string;
  profiles: ProfileSummary[];
}

export interface DeleteResult {
  path: string;
  /** Profiles removed from credentials.json. */
  fileProfiles: string[];
  /** Profiles whose keychain item was removed. */
  keychainProfiles: string[];
  /** True when credentials.json itself was removed (no profile left, or `all`). */
  fileRemoved: boolean;
  /** Where a corrupt file was copied before `all` removed it. */
  keptAsidePath?: string;
  /** Problems that did not stop the removal (e.g. keychain unavailable). Also sent to onWarning. */
  warnings: string[];
}
