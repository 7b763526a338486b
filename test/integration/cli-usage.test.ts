/**
 * Usage mistakes outside any one command, through the built `gigareels`: an unknown command
 * (or a command given words it does not take) is a usage error, exit 2, in one line that names
 * the closest command; under --json the error document is on stdout. oclif's not-found plugin
 * alone would print two lines and exit 127, outside the exit-code table.
 */
import { describe, expect, it } from "vitest";
import { runCli, useTempConfig } from "../helpers/cli.js";
import { hasScript, inTerminal } from "../helpers/terminal.js";

const config = useTempConfig();

describe("an unknown command", () => {
  it("a typo: exit 2, one line naming the command it was probably meant to be", async () => {
    const r = await runCli(["statsu"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      'Error: "statsu" is not a gigareels command. Did you mean "gigareels status"? Run gigareels --help for the list of commands.\n',
    );
  });

  it("words a command does not take point at the command; a word like no command has no guess", async () => {
    const extra = await runCli(["whoami", "extra"]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(
      /^Error: "whoami extra" is not a gigareels command\. Did you mean "gigareels whoami"\?/,
    );
    const far = await runCli(["zzzzzzzz"]);
    expect(far.code).toBe(2);
    expect(far.stderr).toBe(
      'Error: "zzzzzzzz" is not a gigareels command. Run gigareels --help for the list of commands.\n',
    );
  });

  it("--json: the error document on stdout, exit 2", async () => {
    const r = await runCli(["rendr", "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: "usage",
        message: '"rendr" is not a gigareels command. Did you mean "gigareels render"?',
        exitCode: 2,
        suggestions: ["Run gigareels --help for the list of commands."],
      },
    });
  });

  it("a bad flag: one line with a full stop between oclif's two sentences", async () => {
    const r = await runCli(["status", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("Error: Nonexistent flag: --bogus. See more help with --help\n");
  });

  it("a missing argument: a sentence naming it and what it is (oclif's two-column list read 'renderId  The render id')", async () => {
    const r = await runCli(["watch"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "Error: Missing the required argument renderId: the render id (printed by gigareels render). See more help with --help\n",
    );
    // after a flag that takes several values, the path was read as one of them: say so
    const api = await runCli(["api", "--field", "a=b", "/api/render"]);
    expect(api.code).toBe(2);
    expect(api.stderr.trim().split("\n")).toHaveLength(1);
    expect(api.stderr).toContain('Put arguments before --field, --raw-field, --header, or after "--".');
    // piped stdin is not taken as the id (oclif would, if it came within 10 ms)
    const piped = await runCli(["watch"], { input: "rnd_8f2c\n" });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(/^Error: Missing the required argument renderId/);
    const json = await runCli(["watch", "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.message).toBe(
      "Missing the required argument renderId: the render id (printed by gigareels render). See more help with --help",
    );
  });

  it("a bad duration names its flag once, for every command that takes one", async () => {
    for (const args of [
      ["emulator", "--render-duration", "abc"],
      ["watch", "r1", "--max-outage", "0"],
      ["login", "--with-token", "--timeout", "-5s"],
    ]) {
      const r = await runCli(args);
      const flag = args.find((a) => a.startsWith("--") && a !== "--with-token")!;
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toBe(
        `Error: ${flag} expects a duration greater than 0 such as 90s, 5m or 1h, not "${args.at(-1)}". See more help with --help\n`,
      );
    }
  });
});

describe.skipIf(!hasScript)("an unknown command in a terminal", () => {
  const env = { GIGAREELS_CONFIG_DIR: "", GIGAREELS_CREDENTIAL_STORE: "file" };
  it("asks whether the closest command was meant, and runs it with the same flags", async () => {
    const r = await inTerminal(["statsu", "--offline"], [['Did you mean "gigareels status"?', "y\r"]], {
      env: { ...env, GIGAREELS_CONFIG_DIR: config.dir },
    });
    // our one line, not oclif's " ›   Warning:"
    expect(r.screen).toContain('"statsu" is not a gigareels command.');
    expect(r.screen).not.toMatch(/›|Warning:/);
    // status --offline ran: not logged in, exit 4.
    expect(r.screen).toMatch(/not logged in|No API key/i);
    expect(r.code).toBe(4);
  });

  it('answering "n" is not an error: a one-line note, exit 0, nothing run', async () => {
    const r = await inTerminal(["statsu", "--offline"], [['Did you mean "gigareels status"?', "n\r"]], {
      env: { ...env, GIGAREELS_CONFIG_DIR: config.dir },
    });
    expect(r.code, r.screen).toBe(0);
    const plain = r.screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
    expect(plain).toContain("Not run. Run gigareels --help for the list of commands.\n");
    expect(plain).not.toMatch(/Error|›|Warning:|No API key/);
  });

  it("nothing close enough to ask about: the usage error, exit 2, no prompt", async () => {
    const r = await inTerminal(["xyzzyplugh"], [], { env: { ...env, GIGAREELS_CONFIG_DIR: config.dir } });
    expect(r.code).toBe(2);
    expect(r.screen).toContain(
      'Error: "xyzzyplugh" is not a gigareels command. Run gigareels --help for the list of commands.',
    );
    expect(r.screen).not.toContain("Did you mean");
  });
});

describe("a reader that leaves early (gigareels --help | head -1)", () => {
  it("exits with the code of the command, no error, instead of Node's 13 for a flush that never ends", async () => {
    for (const args of [["--help"], ["render", "--help"], ["status", "--offline"]]) {
      const r = await runCli(args, {
        env: { GIGAREELS_CONFIG_DIR: config.dir },
        onSpawn: (child) => child.stdout?.once("data", () => child.stdout?.destroy()),
      });
      expect(r.signal, args.join(" ")).toBeNull();
      expect(r.stderr, args.join(" ")).not.toMatch(/EPIPE|Error/);
      // status --offline without a key is exit 4 whether or not anyone reads it
      expect(r.code, args.join(" ")).toBe(args[0] === "status" ? 4 : 0);
    }
  });
});
