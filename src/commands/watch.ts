import { Args } from "@oclif/core";
import { checkRenderId, type FollowResult } from "../lib/cli/follow.js";
import { apiFlags, FollowCommand, followFlags } from "../lib/cli/render-command.js";

export default class Watch extends FollowCommand {
  static override summary = "Follow a render until it ends; optionally download the video.";
  static override description =
    `Polls the render's status as the shared scheduler decides: soon at first, then less often as the render ages, within the key's rate limits (shared with other watchers of the same key). Rate-limit waits are honoured and shown; network errors, 5xx and HTML answers are retried until they last longer than --max-outage.

In a terminal: a spinner with the status, progress, elapsed time and any wait. Otherwise: one line per change on stderr, and at most one heartbeat a minute. --json: one JSON event per line on stdout (status, throttled, retry, done, error, download).

Exit codes: 0 done (and downloaded with --output), 1 no such render (the server's 404) or the video could not be written (disk full, read-only: the partial file is kept), 2 a bad flag or render id, 5 API unreachable for longer than --max-outage, or the download got no video (an HTML page...), 6 the render ended in error (the server's message), 7 --timeout reached, 130 Ctrl-C (a partial download is kept; the same command resumes it).`;

  static override examples = [
    { description: "Follow a render", command: "<%= config.bin %> watch rnd_8f2c" },
    {
      description: "Follow it, download the video, give up after 30 minutes",
      command: "<%= config.bin %> watch rnd_8f2c --output video.mp4 --timeout 30m",
    },
    { description: "Events for a script", command: "<%= config.bin %> watch rnd_8f2c --json" },
  ];

  static override args = {
    renderId: Args.string({
      description: "The render id (printed by gigareels render).",
      required: true,
      // oclif would otherwise take piped stdin as the id if it came within 10 ms: a race, not a feature
      ignoreStdin: true,
    }),
  };

  static override flags = { ...followFlags, ...apiFlags };

  async run(): Promise<FollowResult> {
    const { args, flags } = await this.parse(Watch);
    const renderId = checkRenderId(args.renderId);
    const output = await this.outputPath(flags);
    return this.follow(await this.client(flags), renderId, flags, { output });
  }
}
