import { Args, Flags } from "@oclif/core";
import { type ApiResult, errorForStatus, formatBody, formatHead, runApi } from "../lib/api/index.js";
import { BaseCommand } from "../lib/cli/base-command.js";
import { apiClient } from "../lib/cli/client.js";
import { baseUrlFlag, localFlag, profileFlag } from "../lib/cli/flags.js";
import { isTerminal, writeOut } from "../lib/cli/output.js";

export default class Api extends BaseCommand {
  static override summary =
    "Make an authenticated request to any GigaReels API endpoint and print the answer.";
  static override description =
    `Like \`gh api\`: the key, proxies, rate-limit waits and retries work as in every other command (a GET is retried on network errors, 429 and 5xx; a POST only when it carries an Idempotency-Key header). The body is printed indented in a terminal and as received when piped; --include adds the status line and the headers. A full API key is never printed.

The method is GET, or POST when --field, --raw-field or --input is given. Fields go in the query string of a GET, HEAD or DELETE and in a JSON body otherwise; with --input the body is the file and fields go in the query string. --field converts true, false, null and integers to JSON and reads @FILE (@- for stdin); key[sub]=v nests and key[]=v appends to a list.

Exit codes: 0 for a 2xx answer; 2 for 400/422 and usage mistakes; 4 for 401/403 or no key; 5 when the API cannot be reached or answers 5xx; 1 otherwise (404, 429 after the retries).`;

  static override examples = [
    { description: "Who am I?", command: "<%= config.bin %> api /api/me" },
    {
      description: "Create a render (fields become a JSON body), retried safely",
      command:
        '<%= config.bin %> api POST /api/render -F type=educational-brainrot -F prompt="Explain black holes" -F characterPack=rick-and-morty -F backgroundVideoPack=minecraft-parkour -H "Idempotency-Key: $(uuidgen)"',
    },
    {
      description: "A render's status, with the rate-limit headers",
      command: "<%= config.bin %> api /api/render/status/RENDER_ID --include",
    },
    {
      description: "Schedule a post from a JSON file",
      command: "<%= config.bin %> api POST /api/social-media/posts --input post.json",
    },
  ];

  static override usage = [
    "<%= command.id %> [METHOD] PATH [-F KEY=VALUE...] [-f KEY=VALUE...] [-H 'NAME: VALUE'...] [--input FILE] [-i] [--json] [--profile NAME] [--local | --base-url URL]",
  ];

  // Two positions for `[METHOD] PATH`: with one argument it is the path.
  static override args = {
    method: Args.string({
      description: "GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS, followed by PATH; or PATH alone",
      required: true,
      // oclif would otherwise read piped stdin as a missing argument; stdin belongs to --input -
      ignoreStdin: true,
    }),
    path: Args.string({
      description: "The path below the base URL, e.g. /api/render",
      ignoreStdin: true,
    }),
  };

  static override flags = {
    field: Flags.string({
      char: "F",
      summary: "A parameter key=value; true/false/null/integers become JSON, @FILE reads a file.",
      multiple: true,
      helpValue: "KEY=VALUE",
    }),
    "raw-field": Flags.string({
      char: "f",
      summary: "A string parameter key=value, sent as it is.",
      multiple: true,
      helpValue: "KEY=VALUE",
    }),
    header: Flags.string({
      char: "H",
      summary: 'A request header "Name: value" (not Authorization: the key is never a flag).',
      multiple: true,
      helpValue: "'NAME: VALUE'",
    }),
    input: Flags.string({
      summary: "Send this file as the request body (- for stdin).",
      helpValue: "FILE",
    }),
    include: Flags.boolean({ char: "i", summary: "Print the status line and the response headers too." }),
    profile: profileFlag,
    "base-url": baseUrlFlag,
    local: localFlag,
  };

  async run(): Promise<ApiResult> {
    const { args, flags } = await this.parse(Api);
    const client = apiClient(flags, this.config.version);
    const { result, raw } = await runApi(
      {
        first: args.method,
        second: args.path,
        fields: flags.field,
        rawFields: flags["raw-field"],
        headers: flags.header,
        input: flags.input,
      },
      { client, signal: this.signal },
    );
    const failure = errorForStatus(raw, client);
    if (!this.jsonEnabled()) {
      const terminal = isTerminal(process.stdout);
      if (flags.include) writeOut(formatHead(result));
      // In a terminal the body is for a person (control characters made visible); piped on, it
      // is for a program: as received, keys masked.
      writeOut(formatBody(raw, result, terminal), terminal ? "people" : "raw");
    }
    if (failure) throw failure;
    return result;
  }
}
