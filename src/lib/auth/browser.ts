/**
 * Opening the authorize page. `BROWSER` wins when set: a colon-separated list of commands,
 * each run with the URL as one argument (in place of `%s`, or appended), as Unix tools do;
 * never through a shell. Otherwise the `open` package (loaded lazily). Opening is best
 * effort: the caller prints the URL anyway and keeps waiting.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface OpenResult {
  opened: boolean;
  via: "BROWSER" | "open" | "none";
  /** Why it could not be opened (no key or URL in it). */
  reason?: string;
}

export interface OpenOptions {
  env?: NodeJS.ProcessEnv;
  /** Called when the opener started but then failed (exited non-zero). */
  onLateFailure?: (reason: string) => void;
  /** Test seam: replaces the `open` package. */
  openImpl?: (url: string) => Promise<ChildProcess>;
}

/** Splits BROWSER into commands and their words: "firefox:w3m -N" -> [["firefox"], ["w3m", "-N"]]. */
export function parseBrowserEnv(value: string | undefined): string[][] {
  if (!value) return [];
  return value
    .split(":")
    .map((entry) => entry.trim().split(/\s+/).filter(Boolean))
    .filter((words) => words.length > 0);
}

/** The argv for one BROWSER command: `%s` replaced by the URL (and `%%` by `%`), else the URL appended. */
export function browserArgv(words: string[], url: string): string[] {
  let substituted = false;
  const argv = words.map((w) =>
    w.replace(/%%|%s/g, (m) => {
      if (m === "%%") return "%";
      substituted = true;
      return url;
    }),
  );
  return substituted ? argv : [...argv, url];
}

export function isSshSession(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.SSH_CONNECTION || env.SSH_TTY || env.SSH_CLIENT);
}

/** A browser can plausibly run here: BROWSER is set, or a desktop (macOS, Windows, X11/Wayland). */
export function browserLikelyAvailable(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (env.BROWSER) return true;
  if (platform === "darwin" || platform === "win32") return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** The device flow is the better default: an SSH session, or nowhere to run a browser. */
export function preferDeviceFlow(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): boolean {
  return isSshSession(env) || !browserLikelyAvailable(env, platform);
}

export async function openBrowser(url: string, options: OpenOptions = {}): Promise<OpenResult> {
  const env = options.env ?? process.env;
  const commands = parseBrowserEnv(env.BROWSER);
  if (commands.length > 0) {
    const reasons: string[] = [];
    for (const words of commands) {
      const [cmd, ...args] = browserArgv(words, url);
      // No shell: the URL is one argument. stderr stays ours so a failing command explains itself.
      const child = spawn(cmd!, args, { stdio: ["ignore", "ignore", "inherit"], env });
      const started = await spawned(child);
      if (started === true) {
        watchExit(child, `BROWSER command ${words[0]}`, options.onLateFailure);
        child.unref();
        return { opened: true, via: "BROWSER" };
      }
      reasons.push(`${words[0]}: ${started}`);
    }
    return {
      opened: false,
      via: "none",
      reason: `no BROWSER command could be started (${reasons.join("; ")})`,
    };
  }
  try {
    const openImpl =
      options.openImpl ?? (async (u: string) => (await import("open")).default(u, { wait: false }));
    const child = await openImpl(url);
    // spawn() sets pid synchronously when the process started; its events may have passed already.
    if (child.pid === undefined)
      return { opened: false, via: "none", reason: "the system opener could not start" };
    watchExit(child, "the system browser opener", options.onLateFailure);
    return { opened: true, via: "open" };
  } catch (err) {
    return { opened: false, via: "none", reason: (err as Error).message };
  }
}

/** true once the child started, else the error code (ENOENT, EACCES...). */
function spawned(child: ChildProcess): Promise<true | string> {
  return new Promise((resolve) => {
    child.once("spawn", () => resolve(true));
    child.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "failed to start"));
  });
}

function watchExit(child: ChildProcess, what: string, onLateFailure?: (reason: string) => void): void {
  child.on("error", () => {});
  child.once("exit", (code, signal) => {
    if (code !== 0 && onLateFailure) {
      onLateFailure(`${what} ${signal ? `was stopped by ${signal}` : `exited with code ${code}`}`);
    }
  });
}
