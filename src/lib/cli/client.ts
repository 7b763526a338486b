/**
 * The SDK client a command talks to the API with, from the shared flags (--profile,
 * --base-url, --local). The key is never a flag: GIGAREELS_API_KEY, GIGAREELS_API_KEY_FILE,
 * or the profile's stored key, as the SDK resolves it.
 */
import { GigaReels } from "../sdk/client.js";
import type { GigaReelsOptions } from "../sdk/types.js";
import { baseUrlFrom } from "./flags.js";
import { stderrLine } from "./output.js";

/** The SDK options every command's client gets: our User-Agent, and warnings printed on stderr. */
export function cliClientOptions(cliVersion: string): Pick<GigaReelsOptions, "userAgent" | "onWarning"> {
  return {
    userAgent: `gigareels-cli/${cliVersion}`,
    onWarning: (message) => stderrLine(`Warning: ${message}`),
  };
}

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
