import { Flags } from "@oclif/core";
import { maskKey } from "../lib/credentials/key-format.js";
import { BaseCommand } from "../lib/cli/base-command.js";
import { shellQuote } from "../lib/cli/output.js";
import { readKeys } from "../lib/cli/emulator-keys.js";
import { durationFlag } from "../lib/cli/flags.js";

export interface EmulatorReady {
  url: string;
  port: number;
  /** Masked keys (giga_****abcd); the full ready-to-use key is in keysFile. */
  keys: string[];
  keysFile: string;
  loginCommand: string;
}

/**
 * How `login` reaches this emulator: `--local` only when that is its URL (port 3000 on
 * loopback); on any other port `--local` would point at someone else's server.
 */
function loginTarget(url: string): string {
  const u = new URL(url);
  const loopback = u.hostname === "127.0.0.1" || u.hostname === "localhost";
  return loopback && u.port === "3000" ? "--local" : `--base-url ${shellQuote(url)}`;
}

export default class Emulator extends BaseCommand {
  static override summary = "Run a local GigaReels API emulator (for development and tests).";
  static override description =
    `Serves the GigaReels API (renders, status, output files, API keys, rate limits, browser and device login) from memory on 127.0.0.1, port 3000 by default, which is what --local points at. It prints its URL, the ready-to-use key masked and the exact login command for its URL (--local on port 3000, else --base-url); the full key goes to emulator-keys.txt (mode 0600) in the config folder (GIGAREELS_CONFIG_DIR or ~/.gigareels). Runs until Ctrl-C.`;

  static override examples = [
    { description: "Start on port 3000 and log the CLI in to it", command: "<%= config.bin %> emulator" },
    {
      description: "Fast renders, approve logins without a click, log requests",
      command: "<%= config.bin %> emulator --render-duration 2s --auto-approve --verbose",
    },
    {
      description: "Use your own keys (read from a file, one a line) and a 5-second rate-limit minute",
      command: "<%= config.bin %> emulator --key @keys.txt --rate-limit-minute 5s",
    },
    { description: "Pick a free port", command: "<%= config.bin %> emulator --port 0" },
  ];

  static override flags = {
    port: Flags.integer({
      summary: "Port to listen on (0 picks a free one).",
      default: 3000,
      min: 0,
      max: 65535,
    }),
    host: Flags.string({ summary: "Address to bind.", default: "127.0.0.1", helpValue: "ADDRESS" }),
    key: Flags.string({
      summary: "A key valid from the start; repeatable. @FILE reads keys from a file (keeps them out of ps).",
      multiple: true,
      helpValue: "KEY|@FILE",
    }),
    "auto-approve": Flags.boolean({ summary: "Approve browser and device logins without a click (demos)." }),
    "render-duration": durationFlag("How long a render takes (default 6s)."),
    "rate-limit-minute": durationFlag("Length of a rate-limit minute (hour and day shrink alike), e.g. 5s."),
    verbose: Flags.boolean({ summary: "Print each request to stderr (keys masked)." }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Emulator);
    const keys = await readKeys(flags.key ?? []);
    // Imported here so that other commands (and --help) never load the emulator.
    const { startEmulator, writeKeysFile } = await import("../lib/emulator/index.js");

    const emulator = await startEmulator({
      port: flags.port,
      host: flags.host,
      keys,
      autoApprove: flags["auto-approve"],
      renderDurationMs: flags["render-duration"],
      rateLimitMinuteMs: flags["rate-limit-minute"],
      verbose: flags.verbose,
    });
    const stopped = new Promise<void>((resolve) => {
      const stop = () => resolve();
      if (this.signal.aborted) stop();
      this.signal.addEventListener("abort", stop, { once: true });
      process.once("SIGTERM", stop);
    });

    try {
      const keysFile = await writeKeysFile(emulator.keys[0]!);
      const loginCommand = `gigareels login ${loginTarget(emulator.url)} --with-token < ${shellQuote(keysFile)}`;
      const ready: EmulatorReady = {
        url: emulator.url,
        port: emulator.port,
        keys: emulator.keys.map((k) => maskKey(k)),
        keysFile,
        loginCommand,
      };
      if (this.jsonEnabled()) {
        this.logJson(ready);
      } else {
        this.log(`GigaReels emulator listening on ${emulator.url}`);
        this.log(`API key: ${ready.keys[0]} (full key in ${keysFile}, readable only by you)`);
        if (ready.keys.length > 1) this.log(`Also valid: ${ready.keys.slice(1).join(", ")}`);
        this.log(`Log the CLI in to it: ${loginCommand}`);
        this.info("Press Ctrl-C to stop.");
      }
      await stopped;
    } finally {
      await emulator.stop();
    }
    this.info("Emulator stopped.");
    process.exitCode = 0;
  }
}
