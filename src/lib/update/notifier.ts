/**
 * The update notice, as gh and the Stripe CLI print it: at most once a day, on stderr, after the
 * command, and only for a person at a terminal (stdout and stderr terminals; never in CI, with
 * --json or GIGAREELS_NO_UPDATE_NOTIFIER).
 *
 * It never delays a command: the command only reads a small state file
 * (`<config dir>/update-check.json`, the last known latest version). When that is older than a
 * day, a detached child process (this same CLI with GIGAREELS_UPDATE_CHECK_CHILD=1) asks the npm
 * registry for the `latest` dist-tag with a short timeout and writes the file; the command does
 * not wait for it. The npm package and the release binaries are published from the same tag, so
 * the registry's latest version is also the latest binary. GIGAREELS_UPDATE_REGISTRY replaces
 * the registry's base URL (mirrors, tests).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { configDir } from "../fs/index.js";
import { type InstallMethod, upgradeCommand } from "../version/info.js";

export const PACKAGE_NAME = "@gigareels/sdk";
export const DEFAULT_REGISTRY = "https://registry.npmjs.org";
const DAY_MS = 24 * 60 * 60 * 1000;
/** The child's whole budget for the request. */
export const CHECK_TIMEOUT_MS = 5000;

export interface UpdateState {
  /** When the registry was last asked (successfully or not). */
  checkedAt?: number;
  /** The registry's latest version at that time. */
  latest?: string;
  /** When the notice was last printed. */
  notifiedAt?: number;
}

export interface NotifierEnv {
  env: NodeJS.ProcessEnv;
  argv: readonly string[];
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
}

const truthy = (v: string | undefined) =>
  v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";

/** The CI variables gh also checks (CI, BUILD_NUMBER, RUN_ID) plus the common vendors'. */
export function inCI(env: NodeJS.ProcessEnv): boolean {
  return ["CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "RUN_ID", "GITHUB_ACTIONS", "TF_BUILD"].some((k) =>
    truthy(env[k]),
  );
}

/** Whether this run may print a notice or start a check at all. Cheap: no file access. */
export function notifierEnabled({ env, argv, stdoutIsTTY, stderrIsTTY }: NotifierEnv): boolean {
  if (!stdoutIsTTY || !stderrIsTTY) return false;
  if (truthy(env.GIGAREELS_NO_UPDATE_NOTIFIER) || inCI(env)) return false;
  if (argv.includes("--json") || env.GIGAREELS_CONTENT_TYPE?.toLowerCase() === "json") return false;
  return true;
}

export const stateFile = (env: NodeJS.ProcessEnv) => join(configDir(env), "update-check.json");

export function readState(file: string): UpdateState {
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as UpdateState;
    return v && typeof v === "object" ? v : {};
  } catch {
    return {};
  }
}

export function writeState(file: string, state: UpdateState): void {
  try {
    mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Without a state file the notice is only skipped.
  }
}

/** Compares x.y.z[-pre] versions: negative, 0 or positive. A pre-release sorts before its release. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = "", pre] = v.replace(/^v/, "").split("-", 2);
    return { nums: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return d;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

export function noticeText(current: string, latest: string, method: InstallMethod): string {
  return `A new release of gigareels is available: ${current} → ${latest}\nTo upgrade: ${upgradeCommand(method)}`;
}

export interface Decision {
  /** The notice to print after the command, if any. */
  notice?: string;
  /** The state to write (notifiedAt, checkedAt of a started check), if it changed. */
  state?: UpdateState;
  /** Start the background check. */
  check: boolean;
}

/** What to do, given the state file: pure, for tests. */
export function decide(state: UpdateState, current: string, method: InstallMethod, now: number): Decision {
  const next: UpdateState = { ...state };
  let changed = false;
  let notice: string | undefined;
  if (
    state.latest &&
    compareVersions(state.latest, current) > 0 &&
    !(state.notifiedAt && now - state.notifiedAt < DAY_MS && now >= state.notifiedAt)
  ) {
    notice = noticeText(current, state.latest, method);
    next.notifiedAt = now;
    changed = true;
  }
  const check = !state.checkedAt || now - state.checkedAt >= DAY_MS || now < state.checkedAt;
  if (check) {
    // Recorded before the check, so a registry that cannot be reached is asked once a day, not
    // on every command.
    next.checkedAt = now;
    changed = true;
  }
  return { notice, state: changed ? next : undefined, check };
}

/**
 * Called by the launcher before the command runs: reads the state, starts the background check
 * when due, and returns the notice to print once the command is done.
 */
export function prepareUpdateNotice(
  ctx: NotifierEnv & { current: string; method: InstallMethod; now?: number; spawnCheck?: () => void },
): string | undefined {
  if (!notifierEnabled(ctx)) return undefined;
  const file = stateFile(ctx.env);
  const d = decide(readState(file), ctx.current, ctx.method, ctx.now ?? Date.now());
  if (d.state) writeState(file, d.state);
  if (d.check) (ctx.spawnCheck ?? spawnBackgroundCheck)();
  return d.notice;
}

/** This same CLI, detached, in its update-check mode; its output goes nowhere. */
export function spawnBackgroundCheck(): void {
  try {
    // The npm bin runs as `node bin/run.js`; a single executable is its own entry point.
    const args = process.argv[1] && !isSingleExecutable() ? [process.argv[1]] : [];
    // Required here, not imported: node:child_process takes Node 20 about 6 ms to load, and the
    // launcher (src/lib/cli/bundle/launch.ts) imports this module on every start, --version too.
    const { spawn } = createRequire(import.meta.url)(
      "node:child_process",
    ) as typeof import("node:child_process");
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: "ignore",
      windowsHide: true,
      env: { ...process.env, GIGAREELS_UPDATE_CHECK_CHILD: "1" },
    });
    child.on("error", () => {});
    child.unref();
  } catch {
    // No check this time.
  }
}

function isSingleExecutable(): boolean {
  try {
    // node:sea exists from Node 20.12; only a single executable says true.
    return (
      (process as unknown as { getBuiltinModule?: (id: string) => { isSea?: () => boolean } })
        .getBuiltinModule?.("node:sea")
        ?.isSea?.() === true
    );
  } catch {
    return false;
  }
}

/** The child's work: ask the registry for the latest version and record it. */
export async function runUpdateCheck(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const base = (env.GIGAREELS_UPDATE_REGISTRY || DEFAULT_REGISTRY).replace(/\/+$/, "");
  const url = `${base}/${PACKAGE_NAME.replace("/", "%2f")}/latest`;
  const file = stateFile(env);
  try {
    const res = await fetch(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
    if (!res.ok) return;
    const body = (await res.json()) as { version?: unknown };
    if (typeof body.version !== "string" || !/^\d+\.\d+\.\d+/.test(body.version)) return;
    writeState(file, { ...readState(file), checkedAt: Date.now(), latest: body.version });
  } catch {
    // Offline, a timeout, a proxy: try again tomorrow.
  }
}
