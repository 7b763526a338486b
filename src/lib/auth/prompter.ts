/**
 * The questions of `gigareels login`, asked with @inquirer/prompts (loaded only when asked)
 * on stderr, so stdout stays for results. Ctrl-C in a prompt (a key press in raw mode, not a
 * signal) and the command's AbortSignal both end with AbortedError (exit 130).
 */
import { AbortedError } from "../sdk/errors.js";
import type { ExistingKey, LoginPrompter, MethodChoice } from "./login.js";

const context = (signal: AbortSignal) => ({ output: process.stderr, signal, clearPromptOnDone: false });

async function asked<T>(question: () => Promise<T>): Promise<T> {
  try {
    return await question();
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === "ExitPromptError" || name === "AbortPromptError") {
      throw new AbortedError("Interrupted: the login was cancelled and nothing was stored");
    }
    throw err;
  }
}

export function inquirerPrompter(): LoginPrompter {
  return {
    async chooseMethod(recommended, signal) {
      const { select } = await import("@inquirer/prompts");
      const choices: Array<{ name: string; value: MethodChoice; description: string }> = [
        {
          name: "Log in with a web browser",
          value: "web",
          description: "Opens the GigaReels sign-in page; this machine receives the key directly.",
        },
        {
          name: "Log in with a device code",
          value: "device",
          description: "For SSH sessions and containers: approve a short code in a browser anywhere.",
        },
        {
          name: "Paste an API key",
          value: "paste",
          description: "A key from the dashboard (Settings -> API Keys). It is not shown as you type.",
        },
      ];
      return asked(() =>
        select<MethodChoice>(
          {
            message: "How do you want to log in?",
            choices: recommended === "device" ? [choices[1]!, choices[0]!, choices[2]!] : choices,
            default: recommended,
          },
          context(signal),
        ),
      );
    },
    async confirmReplace(existing: ExistingKey, signal) {
      const { confirm } = await import("@inquirer/prompts");
      const who = existing.email ? ` (${existing.email})` : "";
      return asked(() =>
        confirm(
          {
            message: `Profile ${existing.profile} already has key ${existing.keyMasked} for ${existing.host}${who}. Replace it (the old key is ${existing.fate === "revoked" ? "revoked" : "forgotten here, not revoked"})?`,
            default: false,
          },
          context(signal),
        ),
      );
    },
    async confirmActivate(profile, current, signal) {
      const { confirm } = await import("@inquirer/prompts");
      return asked(() =>
        confirm(
          { message: `Make ${profile} the active profile (now ${current})?`, default: true },
          context(signal),
        ),
      );
    },
    async pasteKey(validate, signal) {
      const { password } = await import("@inquirer/prompts");
      return asked(() => password({ message: "Paste your API key:", mask: "*", validate }, context(signal)));
    },
  };
}
