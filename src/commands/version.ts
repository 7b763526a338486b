import { BaseCommand } from "../lib/cli/base-command.js";
import { formatVersion, type VersionInfo, versionInfo } from "../lib/version/info.js";

export default class Version extends BaseCommand {
  static override summary =
    "Print the version, commit, build date, install method, platform and Node version.";
  static override description =
    `The same as --version and -v. --json prints the fields version, commit, buildDate, installMethod (npm, binary, homebrew, deb or source), platform and node.`;

  static override examples = [
    { description: "For a bug report", command: "<%= config.bin %> version" },
    { description: "In a script", command: "<%= config.bin %> version --json" },
  ];

  async run(): Promise<VersionInfo> {
    await this.parse(Version);
    const info = versionInfo();
    this.log(formatVersion(info));
    return info;
  }
}
