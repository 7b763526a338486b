/**
 * What the CLI bundle gives @oclif/core in place of `debug` (scripts/bundle.mjs aliases it for
 * oclif's imports only). oclif's logger makes its debug functions with `debug(namespace)` as soon
 * as a command runs, and `debug` loads node:tty (so node:net and its streams) and supports-color
 * when it loads, to choose colours: about 4 ms and 90 page faults of every start-up here, for
 * output that appears only with DEBUG set. Which namespaces print is decided by DEBUG alone
 * (oclif never calls `debug.enable`): without DEBUG every function `debug` would give is disabled,
 * so this gives a disabled one and loads nothing; with DEBUG it is `debug` itself.
 */

export interface DebugFunction {
  (formatter?: unknown, ...args: unknown[]): void;
  enabled: boolean;
  namespace: string;
}

type CreateDebug = (namespace: string) => DebugFunction;

let debug: CreateDebug | undefined;

export default function createDebug(namespace: string): DebugFunction {
  if (process.env.DEBUG) {
    // Only in the bundle (CommonJS), which carries `debug`: required when first needed.
    debug ??= require("debug") as CreateDebug;
    return debug(namespace);
  }
  const disabled = (() => {}) as DebugFunction;
  disabled.enabled = false;
  disabled.namespace = namespace;
  return disabled;
}
