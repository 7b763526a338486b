/**
 * The oclif half of the bundled CLI's start-up (the npm bin `bin/run.js` and the standalone
 * binary): the big bundle (dist/bundle/cli.cjs), which ./launch.ts loads only when the command
 * line needs oclif.
 *
 * oclif normally discovers plugins on disk (package.json, node_modules, manifests) and imports
 * command files by path. The bundle instead hands oclif one root plugin, already loaded, whose
 * manifest is embedded at build time and whose commands come from a command map generated at
 * build time from src/commands (oclif's "explicit" command strategy). Each entry of the map is
 * a lazy loader, so `--version`, `--help` and `status` evaluate only the modules they need.
 *
 * This relies on oclif internals (pinned @oclif/core, covered by test/unit/build*.test.ts):
 * the Plugin's private `_manifest()` (replaced to return the embedded manifest), the `plugins`
 * load option (a map of already-loaded plugins, which skips disk discovery), and what
 * `Config.load` does with a Config (see reuseLoadedConfig).
 * Everything after that — flag parsing, help, hooks, errors — is oclif's own `run`.
 */
import { type Command, Config, Errors, flush, handle, type Interfaces, Plugin, run } from "@oclif/core";

export type CommandLoader = () => Promise<unknown>;
export type HookLoader = () => Promise<unknown>;
type CommandClass = Command.Class;
type HookFn = (this: unknown, options: Record<string, unknown>) => Promise<unknown>;

export interface LaunchOptions {
  /** Folder that stands for the package root (oclif resolves relative paths against it). */
  root: string;
  /** package.json, inlined at build time. */
  pjson: Interfaces.PJSON;
  /** The root plugin's manifest (ours plus the bundled plugins' commands), inlined at build time. */
  manifest: Interfaces.Manifest;
  /** Command id -> lazy import of the module that exports the command class. */
  commands: Record<string, CommandLoader>;
  /**
   * Hook event -> lazy imports of the bundled hook modules (package.json's oclif.hooks, and
   * plugin-not-found's `command_not_found`). oclif itself would import them from disk by path.
   */
  hooks?: Record<string, HookLoader[]>;
  argv?: string[];
}

function findCommandClass(mod: unknown): CommandClass | undefined {
  const isCommand = (c: unknown): c is CommandClass =>
    typeof c === "function" && typeof (c as { run?: unknown }).run === "function";
  if (isCommand(mod)) return mod;
  const m = mod as Record<string, unknown> | null;
  if (m && isCommand(m.default)) return m.default;
  return m ? Object.values(m).find(isCommand) : undefined;
}

function findFunction(mod: unknown): HookFn | undefined {
  if (typeof mod === "function") return mod as HookFn;
  const m = mod as Record<string, unknown> | null;
  if (m && typeof m.default === "function") return m.default as HookFn;
  return m ? (Object.values(m).find((v) => typeof v === "function") as HookFn | undefined) : undefined;
}

/** The root plugin with the embedded manifest and the lazy command map. */
export async function loadRootPlugin(options: LaunchOptions): Promise<Plugin> {
  const plugin = new Plugin({ isRoot: true, root: options.root, pjson: options.pjson });
  const internals = plugin as unknown as {
    _manifest: () => Promise<Interfaces.Manifest>;
    hasManifest: boolean;
    commandIDs: string[];
  };
  internals._manifest = async () => {
    internals.hasManifest = true;
    internals.commandIDs = Object.keys(options.manifest.commands);
    return options.manifest;
  };
  const findCommand = async (id: string, opts: { must?: boolean } = {}) => {
    const loader = options.commands[id];
    const cmd = loader ? findCommandClass(await loader()) : undefined;
    if (!cmd) {
      if (opts.must) Errors.error(`command ${id} not found`);
      return undefined;
    }
    cmd.id = id;
    cmd.plugin = plugin;
    return cmd;
  };
  plugin.findCommand = findCommand as Plugin["findCommand"];
  // Plugin.load sorts the commands with localeCompare, whose first call initialises ICU's
  // collator: 6-20 ms here, a third of the start-up budget. Command ids are ASCII, so a
  // code-point comparison serves during that one call (the order only affects listings, and
  // help sorts them itself).
  const localeCompare = String.prototype.localeCompare;
  // biome-ignore lint/suspicious/noExplicitAny: restored right after.
  (String.prototype as any).localeCompare = function (this: string, other: string) {
    return this < other ? -1 : this > other ? 1 : 0;
  };
  try {
    await plugin.load();
  } finally {
    String.prototype.localeCompare = localeCompare;
  }
  return plugin;
}

/**
 * oclif runs hooks by importing their files from disk by path, which a single executable cannot
 * do; the bundled hooks run here instead, with the context oclif gives hooks. Hooks declared in
 * package.json are removed from the inlined pjson, so oclif does not also look for them on disk.
 */
let hooksInstalled = false;
function installBundledHooks(hooks: Record<string, HookLoader[]>): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  type HookResult = {
    successes: { plugin: unknown; result: unknown }[];
    failures: { plugin: unknown; error: Error }[];
  };
  const proto = Config.prototype as unknown as {
    runHook: (
      this: Config,
      event: string,
      opts: Record<string, unknown>,
      ...rest: unknown[]
    ) => Promise<HookResult>;
  };
  const original = proto.runHook;
  proto.runHook = async function (this: Config, event, opts, ...rest) {
    const result = await original.call(this, event, opts, ...rest);
    const loaders = hooks[event] ?? [];
    // command_not_found: the first hook that handles it wins, as in oclif.
    for (const load of loaders) {
      if (event === "command_not_found" && (result.successes.length > 0 || result.failures.length > 0)) break;
      const hook = findFunction(await load());
      if (!hook) continue;
      const context = {
        config: this,
        debug: () => {},
        error: (message: string, options: { exit?: number } = {}) =>
          Errors.error(message, options as Parameters<typeof Errors.error>[1]),
        exit: (code = 0) => Errors.exit(code),
        log: (message?: string) => process.stdout.write(`${message ?? ""}\n`),
        warn: (message: string) => Errors.warn(message),
      };
      const plugin = (this as unknown as { rootPlugin: unknown }).rootPlugin;
      try {
        const value = await hook.call(context, { ...opts, config: this, context });
        result.successes.push({ plugin, result: value });
      } catch (error) {
        result.failures.push({ plugin, error: error as Error });
        // oclif rethrows a hook's error when it asks for a non-zero exit.
        const exit = (error as { oclif?: { exit?: number } }).oclif?.exit;
        if (exit !== undefined && exit !== 0) throw error;
      }
    }
    return result;
  };
}

/**
 * oclif's `Command.run` passes the Config it was given to `Config.load`, which then builds and
 * loads a second Config from the same options and plugins, in case the command was built against
 * another @oclif/core than the Config's. The bundle holds one @oclif/core, so that second Config
 * would equal the first: a Config of this very class is used as it is. Every command run then
 * loads the Config once instead of twice (the second load read theme.json again and rebuilt
 * the command tables: about 2 ms and the garbage of a start-up).
 */
let configReuseInstalled = false;
function reuseLoadedConfig(): void {
  if (configReuseInstalled) return;
  configReuseInstalled = true;
  const load = Config.load;
  Config.load = async (opts?: Interfaces.LoadOptions) =>
    opts instanceof Config ? opts : load.call(Config, opts);
}

/** Runs oclif on `argv` (the launcher has already handled `--version` and the update notice). */
export async function runOclif(options: LaunchOptions): Promise<void> {
  const argv = options.argv ?? process.argv.slice(2);
  try {
    if (options.hooks && Object.keys(options.hooks).length > 0) installBundledHooks(options.hooks);
    reuseLoadedConfig();
    const plugin = await loadRootPlugin(options);
    await run(argv, {
      root: options.root,
      pjson: plugin.pjson,
      plugins: new Map([[plugin.name, plugin]]),
      // `DEBUG=oclif:perf` prints oclif's start-up timings.
      enablePerf: /(^|,)oclif:(perf|\*)/.test(process.env.DEBUG ?? ""),
    });
    await flush();
  } catch (error) {
    await handle(error as Error);
  }
}
