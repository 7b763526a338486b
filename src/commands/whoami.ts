import { formatWhoami, whoami } from "../lib/account/whoami.js";
import { BaseCommand } from "../lib/cli/base-command.js";
import { baseUrlFlag, baseUrlFrom, localFlag, profileFlag } from "../lib/cli/flags.js";
import { isTerminal } from "../lib/cli/output.js";
import type { Me } from "../lib/sdk/types.js";
import { cliClientOptions } from "../lib/cli/client-options.js";

export default class Whoami extends BaseCommand {
  static override summary = "Print the account behind the API key.";
  static override description =
    `Asks the API (GET /api/me) who the key belongs to. In a terminal it prints the email, name and plan; when stdout is not a terminal, only the email, so $(gigareels whoami) works; --json prints the whole answer.

Exit codes: 4 no key or the key was rejected, 5 the API cannot be reached.`;

  static override examples = [
    { description: "Who am I?", command: "<%= config.bin %> whoami" },
    { description: "In a script", command: 'EMAIL="$(<%= config.bin %> whoami)"' },
    { description: "Everything the API says", command: "<%= config.bin %> whoami --json" },
  ];

  static override flags = {
    profile: profileFlag,
    "base-url": baseUrlFlag,
    local: localFlag,
  };

  async run(): Promise<Me> {
    const { flags } = await this.parse(Whoami);
    const me = await whoami({
      profile: flags.profile,
      baseUrl: baseUrlFrom(flags),
      signal: this.signal,
      client: cliClientOptions(this.config.version),
    });
    this.log(formatWhoami(me, isTerminal(process.stdout)));
    return me;
  }
}
