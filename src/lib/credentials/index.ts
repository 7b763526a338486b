// The credential store's public surface. (Stub: the implementation lands with issue 4.)
import type { CredentialStoreOptions, ResolvedKey } from "./types.js";

export type * from "./types.js";
export * from "./key-format.js";

export interface ResolveOptions extends CredentialStoreOptions {
  profile?: string;
}

/** Finds the key to use: GIGAREELS_API_KEY, GIGAREELS_API_KEY_FILE, the profile's keychain item, its file entry. */
export async function resolveApiKey(_options: ResolveOptions = {}): Promise<ResolvedKey | null> {
  return null;
}
