/**
 * `gigareels render` in a pseudo-terminal: the missing prompt asked with @inquirer/prompts, the
 * ora spinner (status, progress, elapsed; a tick when done), Ctrl-C typed in the prompt and
 * under the spinner.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { expectNoFullKey, runCli, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";
import { hasScript, inTerminal } from "../helpers/terminal.js";

const emulator = useEmulator({ renderDurationMs: 2500 });
const config = useTempConfig();

function render(args: string[], steps: Array<[string, string]>, key: string) {
  return inTerminal(["render", ...args, "--base-url", emulator().url], steps, {
    columns: 120,
    env: {
      GIGAREELS_CONFIG_DIR: config.dir,
      GIGAREELS_API_KEY: key,
      NO_COLOR: undefined,
      NODE_ENV: undefined,
    },
  });
}

const posts = () => emulator().requests.filter((r) => r.method === "POST" && r.path === "/api/render");

describe.skipIf(!hasScript)("gigareels render in a terminal", () => {
  it("asks for a missing prompt, then follows the render with a spinner", async () => {
    const key = emulator().createKey();
    const r = await render(["--wait"], [["What should the video explain?", "Volcanoes\r"]], key);
    expect(r.code, r.screen).toBe(0);
    expect(JSON.parse(posts().at(-1)!.body!)).toMatchObject({
      type: "educational-brainrot",
      prompt: "Volcanoes",
    });
    const id = emulator().renders().at(-1)!.id;
    expect(r.screen).toContain(`Render ${id}: rendering `);
    expect(r.screen).toMatch(new RegExp(`Render ${id}: rendering \\d+% · \\d+s`));
    const plain = r.screen.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "");
    expect(plain).toMatch(new RegExp(`✔ Render ${id}: done in \\d+s`));
    expect(r.screen).toContain(`Render ${id} is done: ${emulator().url}/files/${id}.mp4`);
    // the spinner hides the cursor and gives it back
    expect(r.screen).toContain("\u001b[?25l");
    expect(r.screen).toContain("\u001b[?25h");
    expectNoFullKey(r.screen, key);
  });

  it("the download bar shows the speed and the time left (only in a terminal)", async () => {
    const key = emulator().createKey();
    // 64 KiB in 4 KiB pieces every 100 ms: about 1.6 s of download
    emulator().addFault({
      route: "/files/*",
      times: 1,
      fault: { kind: "trickle", bytes: 4096, everyMs: 100 },
    });
    const out = join(config.dir, "speed.mp4");
    const r = await render(["Speed", "--wait", "--output", out], [], key);
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toMatch(
      /Downloading speed\.mp4 \[[#-]+\] [\d.]+ KiB of 64\.0 KiB \(\d+%\) · [\d.]+ (KiB|B)\/s · \d+s left/,
    );
    // not in a pipe: the log lines have no speed
    emulator().addFault({
      route: "/files/*",
      times: 1,
      fault: { kind: "trickle", bytes: 4096, everyMs: 100 },
    });
    const piped = await runCli(
      ["render", "Speed", "--wait", "--output", join(config.dir, "piped.mp4"), "--base-url", emulator().url],
      {
        env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_API_KEY: key },
      },
    );
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toContain("Downloading to");
    expect(piped.stderr).not.toMatch(/\/s\b|left/);
  });

  it("Ctrl-C in the prompt: exit 130, nothing sent", async () => {
    const key = emulator().createKey();
    const before = posts().length;
    const r = await render([], [["What should the video explain?", "\u0003"]], key);
    expect(r.code).toBe(130);
    expect(r.screen).toContain("Interrupted: nothing was submitted");
    expect(posts().length).toBe(before);
  });

  it("Ctrl-C under the spinner: stops, prints the render id and the resume command, exit 130", async () => {
    const key = emulator().createKey();
    emulator().setNextRenderOutcome("never");
    const r = await render(["A long one", "--wait"], [[": rendering", "\u0003"]], key);
    expect(r.code, r.screen).toBe(130);
    const id = emulator().renders().at(-1)!.id;
    expect(r.screen).toContain(`Stopped waiting for render ${id}`);
    expect(r.screen).toContain(`Resume with: gigareels watch ${id} --base-url ${emulator().url}`);
  });
});
