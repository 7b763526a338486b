/**
 * What login and logout need from the layers below (the SDK and the credential store),
 * gathered in one seam so tests can swap a piece (e.g. the platform) without mocking HTTP.
 */
import type {
  Account,
  CredentialStoreOptions,
  DeleteResult,
  KeyLocation,
  KeyObtainedBy,
  ProfileSummary,
  ResolvedKey,
  SaveResult,
} from "../credentials/types.js";
import { GigaReels } from "../sdk/client.js";
import type { GigaReelsOptions, Me } from "../sdk/types.js";
import type { OAuthPost } from "./oauth.js";

export interface StoreOptions {
  configDir?: string;
  env: NodeJS.ProcessEnv;
  store?: KeyLocation;
  onWarning?: (message: string) => void;
}

export interface SaveKeyInput {
  profile: string;
  apiKey: string;
  baseUrl: string;
  keyId?: string;
  account?: Account;
  /** How the key was obtained: "web"/"device" (minted by this CLI) or "token" (pasted). */
  obtainedBy?: KeyObtainedBy;
  /** The person chose this plain-http loopback base URL (--local, --base-url): no http warning in status. */
  localChosen?: boolean;
  /** Make it the active profile (default: only when no usable profile is active). */
  activate?: boolean;
}

export interface AuthServices {
  platform: NodeJS.Platform;
  /** The SDK transport's keyless OAuth form POST against `baseUrl`. */
  oauthPost(baseUrl: string): OAuthPost;
  /** GET /api/me with `key`. */
  me(baseUrl: string, key: string, signal?: AbortSignal): Promise<Me>;
  /** The key stored for `profile` (keychain, then file); environment keys are ignored. */
  storedKey(profile: string, options: StoreOptions): Promise<ResolvedKey | null>;
  save(input: SaveKeyInput, options: StoreOptions): Promise<SaveResult>;
  remove(target: { profile: string } | { all: true }, options: StoreOptions): Promise<DeleteResult>;
  profiles(options: StoreOptions): Promise<ProfileSummary[]>;
  activeProfile(profile: string | undefined, options: StoreOptions): Promise<string>;
}

/** The real services. `client` adds SDK options (User-Agent, a proxy-aware fetch, debug). */
export function defaultAuthServices(client: Partial<GigaReelsOptions> = {}): AuthServices {
  const sdk = (baseUrl: string, apiKey?: string) =>
    new GigaReels({ ...client, baseUrl, ...(apiKey ? { apiKey } : {}), env: {} });
  const credentials = () => import("../credentials/index.js");
  const storeOptions = (o: StoreOptions): CredentialStoreOptions => ({
    ...(o.configDir ? { configDir: o.configDir } : {}),
    ...(o.store ? { store: o.store } : {}),
    ...(o.onWarning ? { onWarning: o.onWarning } : {}),
    env: withoutKeyVars(o.env),
  });
  return {
    platform: process.platform,
    oauthPost(baseUrl) {
      const transport = sdk(baseUrl).transport;
      return async (path, form, signal) => {
        const res = await transport.form(path, form, { signal });
        return { status: res.status, body: res.body };
      };
    },
    me: (baseUrl, key, signal) => sdk(baseUrl, key).me({ signal }),
    async storedKey(profile, o) {
      return (await credentials()).resolveApiKey({ ...storeOptions(o), profile });
    },
    async save(input, o) {
      const { saveCredentials } = await credentials();
      return saveCredentials(
        {
          profile: input.profile,
          key: input.apiKey,
          baseUrl: input.baseUrl,
          ...(input.keyId ? { keyId: input.keyId } : {}),
          ...(input.account ? { account: input.account } : {}),
          ...(input.obtainedBy ? { obtainedBy: input.obtainedBy } : {}),
          ...(input.localChosen ? { localChosen: true } : {}),
          ...(o.store ? { store: o.store } : {}),
          ...(input.activate !== undefined ? { activate: input.activate } : {}),
        },
        storeOptions(o),
      );
    },
    async remove(target, o) {
      return (await credentials()).deleteCredentials(target, storeOptions(o));
    },
    async profiles(o) {
      return (await credentials()).listProfiles(storeOptions(o));
    },
    async activeProfile(profile, o) {
      return (await credentials()).activeProfileName({ ...storeOptions(o), env: o.env, profile });
    },
  };
}

/** The environment minus the variables that would beat the stored credentials. */
export function withoutKeyVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { GIGAREELS_API_KEY: _k, GIGAREELS_API_KEY_FILE: _f, ...rest } = env;
  return rest;
}
