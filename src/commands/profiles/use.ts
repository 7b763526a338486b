import { Args } from "@oclif/core";
import { type ProfilesResult, useProfile } from "../../lib/auth/profiles.js";
import { BaseCommand } from "../../lib/cli/base-command.js";

export default class ProfilesUse extends BaseCommand {
  static override summary = "Make a profile the active one (used without --profile).";
  static override description =
    `Sets activeProfile in credentials.json, as gh auth switch does. An unknown name exits 2 and names the profiles that exist. GIGAREELS_PROFILE, where set, still overrides it.`;

  static override examples = [
    { description: "Use staging from now on", command: "<%= config.bin %> profiles use staging" },
  ];

  static override args = {
    name: Args.string({ description: "The profile to make active.", required: true }),
  };

  async run(): Promise<ProfilesResult> {
    const { args } = await this.parse(ProfilesUse);
    const result = await useProfile(args.name);
    const p = result.profiles.find((x) => x.active);
    this.log(
      `Active profile is now ${args.name}${p ? ` (${p.host}${p.email ? `, ${p.email}` : ""}, key ${p.key})` : ""}.`,
    );
    if (result.envProfile && result.envProfile !== args.name) {
      this.warning(
        `GIGAREELS_PROFILE=${result.envProfile} is set and still wins in this environment; unset it.`,
      );
    }
    return result;
  }
}
