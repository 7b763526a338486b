/**
 * The one credential store interface, used by the CLI and by `new GigaReels()`.
 * Implemented in this folder; imports nothing of ours except leaf helpers.
 */

export type KeySource = "option" | "env" | "env-file" | "keychain" | "file";
export type KeyLocation = "keychain" | "file";

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
  env?: NodeJS.ProcessEnv;
  /** Receives one-line warnings (fallback to file, tightened permissions, migration). */
  onWarning?: (message: string) => void;
}
