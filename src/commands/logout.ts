import { Flags } from "@oclif/core";
import { type LogoutResult, logout } from "../lib/auth/logout.js";
import { keepReasonText } from "../lib/auth/provenance.js";
import { BaseCommand } from "../lib/cli/base-command.js";
import { profileFlag } from "../lib/cli/flags.js";
import { cliClientOptions } from "../lib/cli/client-options.js";

export default class Logout extends BaseCommand {
  static override summary =
    "Remove the stored API key from this machine (revoking it if this CLI created it).";
  static override description =
    `Removes the key from the OS keychain and credentials.json. A key this CLI created (login --web or --device) is also revoked on the server; a pasted key (login --with-token, or stored before gigareels recorded where keys come from) may be in use elsewhere (CI, a server), so it is only forgotten unless you pass --revoke. A key that another profile also holds is never revoked, only forgotten; the output says why. A failed revocation is a warning: the key is still removed locally. Logging out when logged out says so and exits 0. A key in GIGAREELS_API_KEY is not touched and keeps working.`;

  static override examples = [
    { description: "Log out of the active profile", command: "<%= config.bin %> logout" },
    { description: "Log out of one profile", command: "<%= config.bin %> logout --profile staging" },
    { description: "Log out of every profile", command: "<%= config.bin %> logout --all" },
    {
      description: "Also revoke a pasted key on the server (it stops working everywhere)",
      command: "<%= config.bin %> logout --revoke",
    },
  ];

  static override flags = {
    profile: profileFlag,
    all: Flags.boolean({ summary: "Log out of every profile.", exclusive: ["profile"] }),
    revoke: Flags.boolean({
      summary: "Also revoke a pasted key on the server (keys from --web/--device are always revoked).",
    }),
  };

  async run(): Promise<LogoutResult> {
    const { flags } = await this.parse(Logout);
    const result = await logout({
      profile: flags.profile,
      all: flags.all,
      revoke: flags.revoke,
      signal: this.signal,
      warn: (line) => this.warning(line),
      client: cliClientOptions(this.config.version),
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
        const from = p.removedFrom.length
          ? p.removedFrom
              .map((w) => (w === "keychain" ? "the OS keychain" : "credentials.json"))
              .join(" and ")
          : "nowhere";
        let what: string;
        if (!p.key) what = `no key to revoke, removed from ${from}`;
        else if (p.kept === "shared")
          what = `${p.key} removed from ${from}; not revoked: ${keepReasonText({ obtainedBy: p.obtainedBy ?? "token", keep: "shared", sharedWith: p.sharedWith })}`;
        else if (p.kept === "pasted")
          what = `${p.key} removed from ${from}; not revoked: it was pasted (login --with-token) and may be in use elsewhere (revoke it in the dashboard, Settings -> API Keys, or log out with --revoke)`;
        else
          what = `${p.key} ${p.revoked === true ? "revoked on the server" : "NOT revoked on the server"}, removed from ${from}`;
        this.log(`Logged out of ${p.host ?? "GigaReels"} (profile ${p.profile}): ${what}.`);
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
