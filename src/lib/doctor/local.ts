/**
 * The doctor's checks of this machine: the key (source and format), credentials.json
 * (permissions and format), the OS keychain, and the loopback port of the browser login.
 * Each returns a Check; none throws. Nothing here changes a file (a read-only look at
 * credentials.json, unlike the store, which tightens a loose mode itself).
 */
import { errorCode } from "../sdk/errors.js";
import { lstat, readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { startCallbackServer } from "../auth/callback-server.js";
import { credentialsPath, readProfileOffline, resolveApiKey } from "../credentials/index.js";
import { CREDENTIALS_FILE, interpret } from "../credentials/file-store.js";
import { KeychainFailure, type KeytarLike, keychainAccounts } from "../credentials/keychain.js";
import { describeKeyProblem, hasSurroundingWhitespace, maskKey } from "../credentials/key-format.js";
import type { ResolvedKey } from "../credentials/types.js";
import { type InstallMethod, RELEASES_URL, versionInfo } from "../version/info.js";
import { type Check, type CheckId, TITLES } from "./types.js";

export function check(
  id: CheckId,
  status: Check["status"],
  detail: string,
  extra: Partial<Check> = {},
): Check {
  return { id, title: TITLES[id], status, detail, ...extra };
}

/** A failed check from a thrown error: its message, first suggestion and exit code. */
export function failFrom(id: CheckId, err: unknown, extra: Partial<Check> = {}): Check {
  const e = err as { message?: string; suggestions?: unknown };
  const fix =
    Array.isArray(e.suggestions) && typeof e.suggestions[0] === "string" ? e.suggestions[0] : undefined;
  return check(id, "fail", String(e.message ?? err), {
    ...(fix ? { fix } : {}),
    code: errorCode(err),
    ...extra,
  });
}

function sourceText(found: ResolvedKey): string {
  switch (found.source) {
    case "env":
      return "GIGAREELS_API_KEY";
    case "env-file":
      return `GIGAREELS_API_KEY_FILE (${found.origin})`;
    case "keychain":
      return `the OS keychain (profile ${found.profile})`;
    case "file":
      return `${CREDENTIALS_FILE} (profile ${found.profile})`;
    default:
      return found.origin;
  }
}

export interface KeyOutcome {
  check: Check;
  /** The usable key and where it came from; null when there is none or it is malformed. */
  found: ResolvedKey | null;
}

export async function checkKey(options: {
  profile?: string;
  env: NodeJS.ProcessEnv;
  keychainTimeoutMs?: number;
}): Promise<KeyOutcome> {
  const warnings: string[] = [];
  let found: ResolvedKey | null;
  try {
    found = await resolveApiKey({
      profile: options.profile,
      env: options.env,
      keychainTimeoutMs: options.keychainTimeoutMs,
      onWarning: (m) => warnings.push(m),
    });
  } catch (err) {
    return { check: failFrom("key", err), found: null };
  }
  if (!found) {
    const why = warnings.length > 0 ? ` (${warnings[0]})` : "";
    return {
      check: check(
        "key",
        "fail",
        `No API key: GIGAREELS_API_KEY and GIGAREELS_API_KEY_FILE are not set and the profile has no stored key${why}`,
        {
          fix: "Run gigareels login, or set GIGAREELS_API_KEY",
          code: "missing_api_key",
        },
      ),
      found: null,
    };
  }
  const problem = describeKeyProblem(found.key);
  const from = sourceText(found);
  if (problem) {
    return {
      check: check("key", "fail", `The key from ${from} is malformed: ${problem}`, {
        fix: 'A key is "giga_" and 32 letters or digits: copy it again from the dashboard (Settings -> API Keys), or run gigareels login',
        code: "invalid_api_key",
        data: { source: found.source, origin: found.origin },
      }),
      found: null,
    };
  }
  const note = hasSurroundingWhitespace(found.raw) ? " (surrounding spaces or newlines are ignored)" : "";
  return {
    check: check("key", "pass", `${maskKey(found.key)} from ${from}${note}`, {
      data: {
        source: found.source,
        origin: found.origin,
        profile: found.profile,
        masked: maskKey(found.key),
      },
    }),
    found,
  };
}

const mode = (m: number) => (m & 0o777).toString(8).padStart(4, "0");

export async function checkCredentialsFile(env: NodeJS.ProcessEnv): Promise<Check> {
  const path = credentialsPath({ env });
  const fail = (detail: string, fix: string, code: string) =>
    check("credentials", "fail", detail, { fix, code, data: { path } });
  let st: import("node:fs").Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR")
      return check("credentials", "pass", `${path}: none (nothing stored on this machine)`, {
        data: { path },
      });
    return fail(
      `${path} cannot be read (${code})`,
      `Check the permissions of ${dirname(path)}`,
      "credentials_unreadable",
    );
  }
  if (st.isSymbolicLink())
    return fail(
      `${path} is a symbolic link, which gigareels refuses to follow`,
      `Replace it with a regular file: move it away and run gigareels login`,
      "credentials_symlink",
    );
  if (!st.isFile())
    return fail(
      `${path} is not a regular file`,
      "Move it away and run gigareels login",
      "credentials_unreadable",
    );
  if (process.platform !== "win32") {
    if ((st.mode & 0o077) !== 0)
      return fail(
        `${path} has mode ${mode(st.mode)}: other users can read it`,
        `Run chmod 600 ${path}; if others could read it, revoke the key (gigareels logout --revoke) and log in again`,
        "credentials_unreadable",
      );
    try {
      const d = await stat(dirname(path));
      if ((d.mode & 0o077) !== 0)
        return fail(
          `${dirname(path)} has mode ${mode(d.mode)}: other users can list it`,
          `Run chmod 700 ${dirname(path)}`,
          "credentials_unreadable",
        );
    } catch {}
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    return fail(
      `${path} cannot be read (${(err as NodeJS.ErrnoException).code})`,
      `Check its owner and mode (0600)`,
      "credentials_unreadable",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    const detail = String((err as Error).message).split("\n")[0];
    return fail(
      `${path} is not valid JSON (${detail})`,
      "Run gigareels login to start a new file (the broken one is kept aside), or fix it by hand",
      "credentials_corrupt",
    );
  }
  const r = interpret(path, value, st.mtime);
  if (r instanceof Error) {
    const e = r as Error & { code: string; suggestions: string[] };
    return fail(e.message, e.suggestions[0] ?? "Run gigareels login", e.code);
  }
  const n = Object.keys(r.data.profiles).length;
  const inFile = Object.values(r.data.profiles).filter((p) => p.keyLocation === "file").length;
  const format = r.migratedFrom ? "format v1 (rewritten as v2 on the next login)" : "format v2";
  const where = inFile > 0 ? `, ${inFile} key${inFile > 1 ? "s" : ""} in the file` : "";
  return check(
    "credentials",
    "pass",
    `${path}: ${format}, mode ${process.platform === "win32" ? "n/a" : mode(st.mode)}, ${n} profile${n === 1 ? "" : "s"}${where}`,
    { data: { path, profiles: n, keysInFile: inFile, version: r.migratedFrom ?? 2 } },
  );
}

const FILE_FALLBACK = "or keep keys in credentials.json: gigareels login --insecure-storage";

/**
 * keytar could not be loaded. From npm it is an optional dependency that may have failed to
 * build; a standalone binary carries its own copy, which needs the system's libsecret on Linux
 * (and is absent only from a binary built with --allow-missing-native, never from a release).
 */
export function keychainMissingAdvice(
  reason: string,
  method: InstallMethod,
): { detail: string; fix: string } {
  if (method === "npm" || method === "source") {
    return {
      detail: `Not available: ${reason} (keytar, the optional keychain module, is missing)`,
      fix: `Reinstall with its optional dependencies (npm install --global @gigareels/sdk --include=optional; on Linux keytar builds against libsecret-1-dev), ${FILE_FALLBACK}`,
    };
  }
  const where = method === "binary" ? "binary" : `${method === "homebrew" ? "Homebrew" : "Debian"} package`;
  const system =
    process.platform === "linux"
      ? "install libsecret and a Secret Service (e.g. sudo apt install libsecret-1-0 gnome-keyring), "
      : "";
  return {
    detail: `Not available: ${reason} (the keychain module inside the ${where} could not load)`,
    fix: `${system ? system[0]!.toUpperCase() + system.slice(1) : ""}${system ? "u" : "U"}se a release build from ${RELEASES_URL} (one built with --allow-missing-native has no keychain module), ${FILE_FALLBACK}`,
  };
}

/**
 * Lists the gigareels items (the child process blanks the secrets) to see whether the
 * keychain answers. A failure only fails the check when the key in use lives there.
 */
export async function checkKeychain(options: {
  profile?: string;
  env: NodeJS.ProcessEnv;
  found: ResolvedKey | null;
  keychainTimeoutMs?: number;
  /** For tests: a keytar stand-in. */
  keytar?: KeytarLike;
  /** How this copy was installed (default: detected); the advice for a missing keytar depends on it. */
  installMethod?: InstallMethod;
}): Promise<Check> {
  const store = options.env.GIGAREELS_CREDENTIAL_STORE?.trim().toLowerCase();
  if (store === "file") return check("keychain", "skip", "Not used: GIGAREELS_CREDENTIAL_STORE=file");
  // Needed when the key in use lives there, or should (the profile says so and no variable supplies a key).
  const fromVariable = options.found?.source === "env" || options.found?.source === "env-file";
  const record = fromVariable
    ? null
    : await readProfileOffline({ profile: options.profile, env: options.env }).catch(() => null);
  const needed =
    options.found?.source === "keychain" || record?.keyLocation === "keychain" || store === "keychain";
  const timeoutMs = options.keychainTimeoutMs;
  try {
    const accounts = await keychainAccounts({ keychainTimeoutMs: timeoutMs, keytar: options.keytar });
    return check(
      "keychain",
      "pass",
      `Available (${accounts.length} gigareels item${accounts.length === 1 ? "" : "s"})`,
      {
        data: { items: accounts.length },
      },
    );
  } catch (err) {
    if (!(err instanceof KeychainFailure)) return failFrom("keychain", err);
    let detail: string;
    let fix: string;
    const fileFallback = FILE_FALLBACK;
    if (err.kind === "timeout") {
      detail = `Did not answer (${err.reason}): the keyring may be locked and waiting for a password, or D-Bus is stuck`;
      fix = `Unlock the keyring (log in to the desktop session), ${fileFallback}`;
    } else if (/lock/i.test(err.reason)) {
      detail = `The keyring is locked (${err.reason})`;
      fix = `Unlock it (your desktop's keyring app, or log in to the desktop session), ${fileFallback}`;
    } else if (/killed \(SIG(SEGV|ABRT)\)/.test(err.reason)) {
      // Seen with gnome-keyring: a locked keyring whose unlock prompt cannot open (no display)
      // makes libsecret crash in keytar's helper process.
      detail = `The keychain module crashed (${err.reason}): the keyring is probably locked and could not ask for its password`;
      fix = `Unlock it (your desktop's keyring app, or log in to the desktop session), ${fileFallback}`;
    } else if (err.kind === "missing") {
      ({ detail, fix } = keychainMissingAdvice(
        err.reason,
        options.installMethod ?? versionInfo().installMethod,
      ));
    } else {
      detail = `Not available (${err.reason})`;
      fix = `Start a Secret Service (e.g. gnome-keyring) in this session, ${fileFallback}`;
    }
    return check(
      "keychain",
      needed ? "fail" : "warn",
      needed ? detail : `${detail}; keys are kept in credentials.json`,
      {
        fix,
        ...(needed ? { code: errorCode(err) } : {}),
        data: { kind: err.kind },
      },
    );
  }
}

/** Binds the login callback server itself on 127.0.0.1 (the port `login --web --port` would use). */
export async function checkLoginPort(port: number | undefined): Promise<Check> {
  try {
    const server = await startCallbackServer({ state: "doctor", port: port ?? 0 });
    const bound = server.port;
    await server.close();
    return check(
      "login-port",
      "pass",
      `127.0.0.1:${bound} can be bound: browser login can receive its callback`,
      {
        data: { port: bound },
      },
    );
  } catch (err) {
    const failed = failFrom("login-port", err);
    failed.fix =
      port !== undefined
        ? "Pass another --port to gigareels login --web (or leave it out), or use gigareels login --device"
        : "Use gigareels login --device (no local port needed)";
    return failed;
  }
}
