/** Flags shared by commands (cli-conventions.md, "Flags shared by commands"). */
import { Flags } from "@oclif/core";
import { parseDuration } from "./duration.js";

export const profileFlag = Flags.string({
  summary: "Credentials profile to use (default: GIGAREELS_PROFILE or 'default').",
  helpValue: "NAME",
});

export const baseUrlFlag = Flags.string({
  summary: "API base URL (default: GIGAREELS_BASE_URL, the profile's, or https://gigareels.com).",
  helpValue: "URL",
});

export const localFlag = Flags.boolean({
  summary: "Use the local development server at http://localhost:3000.",
  exclusive: ["base-url"],
});

/** A duration flag (90s, 5m, 1h, or seconds) parsed to milliseconds; zero is refused. */
export const durationFlag = (summary: string, defaultValue?: string) =>
  Flags.custom<number>({
    summary,
    helpValue: "DURATION",
    parse: async (input) => parseDuration(input),
    ...(defaultValue ? { default: async () => parseDuration(defaultValue) } : {}),
  })();

/** What --local means (gigareels-api.md, part B). */
export const LOCAL_BASE_URL = "http://localhost:3000";

/** --base-url, else --local's URL, else undefined (the SDK decides: env, profile, default). */
export function baseUrlFrom(flags: { "base-url"?: string; local?: boolean }): string | undefined {
  return flags["base-url"] ?? (flags.local ? LOCAL_BASE_URL : undefined);
}
