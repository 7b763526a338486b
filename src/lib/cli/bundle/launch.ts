/**
 * The first stage of the bundled CLI's start-up (the npm bin `bin/run.js` and the standalone
 * binary), bundled on its own into a small file (dist/bundle/launch.cjs; the binary's asset
 * `launch.cjs`) that imports nothing of oclif. Most of a start-up's cost is reading, compiling
 * and evaluating the big bundle (oclif and the commands, ./run-oclif.ts), so what can be
 * answered without oclif is answered here, and the big bundle is loaded (`loadCli`) only when
 * the command line needs it:
 * - the update notifier's background check (GIGAREELS_UPDATE_CHECK_CHILD=1), which is no command;
 * - `--version` and `-v` alone, which print what `gigareels version` prints;
 * - the update notice after any command (src/lib/update/notifier.ts).
 */
import { prepareUpdateNotice, runUpdateCheck } from "../../update/notifier.js";
import { formatVersion, versionInfo } from "../../version/info.js";
import { writeErr, writeOut } from "../output.js";

export interface LauncherOptions {
  argv?: string[];
  /** Loads the big bundle and runs oclif on `argv` (./run-oclif.ts). */
  runCli: (argv: string[]) => Promise<void>;
}

/**
 * `gigareels --help | head -1`: once the reader has gone, a write to stdout fails with EPIPE and
 * oclif's final flush waits for a drain that never comes (Node then ended with 13, an unsettled
 * top-level await). The reader has all it wanted, so stop there, as a program killed by SIGPIPE
 * would, with the exit code already decided (0 if none). Other stream errors stay uncaught.
 */
function exitWhenTheReaderHasGone(): void {
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
  };
  process.stdout.on("error", onError);
  process.stderr.on("error", onError);
}

export async function launch(options: LauncherOptions): Promise<void> {
  // The update notifier's background check (src/lib/update/notifier.ts): not a command.
  if (process.env.GIGAREELS_UPDATE_CHECK_CHILD === "1") return runUpdateCheck();
  exitWhenTheReaderHasGone();
  const argv = options.argv ?? process.argv.slice(2);
  const info = versionInfo();
  const notice = prepareUpdateNotice({
    env: process.env,
    argv,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    current: info.version,
    method: info.installMethod,
  });
  try {
    // --version and -v print what `gigareels version` prints, without loading oclif.
    if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
      writeOut(`${formatVersion(info)}\n`);
    } else {
      await options.runCli(argv);
    }
  } finally {
    if (notice) writeErr(`\n${notice}\n`);
  }
}
