/**
 * The SDK client a command talks to the API with, from the shared flags (--profile,
 * --base-url, --local). The key is never a flag: GIGAREELS_API_KEY, GIGAREELS_API_KEY_FILE,
 * or the profile's stored key, as the SDK resolves it.
 */
import { GigaReels } from "../sdk/client.js";
import { cliClientOptions } from "./client-options.js";
import { baseUrlFrom } from "./flags.js";

export interface ApiFlags {
  profile?: string;
  "base-url"?: string;
  local?: boolean;
}

export function apiClient(flags: ApiFlags, cliVersion: string): GigaReels {
  return new GigaReels({
    profile: flags.profile,
    baseUrl: baseUrlFrom(flags),
    ...cliClientOptions(cliVersion),
  });
}
