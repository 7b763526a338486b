import { Flags } from "@oclif/core";
import { FollowCommand, type RenderResult, renderFlags } from "../../lib/cli/render-command.js";
import { textSubmission } from "../../lib/cli/render-request.js";

export default class RenderText extends FollowCommand {
  static override summary = "Render text overlays on a video (POST /api/render/text).";
  static override description =
    `Each --text is TEXT@X,Y: the text, then its position in pixels from the top left. The style flags apply to every overlay. Values are checked before anything is sent (exit 2 names the flag). Submitting, --wait, --output, --open and the exit codes are those of \`gigareels render\`.`;

  static override examples = [
    {
      description: "Two captions, white Inter 48",
      command:
        '<%= config.bin %> render text --video-url https://example.com/in.mp4 --text "Hello@50,100" --text "World@50,200" --font-family Inter --font-size 48 --color "#FFFFFF" --wait',
    },
  ];

  static override flags = {
    "video-url": Flags.string({ summary: "The video to draw on (http or https URL).", helpValue: "URL" }),
    text: Flags.string({
      summary: 'An overlay: TEXT@X,Y, e.g. "Hello@50,100" (repeatable).',
      helpValue: "TEXT@X,Y",
      multiple: true,
    }),
    "font-family": Flags.string({ summary: "Font family, e.g. Inter.", helpValue: "NAME" }),
    "font-size": Flags.string({ summary: "Font size (a positive number).", helpValue: "N" }),
    color: Flags.string({ summary: "Text colour, #RRGGBB.", helpValue: "#RRGGBB" }),
    ...renderFlags(["video-url", "text", "font-family", "font-size", "color"]),
  };

  async run(): Promise<RenderResult> {
    const { flags } = await this.parse(RenderText);
    return this.submitRender("/api/render/text", flags, () =>
      textSubmission({
        videoUrl: flags["video-url"],
        texts: flags.text,
        fontFamily: flags["font-family"],
        fontSize: flags["font-size"],
        color: flags.color,
      }),
    );
  }
}
