import { Args, Flags } from "@oclif/core";
import { canPrompt } from "../../lib/cli/output.js";
import { FollowCommand, type RenderResult, renderFlags } from "../../lib/cli/render-command.js";
import {
  askPrompt,
  DEFAULT_BACKGROUND_VIDEO_PACK,
  DEFAULT_CHARACTER_PACK,
  DEFAULT_RENDER_TYPE,
  templateSubmission,
} from "../../lib/cli/render-request.js";
import { UsageError } from "../../lib/cli/usage-error.js";

export default class Render extends FollowCommand {
  static override summary = "Submit a render (the educational-brainrot template by default).";
  static override description =
    `Sends POST /api/render with an Idempotency-Key (--idempotency-key, or a new UUID reused on every retry, so a retried or re-run submission never renders twice) and prints the render id, the key and the command that follows it. --wait follows the render like \`gigareels watch\`; --output FILE also downloads the video; --open opens it. --body sends a JSON body as it is, for render types this tool does not know yet.

In a terminal, a missing prompt is asked for; otherwise it is a usage error (exit 2).

Exit codes: 2 bad flag or value (nothing sent), 4 not logged in, 5 API unreachable (or an outage longer than --max-outage), 6 the render ended in error, 7 --timeout reached, 130 Ctrl-C (the render goes on: follow it with gigareels watch).`;

  static override examples = [
    {
      description: "Render, follow it with a spinner, download the video",
      command: '<%= config.bin %> render "Explain quantum physics" --wait --output quantum.mp4',
    },
    {
      description: "Choose the packs",
      command:
        '<%= config.bin %> render "The water cycle" --character-pack rick-and-morty --background-video-pack minecraft-parkour',
    },
    {
      description: "A re-run CI job cannot render twice",
      command: '<%= config.bin %> render "Release notes" --idempotency-key "release-$GITHUB_RUN_ID" --json',
    },
    { description: "Send a body as it is", command: "<%= config.bin %> render --body body.json --wait" },
  ];

  static override args = {
    prompt: Args.string({
      description: "What the video is about (or --prompt).",
      required: false,
      // oclif would otherwise take piped stdin (within 10 ms, a race) as the prompt: stdin is --body -'s
      ignoreStdin: true,
    }),
  };

  static override flags = {
    prompt: Flags.string({
      summary: "What the video is about (instead of the argument).",
      helpValue: "TEXT",
    }),
    type: Flags.string({
      summary: `Render type (default ${DEFAULT_RENDER_TYPE}).`,
      helpValue: "TYPE",
    }),
    "character-pack": Flags.string({
      summary: `Character pack (default ${DEFAULT_CHARACTER_PACK} for ${DEFAULT_RENDER_TYPE}).`,
      helpValue: "NAME",
    }),
    "background-video-pack": Flags.string({
      summary: `Background video pack (default ${DEFAULT_BACKGROUND_VIDEO_PACK} for ${DEFAULT_RENDER_TYPE}).`,
      helpValue: "NAME",
    }),
    ...renderFlags(["prompt", "type", "character-pack", "background-video-pack"]),
  };

  async run(): Promise<RenderResult> {
    const { args, flags } = await this.parse(Render);
    if (args.prompt !== undefined && flags.prompt !== undefined)
      throw new UsageError("Give the prompt once: as the argument or with --prompt, not both");
    if (flags.body !== undefined && args.prompt !== undefined)
      throw new UsageError("--body cannot be combined with a prompt argument");
    return this.submitRender("/api/render", flags, async () => {
      let prompt = args.prompt ?? flags.prompt;
      if ((prompt === undefined || prompt.trim() === "") && canPrompt(this.mode))
        prompt = await askPrompt(this.signal);
      return templateSubmission({
        prompt,
        type: flags.type,
        characterPack: flags["character-pack"],
        backgroundVideoPack: flags["background-video-pack"],
      });
    });
  }
}
