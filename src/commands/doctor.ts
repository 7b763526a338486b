import { Flags } from "@oclif/core";
import { BaseCommand } from "../lib/cli/base-command.js";
import { baseUrlFlag, baseUrlFrom, localFlag, profileFlag } from "../lib/cli/flags.js";
import { decorationsAllowed } from "../lib/cli/output.js";
import { type DoctorResultWithExit, doctorWithExitCodes } from "../lib/cli/report-codes.js";
import { formatCheck, formatSummary, runDoctor } from "../lib/doctor/index.js";

export default class Doctor extends BaseCommand {
  static override summary =
    "Check the key, the credential store, the network path to the API and the login port.";
  static override description =
    `Runs these checks in order and prints one line for each, with a fix for each failure: the API key (where it comes from, its format); credentials.json (permissions, format); the OS keychain (available, locked, not answering); DNS for the API host; a TCP connection; TLS (and which certificate authority verified it: Node's bundled store, NODE_EXTRA_CA_CERTS or the system's); the proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) and whether it answers; the API's answer to /api/me; this machine's clock against the server's; whether 127.0.0.1 can take the browser login's callback.

When a proxy applies, DNS and TCP are checked for the proxy, and TLS through its tunnel. Nothing is changed, except that a credentials.json readable by others is tightened to 0600 when the key is read (and reported).

Exit code: 0 when nothing failed, else that of the first failed check: 4 for the key or the API's refusal of it, 5 for the network (DNS, TCP, TLS, proxy, the API unreachable), 2 for the login port, 1 for the files, the keychain and the clock.`;

  static override examples = [
    { description: "Check everything", command: "<%= config.bin %> doctor" },
    {
      description: "Check another profile and the port browser login will use",
      command: "<%= config.bin %> doctor --profile staging --port 8123",
    },
    { description: "For a script or a bug report", command: "<%= config.bin %> doctor --json" },
  ];

  static override flags = {
    profile: profileFlag,
    "base-url": baseUrlFlag,
    local: localFlag,
    port: Flags.integer({
      summary:
        "Check this port for the browser login callback (as login --web --port; default: any free port).",
      min: 1,
      max: 65535,
      helpValue: "PORT",
    }),
  };

  async run(): Promise<DoctorResultWithExit> {
    const { flags } = await this.parse(Doctor);
    const json = this.jsonEnabled();
    const decorated = decorationsAllowed(this.mode, process.stdout);
    const result = await runDoctor({
      profile: flags.profile,
      baseUrl: baseUrlFrom(flags),
      port: flags.port,
      signal: this.signal,
      userAgent: `gigareels-cli/${this.config.version}`,
      onCheck: json ? undefined : (c) => this.log(formatCheck(c, { decorated })),
    });
    const out = doctorWithExitCodes(result);
    if (!json) this.log(formatSummary(result, out.exitCode, { decorated }));
    process.exitCode = out.exitCode;
    return out;
  }
}
