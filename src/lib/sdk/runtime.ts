/**
 * Where the SDK runs. The portable core (client, transport, errors, polling) uses only web
 * APIs; the Node-only parts (stored credentials, download to a file, the shared poll budget,
 * proxies) are loaded through `nodeOnly`, so importing the SDK loads no node:* module and a
 * runtime without them gets one clear error instead of "process is not defined".
 */
import { UnsupportedRuntimeError } from "./errors.js";

/** Node, or a runtime that implements its APIs (Bun, Deno): `process.versions.node` is set. */
export function hasNodeApis(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof p?.versions?.node === "string";
}

/**
 * Loads a Node-only part on first use. Elsewhere throws UnsupportedRuntimeError:
 * "<what> needs Node.js, Bun or Deno (this runtime has no file system); <instead>".
 */
export async function nodeOnly<T>(what: string, instead: string, load: () => Promise<T>): Promise<T> {
  if (!hasNodeApis()) {
    throw new UnsupportedRuntimeError(
      `${what} needs Node.js, Bun or Deno (this runtime has no file system); ${instead}`,
      {
        suggestions: [instead],
      },
    );
  }
  return load();
}
