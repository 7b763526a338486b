/**
 * `gigareels logout`, without oclif: forgets the stored key (removes it from the keychain and
 * credentials.json), for one profile or all, and revokes it on the server only when this CLI
 * minted it (login --web / --device), or when asked (`revoke`) for a pasted one; a key that
 * another profile still holds is never revoked (provenance.ts). A failed revocation is a
 * warning. Logging out when logged out succeeds and says so.
 */
import { compareProfileNames } from "../credentials/index.js";
import { maskKey } from "../credentials/key-format.js";
import type { KeyObtainedBy, ResolvedKey } from "../credentials/types.js";
import { DEFAULT_BASE_URL } from "../sdk/config.js";
import type { GigaReelsOptions } from "../sdk/types.js";
import { keyEnvVarSet } from "./login.js";
import { revokeKey } from "./oauth.js";
import { decideRevoke, type KeepReason } from "./provenance.js";
import { type AuthServices, defaultAuthServices, type StoreOptions } from "./services.js";

export interface LogoutOptions {
  /** --profile; default GIGAREELS_PROFILE, else the active profile. */
  profile?: string;
  /** --all: every profile. */
  all?: boolean;
  /** --revoke: also revoke a pasted key (one this CLI did not mint), unless another profile holds it. */
  revoke?: boolean;
  env?: NodeJS.ProcessEnv;
  configDir?: string;
  signal?: AbortSignal;
  /** Wait for the revocation at most this long. Default 15 s. */
  revokeTimeoutMs?: number;
  warn: (line: string) => void;
  services?: Partial<AuthServices>;
  client?: Partial<GigaReelsOptions>;
}

export interface LoggedOutProfile {
  profile: string;
  /** Host the key belonged to. */
  host?: string;
  /** `giga_****abcd`, when a key was stored. */
  key?: string;
  /** true: revoked on the server; false: the server could not revoke it; null: not tried (no key, or `kept`). */
  revoked: boolean | null;
  revokeError?: string;
  /** How the key was obtained (login --web, --device, or a pasted/piped key: "token"). */
  obtainedBy?: KeyObtainedBy;
  /** Why the key was only forgotten, not revoked: pasted (without --revoke), or shared with another profile. */
  kept?: KeepReason;
  /** The other profiles holding the same key (kept: "shared"). */
  sharedWith?: string[];
  /** Where the key or its entry was removed from. */
  removedFrom: Array<"keychain" | "file">;
}

export interface LogoutResult {
  profiles: LoggedOutProfile[];
  /** Nothing was stored: there was nothing to do. */
  alreadyLoggedOut: boolean;
  credentialsPath: string;
  /** A key variable that is still set and still authenticates every command. */
  envKeyStillSet?: string;
}

export async function logout(options: LogoutOptions): Promise<LogoutResult> {
  const env = options.env ?? process.env;
  const services = { ...defaultAuthServices(options.client), ...options.services };
  const store: StoreOptions = { configDir: options.configDir, env, onWarning: options.warn };
  const quiet: StoreOptions = { configDir: options.configDir, env };

  const names = options.all
    ? (await services.profiles(quiet)).map((p) => p.name)
    : [await services.activeProfile(options.profile, quiet)];
  // What credentials.json says about each profile (host, last 4), for a key that cannot be read.
  const records = new Map((await services.profiles(quiet).catch(() => [])).map((p) => [p.name, p] as const));

  const found = new Map<string, ResolvedKey>();
  for (const name of names) {
    try {
      const stored = await services.storedKey(name, store);
      if (stored) found.set(name, stored);
    } catch (err) {
      options.warn(`Could not read the stored key of profile ${name}: ${(err as Error).message}`);
    }
  }

  const results = new Map<string, LoggedOutProfile>();
  const revokedKeys = new Map<string, boolean>();
  for (const name of names) {
    const stored = found.get(name);
    const entry: LoggedOutProfile = { profile: name, revoked: null, removedFrom: [] };
    if (stored) {
      const baseUrl = stored.baseUrl ?? stored.record?.baseUrl ?? DEFAULT_BASE_URL;
      entry.host = hostOf(baseUrl);
      entry.key = maskKey(stored.key);
      const decision = await decideRevoke(services, name, stored, {
        revokePasted: options.revoke,
        leaving: names,
        store: quiet,
      });
      entry.obtainedBy = decision.obtainedBy;
      if (decision.keep) {
        entry.kept = decision.keep;
        if (decision.sharedWith) entry.sharedWith = decision.sharedWith;
      } else if (revokedKeys.has(stored.key)) {
        // logout --all with two profiles holding one key: revoked once, with the first.
        entry.revoked = revokedKeys.get(stored.key)!;
      } else {
        const limit = AbortSignal.timeout(options.revokeTimeoutMs ?? 15_000);
        const signal = options.signal ? AbortSignal.any([options.signal, limit]) : limit;
        try {
          await revokeKey(services.oauthPost(baseUrl), stored.key, { signal });
          entry.revoked = true;
        } catch (err) {
          if (options.signal?.aborted) throw err;
          entry.revoked = false;
          entry.revokeError = (err as Error).message;
          options.warn(
            `Could not revoke ${entry.key} on ${entry.host} (${entry.revokeError}); it was still removed from this machine. Revoke it in the dashboard (Settings -> API Keys).`,
          );
        }
        revokedKeys.set(stored.key, entry.revoked);
      }
    } else if (records.has(name)) {
      // The profile has an entry but its key could not be read (a locked keychain, a deleted
      // item): it cannot be revoked from here, and saying "logged out" alone would hide that.
      const record = records.get(name)!;
      entry.host = hostOf(record.baseUrl ?? DEFAULT_BASE_URL);
      entry.key = record.keyLast4 ? `giga_****${record.keyLast4}` : "giga_****";
      entry.obtainedBy =
        record.obtainedBy === "web" || record.obtainedBy === "device" ? record.obtainedBy : "token";
      if (entry.obtainedBy === "token" && !options.revoke) {
        // A pasted key would only be forgotten anyway.
        entry.kept = "pasted";
      } else {
        entry.revoked = false;
        entry.revokeError = "the key could not be read";
        options.warn(
          `${entry.key} was NOT revoked on ${entry.host}: ${entry.revokeError}. Revoke it in the dashboard (Settings -> API Keys).`,
        );
      }
    }
    results.set(name, entry);
  }

  const removed = await services.remove(options.all ? { all: true } : { profile: names[0]! }, store);
  for (const name of removed.fileProfiles) {
    const e = results.get(name) ?? { profile: name, revoked: null, removedFrom: [] };
    e.removedFrom.push("file");
    results.set(name, e);
  }
  for (const name of removed.keychainProfiles) {
    const e = results.get(name) ?? { profile: name, revoked: null, removedFrom: [] };
    e.removedFrom.push("keychain");
    results.set(name, e);
  }

  const profiles = [...results.values()].sort((a, b) => compareProfileNames(a.profile, b.profile));
  const envVar = keyEnvVarSet(env);
  return {
    profiles,
    alreadyLoggedOut: found.size === 0 && profiles.every((p) => p.removedFrom.length === 0),
    credentialsPath: removed.path,
    ...(envVar ? { envKeyStillSet: envVar } : {}),
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
