import { Flags } from "@oclif/core";
import { formatStatus } from "../lib/account/format.js";
import { status } from "../lib/account/status.js";
import { type StatusReportWithExit, statusWithExitCodes } from "../lib/cli/report-codes.js";
import { BaseCommand } from "../lib/cli/base-command.js";
import { baseUrlFlag, baseUrlFrom, localFlag, profileFlag } from "../lib/cli/flags.js";
import { decorationsAllowed } from "../lib/cli/output.js";
import { cliClientOptions } from "../lib/cli/client-options.js";

export default class Status extends BaseCommand {
  static override summary = "Show which API key is used, where it comes from, and whether it works.";
  static override description =
    `For the active profile (or --profile NAME, or --all): where the key comes from (GIGAREELS_API_KEY, the file named by GIGAREELS_API_KEY_FILE, the OS keychain, or credentials.json), the key masked, the base URL and the account; then it checks the key against the API (valid, rejected or unreachable), shows the key's age (rotate every 90 days) and warns about common mistakes. --offline reads only local state: no network, no keychain. --json prints one object (see the README).

Exit codes: 0 the key works (offline: a key was found), 4 no key or the key was rejected, 5 the API cannot be reached, 2 an unusable base URL. With --all, the worst of all profiles.`;

  static override examples = [
    { description: "Check the active profile's key", command: "<%= config.bin %> status" },
    { description: "Check every profile", command: "<%= config.bin %> status --all" },
    {
      description: "Show what is stored, without the network or the keychain",
      command: "<%= config.bin %> status --offline",
    },
    {
      description: "In a script: the account's email",
      command: "<%= config.bin %> status --json | jq -r '.profiles[0].account.email'",
    },
  ];

  static override flags = {
    profile: profileFlag,
    all: Flags.boolean({
      summary: "Show every profile (and the environment's key).",
      exclusive: ["profile"],
    }),
    offline: Flags.boolean({
      summary: "Do not check the key: read only local state (no network, no keychain).",
    }),
    "base-url": baseUrlFlag,
    local: localFlag,
  };

  async run(): Promise<StatusReportWithExit> {
    const { flags } = await this.parse(Status);
    const report = await status({
      profile: flags.profile,
      all: flags.all,
      offline: flags.offline,
      baseUrl: baseUrlFrom(flags),
      signal: this.signal,
      client: cliClientOptions(this.config.version),
    });
    const out = statusWithExitCodes(report);
    process.exitCode = out.exitCode;
    this.log(formatStatus(report, { color: decorationsAllowed(this.mode, process.stdout) }));
    return out;
  }
}
