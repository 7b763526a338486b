import { Flags } from "@oclif/core";
import { LoginCancelledError } from "../lib/auth/errors.js";
import { type LoginMethod, type LoginResult, login } from "../lib/auth/login.js";
import { inquirerPrompter } from "../lib/auth/prompter.js";
import { BaseCommand } from "../lib/cli/base-command.js";
import { formatDuration, parseDuration } from "../lib/cli/duration.js";
import { baseUrlFlag, localFlag, profileFlag, durationFlag } from "../lib/cli/flags.js";
import { canPrompt, decorationsAllowed, stderrLine } from "../lib/cli/output.js";
import { cliClientOptions } from "../lib/cli/client-options.js";

const METHODS = ["web", "device", "with-token"];
const others = (name: string) => METHODS.filter((m) => m !== name);
const LOCAL_BASE_URL = "http://localhost:3000";
const DEFAULT_TIMEOUT = "5m";

/** The result when the person declined to replace the profile's key. */
export interface LoginDeclined {
  declined: true;
  profile: string;
  message: string;
}

export default class Login extends BaseCommand {
  static override createsProfile = true;
  static override summary = "Log in to GigaReels and store an API key for this machine.";
  static override description =
    `Without a method flag, in a terminal, asks how: a web browser (the default where one can be opened), a device code (the default over SSH or without a display), or pasting a key. Without a terminal, pass --web, --device or --with-token, or set GIGAREELS_API_KEY instead of logging in.

The key goes to the OS keychain (or to credentials.json with --insecure-storage, or when no keychain is available). While GIGAREELS_API_KEY or GIGAREELS_API_KEY_FILE is set, login stores nothing and exits 1: the variable would win over a stored key.

Exit codes: 2 usage (no terminal, bad key on stdin, port in use), 4 denied, expired or rejected, 7 --timeout reached, 130 Ctrl-C.`;

  static override examples = [
    { description: "Log in (asks how)", command: "<%= config.bin %> login" },
    {
      description: "Log in with the browser on a chosen callback port",
      command: "<%= config.bin %> login --web --port 8123",
    },
    { description: "Log in over SSH or in a container", command: "<%= config.bin %> login --device" },
    {
      description: "Store a key from a secret manager (scripts, CI)",
      command: "printenv MY_KEY | <%= config.bin %> login --with-token",
    },
    { description: "Log in to the local development server", command: "<%= config.bin %> login --local" },
  ];

  static override flags = {
    web: Flags.boolean({
      summary: "Log in with a web browser (OAuth with PKCE and a loopback callback).",
      exclusive: others("web"),
    }),
    device: Flags.boolean({
      summary: "Log in with a device code (for SSH, containers, no browser).",
      exclusive: others("device"),
    }),
    "with-token": Flags.boolean({
      summary: "Read an API key from stdin (in a terminal: a masked prompt), check it, and store it.",
      exclusive: others("with-token"),
    }),
    browser: Flags.boolean({
      summary: "Open the browser (--no-browser: only print the URL).",
      default: true,
      allowNo: true,
    }),
    port: Flags.integer({
      summary: "Port for the browser callback on 127.0.0.1 (default: a free one).",
      min: 1,
      max: 65535,
      helpValue: "PORT",
    }),
    timeout: durationFlag(
      `How long to wait for the browser or the device approval (default ${DEFAULT_TIMEOUT}).`,
    ),
    local: localFlag,
    "base-url": baseUrlFlag,
    profile: profileFlag,
    "insecure-storage": Flags.boolean({
      summary: "Keep the key in credentials.json (mode 0600) instead of the OS keychain.",
    }),
  };

  async run(): Promise<LoginResult | LoginDeclined> {
    const { flags } = await this.parse(Login);
    const method: LoginMethod | undefined = flags.web
      ? "web"
      : flags.device
        ? "device"
        : flags["with-token"]
          ? "token"
          : undefined;
    const timeoutMs = flags.timeout ?? parseDuration(DEFAULT_TIMEOUT);
    const profile = await this.profileName(flags.profile);
    const result = await login({
      method,
      baseUrl: flags["base-url"] ?? (flags.local ? LOCAL_BASE_URL : undefined),
      profile,
      port: flags.port,
      timeoutMs,
      timeoutLabel: formatDuration(timeoutMs),
      noBrowser: !flags.browser,
      insecureStorage: flags["insecure-storage"],
      prompter: canPrompt(this.mode) ? inquirerPrompter() : undefined,
      ui: {
        notice: (line) => stderrLine(line),
        progress: (line) => this.info(line),
        warn: (line) => this.warning(line),
      },
      signal: this.signal,
      client: cliClientOptions(this.config.version),
    }).catch((err: unknown) => {
      // Answering "no" to "Replace it?" is a choice, not a failure: a note, exit 0 (as gh does).
      if (err instanceof LoginCancelledError) return err.message;
      throw err;
    });
    if (typeof result === "string") {
      const note = `${result}; nothing was changed.`;
      this.info(note);
      return { declined: true, profile, message: note };
    }
    if (result.fallbackWarning) this.warning(result.fallbackWarning);
    if (result.replaced?.revoked) this.info(`Revoked the replaced key ${result.replaced.key}.`);
    const where = result.keyLocation === "keychain" ? "the OS keychain" : result.credentialsPath;
    // gh's "✓ Logged in as ...": the tick in a terminal only (not piped, not --json, not NO_COLOR).
    const tick = decorationsAllowed(this.mode, process.stdout) ? "\u001b[32m✓\u001b[39m " : "";
    this.log(
      `${tick}Logged in to ${result.host} as ${result.account.email || "(unknown email)"} (profile ${result.profile}); key ${result.key} stored in ${where}.`,
    );
    if (result.activeProfile !== result.profile) {
      this.info(
        `Profile ${result.activeProfile} is still the active one: use this one with --profile ${result.profile}, or make it active with gigareels profiles use ${result.profile}.`,
      );
    }
    return result;
  }

  /** --profile, else GIGAREELS_PROFILE, else "default" (login names where to store, not which to use). */
  private async profileName(flag: string | undefined): Promise<string> {
    const { validateProfileName } = await import("../lib/credentials/index.js");
    return validateProfileName(flag ?? (process.env.GIGAREELS_PROFILE?.trim() || "default"));
  }
}
