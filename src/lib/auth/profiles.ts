/**
 * `gigareels profiles` and `gigareels profiles use NAME`, without oclif: lists the profiles of
 * credentials.json (never opening the keychain) and makes one the active profile, as
 * `gh auth switch` does for accounts.
 */
import type { KeyObtainedBy } from "../credentials/types.js";

export interface ProfileListing {
  name: string;
  active: boolean;
  baseUrl: string;
  host: string;
  email?: string;
  /** `giga_****abcd` */
  key: string;
  keyLocation: "keychain" | "file";
  obtainedBy: KeyObtainedBy;
}

export interface ProfilesResult {
  path: string;
  /** The file's active profile. */
  activeProfile: string;
  /** GIGAREELS_PROFILE, when set: it overrides the active profile in this environment. */
  envProfile?: string;
  profiles: ProfileListing[];
}

export interface ProfilesOptions {
  env?: NodeJS.ProcessEnv;
  configDir?: string;
}

export async function listProfileEntries(options: ProfilesOptions = {}): Promise<ProfilesResult> {
  const env = options.env ?? process.env;
  const { readCredentialsFile } = await import("../credentials/index.js");
  const file = await readCredentialsFile({
    env,
    ...(options.configDir ? { configDir: options.configDir } : {}),
  });
  const envProfile = env.GIGAREELS_PROFILE?.trim() || undefined;
  return {
    path: file.path,
    activeProfile: file.activeProfile,
    ...(envProfile ? { envProfile } : {}),
    profiles: file.profiles.map((p) => ({
      name: p.name,
      active: p.name === file.activeProfile,
      baseUrl: p.baseUrl,
      host: hostOf(p.baseUrl),
      ...(p.account?.email ? { email: p.account.email } : {}),
      key: `giga_****${p.keyLast4 ?? ""}`,
      keyLocation: p.keyLocation,
      obtainedBy: p.obtainedBy === "web" || p.obtainedBy === "device" ? p.obtainedBy : "token",
    })),
  };
}

/** Makes `name` the active profile; ProfileNotFoundError (naming the profiles) when it has none. */
export async function useProfile(name: string, options: ProfilesOptions = {}): Promise<ProfilesResult> {
  const env = options.env ?? process.env;
  const { setActiveProfile, ProfileNotFoundError } = await import("../credentials/index.js");
  const before = await listProfileEntries(options);
  if (!before.profiles.some((p) => p.name === name)) {
    throw new ProfileNotFoundError(
      name,
      before.profiles.map((p) => p.name),
      before.path,
    );
  }
  await setActiveProfile(name, { env, ...(options.configDir ? { configDir: options.configDir } : {}) });
  return listProfileEntries(options);
}

/**
 * Throws ProfileNotFoundError (exit 2, naming the profiles that exist) when `name` was asked
 * for explicitly but credentials.json has other profiles and not this one: a typo must not
 * read as "not logged in". Nothing is checked when a key variable is set (the profile's key
 * is not used), when there are no profiles at all (then "not logged in" is the truth), or when
 * the file cannot be read (the command reports that itself).
 */
export async function checkProfileExists(name: string, options: ProfilesOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  if ((env.GIGAREELS_API_KEY ?? "").trim() || (env.GIGAREELS_API_KEY_FILE ?? "").trim()) return;
  const { readCredentialsFile, ProfileNotFoundError } = await import("../credentials/index.js");
  const file = await readCredentialsFile({
    env,
    ...(options.configDir ? { configDir: options.configDir } : {}),
  }).catch(() => null);
  if (!file || file.profiles.length === 0 || file.profiles.some((p) => p.name === name)) return;
  throw new ProfileNotFoundError(
    name,
    file.profiles.map((p) => p.name),
    file.path,
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
