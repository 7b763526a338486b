import { Flags } from "@oclif/core";
import { type LogoutResult, logout } from "../lib/auth/logout.js";
import { BaseCommand } from "../lib/cli/base-command.js";
import { profileFlag } from "../lib/cli/flags.js";

export default class Logout extends BaseCommand {
  static override summary = "Revoke the stored API key and remove it from this machine.";
  static override description =
    `Revokes the key on the server (a failure there is a warning: the key is still removed locally), then removes it from the OS keychain and credentials.json. Logging out when logged out says so and exits 0. A key in GIGAREELS_API_KEY is not touched and keeps working.`;

  static override examples = [
    { description: "Log out of the active profile", command: "<%= config.bin %> logout" },
    { description: "Log out of one profile", command: "<%= config.bin %> logout --profile staging" },
    { description: "Log out of every profile", command: "<%= config.bin %> logout --all" },
  ];

  static override flags = {
    profile: profileFlag,
    all: Flags.boolean({ summary: "Log out of every profile.", exclusive: ["profile"] }),
  };

  async run(): Promise<LogoutResult> {
    const { flags } = await this.parse(Logout);
    const result = await logout({
      profile: flags.profile,
      all: flags.all,
      signal: this.signal,
      warn: (line) => this.warning(line),
      client: { userAgent: `gigareels-cli/${this.config.version}` },
    });
    if (result.alreadyLoggedOut) {
      this.log(
        flags.all
          ? "Not logged in: no profile has a stored key. Nothing to do."
          : `Not logged in (profile ${result.profiles[0]?.profile ?? "default"}): no stored key. Nothing to do.`,
      );
    } else {
      for (const p of result.profiles) {
        if (!p.key && p.removedFrom.length === 0) continue;
        const revoked = !p.key
          ? "no key to revoke"
          : `${p.key} ${p.revoked === true ? "revoked on the server" : "NOT revoked on the server"}`;
        const from = p.removedFrom.length
          ? p.removedFrom
              .map((w) => (w === "keychain" ? "the OS keychain" : "credentials.json"))
              .join(" and ")
          : "nowhere";
        this.log(
          `Logged out of ${p.host ?? "GigaReels"} (profile ${p.profile}): ${revoked}, removed from ${from}.`,
        );
      }
    }
    if (result.envKeyStillSet) {
      this.warning(
        `${result.envKeyStillSet} is still set and still authenticates every command. Unset it to log out completely.`,
      );
    }
    return result;
  }
}
