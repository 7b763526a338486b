import { Flags } from "@oclif/core";
import { FollowCommand, type RenderResult, renderFlags } from "../../lib/cli/render-command.js";
import { OBJECT_FITS, SPLIT_POSITIONS, splitSubmission } from "../../lib/cli/render-request.js";

export default class RenderSplit extends FollowCommand {
  static override summary = "Render a split screen (POST /api/render/split).";
  static override description =
    `Puts --video-url on one side (--position) and the b-roll on the other. --object-fit defaults to contain for left/right and cover for top/bottom (the server decides when it is not given). Values are checked before anything is sent (exit 2 names the flag). Submitting, --wait, --output, --open and the exit codes are those of \`gigareels render\`.`;

  static override examples = [
    {
      description: "Video on the left, b-roll on the right, downloaded when done",
      command:
        "<%= config.bin %> render split --video-url https://example.com/talk.mp4 --position left --broll-video https://example.com/broll.mp4 --output split.mp4",
    },
  ];

  static override flags = {
    "video-url": Flags.string({ summary: "The main video (http or https URL).", helpValue: "URL" }),
    position: Flags.string({
      summary: `Where the main video goes: ${SPLIT_POSITIONS.join(", ")}.`,
      helpValue: SPLIT_POSITIONS.join("|"),
    }),
    "broll-video": Flags.string({ summary: "The b-roll video (http or https URL).", helpValue: "URL" }),
    "object-fit": Flags.string({
      summary: `How videos fill their half: ${OBJECT_FITS.join(", ")}.`,
      helpValue: OBJECT_FITS.join("|"),
    }),
    ...renderFlags(["video-url", "position", "broll-video", "object-fit"]),
  };

  async run(): Promise<RenderResult> {
    const { flags } = await this.parse(RenderSplit);
    return this.submitRender("/api/render/split", flags, () =>
      splitSubmission({
        videoUrl: flags["video-url"],
        position: flags.position,
        brollVideo: flags["broll-video"],
        objectFit: flags["object-fit"],
      }),
    );
  }
}
