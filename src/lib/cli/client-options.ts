/**
 * The SDK options every command's client gets: our User-Agent, and warnings printed on stderr.
 * A module of its own, without the SDK client, so that commands which may never build a client
 * (`status --offline`, `logout`) do not load the client, its transport and its polling code.
 */
import type { GigaReelsOptions } from "../sdk/types.js";
import { stderrLine } from "./output.js";

export function cliClientOptions(cliVersion: string): Pick<GigaReelsOptions, "userAgent" | "onWarning"> {
  return {
    userAgent: `gigareels-cli/${cliVersion}`,
    onWarning: (message) => stderrLine(`Warning: ${message}`),
  };
}
