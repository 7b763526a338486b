/**
 * The base command's process plumbing, in process (vitest runs with NODE_ENV=test, where oclif
 * checks that a command parsed its arguments): no "[UnparsedCommand]" warning after a parse
 * error, and Ctrl-C after the first one (the command already ended, the process not yet) still
 * exits 130 instead of leaving the process to die by signal.
 */
import { Flags } from "@oclif/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BaseCommand } from "../../src/lib/cli/base-command.js";
import { closestCommand } from "../../src/lib/cli/hooks/command-not-found.js";
import { oneLine } from "../../src/lib/cli/output.js";
import { ROOT } from "../helpers/cli.js";

class Flagged extends BaseCommand {
  static override flags = { name: Flags.string() };
  async run(): Promise<string> {
    const { flags } = await this.parse(Flagged);
    return flags.name ?? "";
  }
}

/** Waits for Ctrl-C, then fails as an interrupted command does. */
class Waits extends BaseCommand {
  async run(): Promise<void> {
    await this.parse(Waits);
    await new Promise<void>((_, reject) => {
      this.signal.addEventListener("abort", () => reject(this.signal.reason), { once: true });
    });
  }
}

let before: NodeJS.SignalsListener[];
let exitCode: typeof process.exitCode;
beforeEach(() => {
  before = process.listeners("SIGINT");
  exitCode = process.exitCode;
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
});
afterEach(() => {
  for (const l of process.listeners("SIGINT")) if (!before.includes(l)) process.off("SIGINT", l);
  process.exitCode = exitCode;
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("BaseCommand", () => {
  it("a flag that fails to parse: exit 2 and no [UnparsedCommand] warning (NODE_ENV=test)", async () => {
    expect(process.env.NODE_ENV).toBe("test");
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    await Flagged.run(["--bogus"], ROOT);
    expect(process.exitCode).toBe(2);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([]);
  });

  it("a second Ctrl-C after the interrupted command ended exits 130", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    const exit = vi.spyOn(process, "exit").mockImplementation((() => undefined) as never);
    const running = Waits.run([], ROOT);
    await vi.waitFor(() => expect(process.listeners("SIGINT").length).toBeGreaterThan(before.length));
    process.emit("SIGINT", "SIGINT");
    await running;
    expect(process.exitCode).toBe(130);
    expect(exit).not.toHaveBeenCalled();
    // The command has ended (its catch and finally ran); the process lingers (a socket, a flush).
    process.emit("SIGINT", "SIGINT");
    expect(exit).toHaveBeenCalledWith(130);
  });

  it("a command that ended without Ctrl-C leaves no SIGINT handler behind", async () => {
    await Flagged.run(["--name", "x"], ROOT);
    expect(process.listeners("SIGINT")).toEqual(before);
  });
});

describe("oneLine", () => {
  it("joins a message and its fixes into one line, one full stop between sentences", () => {
    expect(oneLine("Nonexistent flag: --x\nSee more help with --help")).toBe(
      "Nonexistent flag: --x. See more help with --help",
    );
    expect(oneLine("Is it you?", ["Run gigareels login"])).toBe("Is it you? Run gigareels login");
    expect(oneLine("No key.", ["Run gigareels login", "or set GIGAREELS_API_KEY"])).toBe(
      "No key. Run gigareels login, or set GIGAREELS_API_KEY",
    );
    expect(oneLine("Failed:", ["Try again."])).toBe("Failed. Try again.");
    expect(oneLine("a line\nwrapped in the middle", ["Fix it."])).toBe(
      "a line wrapped in the middle. Fix it.",
    );
    expect(oneLine("Same fix. Fix it.", ["Fix it."])).toBe("Same fix. Fix it.");
  });
});

describe("closestCommand", () => {
  const ids = ["login", "logout", "status", "whoami", "render", "render text", "render split", "watch"];
  it("a typo finds the command; extra words find the command they follow; far words find none", () => {
    expect(closestCommand("statsu", ids)).toBe("status");
    expect(closestCommand("logot", ids)).toBe("logout");
    expect(closestCommand("render txt", ids)).toBe("render text");
    expect(closestCommand("whoami extra", ids)).toBe("whoami");
    expect(closestCommand("render text more", ids)).toBe("render text");
    expect(closestCommand("zzzzzzzz", ids)).toBeUndefined();
  });
});
