import { listProfileEntries, type ProfilesResult } from "../../lib/auth/profiles.js";
import { BaseCommand } from "../../lib/cli/base-command.js";

export default class Profiles extends BaseCommand {
  static override summary = "List the credentials profiles; the active one is marked with *.";
  static override description =
    `Reads credentials.json only (never the keychain or the network). The active profile is the one used without --profile; GIGAREELS_PROFILE overrides it where set. Make another one active with \`gigareels profiles use NAME\` (as gh auth switch does).`;

  static override examples = [
    { description: "List the profiles", command: "<%= config.bin %> profiles" },
    { description: "Make staging the active profile", command: "<%= config.bin %> profiles use staging" },
    { description: "As JSON", command: "<%= config.bin %> profiles --json" },
  ];

  async run(): Promise<ProfilesResult> {
    await this.parse(Profiles);
    const result = await listProfileEntries();
    if (result.profiles.length === 0) {
      this.log(`No profiles in ${result.path}. Run gigareels login to create one.`);
      return result;
    }
    const width = Math.max(...result.profiles.map((p) => p.name.length));
    const hostWidth = Math.max(...result.profiles.map((p) => p.host.length));
    for (const p of result.profiles) {
      const who = p.email ? `  ${p.email}` : "";
      this.log(
        `${p.active ? "*" : " "} ${p.name.padEnd(width)}  ${p.host.padEnd(hostWidth)}  ${p.key}${who}`,
      );
    }
    if (result.envProfile && result.envProfile !== result.activeProfile) {
      this.info(`GIGAREELS_PROFILE=${result.envProfile} overrides the active profile in this environment.`);
    }
    return result;
  }
}
