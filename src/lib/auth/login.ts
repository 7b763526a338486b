/**
 * `gigareels login`, without oclif: picks the method (browser, device code, a key from stdin
 * or pasted), runs it, stores the key for the profile, and revokes the key it replaced.
 * Everything interactive or environment-bound comes in through `LoginOptions`, so the
 * integration tests drive it in-process against the emulator.
 */
import type { Account, KeyLocation, ResolvedKey, SaveResult } from "../credentials/types.js";
import { DEFAULT_BASE_URL, validateBaseUrl } from "../sdk/config.js";
import { describeKeyProblem, maskKey, normalizeKey } from "../credentials/key-format.js";
import { AbortedError, AuthenticationError } from "../sdk/errors.js";
import type { GigaReelsOptions } from "../sdk/types.js";
import { type OpenResult, openBrowser, preferDeviceFlow } from "./browser.js";
import { type CallbackServer, startCallbackServer } from "./callback-server.js";
import {
  ApiKeyEnvSetError,
  LoginCancelledError,
  LoginTimeoutError,
  NoTerminalError,
  TokenInputError,
} from "./errors.js";
import {
  exchangeCode,
  type IssuedKey,
  type OAuthPost,
  pollDeviceToken,
  requestDeviceCode,
  revokeKey,
  type Sleep,
} from "./oauth.js";
import { buildAuthorizeUrl, createPkcePair, createState } from "./pkce.js";
import { decideRevoke, type KeepReason, keepReasonText } from "./provenance.js";
import { type AuthServices, defaultAuthServices } from "./services.js";

export type LoginMethod = "web" | "device" | "token";
export type MethodChoice = "web" | "device" | "paste";

/** The questions login may ask; the CLI implements them with @inquirer/prompts. */
export interface LoginPrompter {
  chooseMethod(recommended: "web" | "device", signal: AbortSignal): Promise<MethodChoice>;
  confirmReplace(existing: ExistingKey, signal: AbortSignal): Promise<boolean>;
  /** "Make `profile` the active profile (now `current`)?"; without it, the active profile stays. */
  confirmActivate?(profile: string, current: string, signal: AbortSignal): Promise<boolean>;
  /** A masked prompt; `validate` returns true or the problem to show. */
  pasteKey(validate: (value: string) => true | string, signal: AbortSignal): Promise<string>;
}

export interface LoginUi {
  /** Shown on stderr even under --json: the URL to open, the device code. */
  notice(line: string): void;
  /** Progress for people on stderr (silent under --json). */
  progress(line: string): void;
  /** A one-line warning on stderr. */
  warn(line: string): void;
}

export interface ExistingKey {
  profile: string;
  host: string;
  keyMasked: string;
  email?: string;
  /** What replacing it does to the old key: revoked (this CLI minted it) or only forgotten. */
  fate: "revoked" | "forgotten";
}

export interface LoginOptions {
  /** The method flag (--web, --device, --with-token). Without one, ask (or fail without a terminal). */
  method?: LoginMethod;
  /** --base-url / --local. Default: GIGAREELS_BASE_URL, the profile's stored one, https://gigareels.com. */
  baseUrl?: string;
  profile: string;
  /** --port for the callback server; 0 or undefined picks a free one. */
  port?: number;
  /** How long to wait for the browser or the device approval. */
  timeoutMs: number;
  /** "5m": how the timeout reads in messages. */
  timeoutLabel?: string;
  /** --no-browser: print the URL, never try to open it. */
  noBrowser?: boolean;
  /** --insecure-storage: keep the key in credentials.json, not the keychain. */
  insecureStorage?: boolean;
  /** Reads stdin for --with-token. */
  readToken?: () => Promise<string>;
  /** Whether stdin is a terminal (default: process.stdin.isTTY, unless readToken is given). */
  stdinIsTerminal?: boolean;
  /** Present only when prompting is allowed (a terminal, not CI, not --json). */
  prompter?: LoginPrompter;
  ui: LoginUi;
  /** Ctrl-C. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Credentials folder (default GIGAREELS_CONFIG_DIR or ~/.gigareels). */
  configDir?: string;
  /** Test seam: replaces opening a browser (the URL is printed anyway). */
  open?: (url: string) => Promise<OpenResult>;
  /** Test seams for the device flow's waits. */
  sleep?: Sleep;
  slowDownMs?: number;
  /** Test seam: the SDK, credential store and platform. */
  services?: Partial<AuthServices>;
  /** SDK options for every request (User-Agent, debug). */
  client?: Partial<GigaReelsOptions>;
}

export interface LoginResult {
  profile: string;
  baseUrl: string;
  host: string;
  method: LoginMethod;
  account: Account;
  /** `giga_****abcd`: never the key itself. */
  key: string;
  keyId?: string;
  keyLocation: KeyLocation;
  /** credentials.json */
  credentialsPath: string;
  /** The active profile after the login (another one when the person kept it). */
  activeProfile: string;
  /** Set when the keychain was wanted but the key went to the file. */
  fallbackWarning?: string;
  /** The key this login replaced, and whether the server revoked it (`kept`: not tried, and why). */
  replaced?: { key: string; revoked: boolean; error?: string; kept?: KeepReason };
}

/** Variables that beat stored credentials: while one is set, a stored key would be ignored. */
export const KEY_ENV_VARS = ["GIGAREELS_API_KEY", "GIGAREELS_API_KEY_FILE"] as const;

/** The first key variable that is set to something other than spaces (what key resolution uses). */
export function keyEnvVarSet(env: NodeJS.ProcessEnv): (typeof KEY_ENV_VARS)[number] | undefined {
  return KEY_ENV_VARS.find((name) => (env[name] ?? "").trim() !== "");
}

const STDIN_IS_TERMINAL =
  "--with-token reads the key from stdin, but stdin is a terminal (the key would show as you type it)";
const PIPE_A_KEY =
  "Pipe the key in (printenv MY_KEY | gigareels login --with-token), or run gigareels login in a terminal to paste it in a masked prompt";

export async function login(options: LoginOptions): Promise<LoginResult> {
  const env = options.env ?? process.env;
  const services = { ...defaultAuthServices(options.client), ...options.services };
  const userSignal = options.signal ?? new AbortController().signal;
  const { ui, profile } = options;

  const envVar = keyEnvVarSet(env);
  if (envVar) throw new ApiKeyEnvSetError(envVar);
  if (!options.method && !options.prompter) throw new NoTerminalError();

  const storeOptions = { configDir: options.configDir, env };
  let existing: ResolvedKey | null = null;
  try {
    existing = await services.storedKey(profile, storeOptions);
  } catch (err) {
    // A corrupt credentials.json must not stop a fresh login: saving keeps it aside (and says
    // where) and starts a new one. Anything else that stops reading (a newer format, a symbolic
    // link, a folder, GIGAREELS_CREDENTIAL_STORE=bogus) would stop the save too: fail now, before
    // a browser or device step issues a key that could not be kept.
    if ((err as { code?: unknown }).code !== "credentials_corrupt") throw err;
  }
  const baseUrl = validateBaseUrl(
    options.baseUrl ?? nonEmpty(env.GIGAREELS_BASE_URL) ?? existing?.baseUrl ?? DEFAULT_BASE_URL,
    options.baseUrl ? "the base URL" : env.GIGAREELS_BASE_URL ? "GIGAREELS_BASE_URL" : "the base URL",
  );
  const host = new URL(baseUrl).host;
  // A plain-http (loopback) URL given with --local or --base-url (the emulator prints that
  // command) is the person's choice: recorded, so status does not warn about it; kept when a
  // later login to the same URL does not name it again.
  const localChosen =
    baseUrl.startsWith("http:") &&
    (options.baseUrl !== undefined ||
      (existing?.record?.localChosen === true &&
        existing.baseUrl === baseUrl &&
        !nonEmpty(env.GIGAREELS_BASE_URL)));
  if (existing && options.prompter) {
    const summary: ExistingKey = {
      profile,
      host: hostOf(existing.baseUrl ?? baseUrl),
      keyMasked: maskKey(existing.key),
      email: existing.record?.account?.email,
      fate: (await decideRevoke(services, profile, existing, { store: storeOptions })).keep
        ? "forgotten"
        : "revoked",
    };
    const replace = await options.prompter.confirmReplace(summary, userSignal);
    if (!replace) {
      // Not an error for people (the command prints it as a note and exits 0), but a caller of
      // login() must not mistake it for a result.
      throw new LoginCancelledError(`Kept the existing key ${summary.keyMasked} for profile ${profile}`, {
        suggestions: ["Nothing was changed"],
      });
    }
  }

  let method: LoginMethod;
  let pasted = false;
  const stdinIsTerminal = options.stdinIsTerminal ?? (!options.readToken && process.stdin.isTTY === true);
  if (options.method === "token" && stdinIsTerminal) {
    // Reading a terminal until end-of-file would echo the key as it is typed or pasted.
    if (!options.prompter) throw new TokenInputError(STDIN_IS_TERMINAL, { suggestions: [PIPE_A_KEY] });
    method = "token";
    pasted = true;
  } else if (options.method) {
    method = options.method;
  } else {
    const recommended = preferDeviceFlow(env, services.platform) ? "device" : "web";
    const choice = await options.prompter!.chooseMethod(recommended, userSignal);
    method = choice === "paste" ? "token" : choice;
    pasted = choice === "paste";
  }

  const post = services.oauthPost(baseUrl);
  const deadline = new AbortController();
  const timeoutLabel = options.timeoutLabel ?? `${Math.round(options.timeoutMs / 1000)}s`;
  const signal = AbortSignal.any([userSignal, deadline.signal]);
  /** Turns what an interrupted wait threw into the one error the person should see. */
  const explain = (err: unknown): unknown => {
    if (userSignal.aborted)
      return new AbortedError("Interrupted: the login was cancelled and nothing was stored");
    if (deadline.signal.aborted) {
      return new LoginTimeoutError(
        `The login did not finish within ${timeoutLabel}: no ${method === "device" ? "approval of the device code" : "answer from the browser"} arrived${forged > 0 ? ` (${forged} callback${forged === 1 ? "" : "s"} with another login's state refused)` : ""}`,
        { suggestions: ["Run gigareels login again (pass --timeout to wait longer)"] },
      );
    }
    return err;
  };

  let server: CallbackServer | undefined;
  let forged = 0;
  let finished = false;
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  try {
    let issued: IssuedKey;
    if (method === "web") {
      const state = createState();
      server = await startCallbackServer({
        state,
        port: options.port,
        onRefused: (event) => {
          if (event.kind !== "state-mismatch") return;
          forged++;
          ui.notice(
            "Refused a callback that does not carry this login's state; still waiting for the browser.",
          );
        },
      });
      issued = await runBrowserFlow(server, state, baseUrl, post, options, env, signal, () => finished).catch(
        (err) => {
          throw explain(err);
        },
      );
    } else if (method === "device") {
      issued = await runDeviceFlow(post, options, signal).catch((err) => {
        throw explain(err);
      });
    } else {
      const raw = pasted
        ? await options.prompter!.pasteKey(validatePasted, signal)
        : await (options.readToken ?? readStdin)();
      const key = checkKeyInput(raw, pasted ? "The pasted key" : "The key read from stdin");
      issued = await verifyKey(services, baseUrl, key, signal, pasted).catch((err) => {
        throw explain(err);
      });
    }

    if (signal.aborted) {
      await bestEffortRevoke(post, issued.key, method);
      throw explain(signal.reason);
    }

    // What the store says while saving (a corrupt file kept aside, a tightened mode) is shown;
    // the keychain fallback comes back in `saved.fallbackWarning` for the caller to show once.
    // Another profile is active: in a terminal ask whether to switch to this one (gh switches
    // on login); otherwise it stays, and the command says how to use or activate this one.
    const current = (await services.profiles(storeOptions).catch(() => [])).find((p) => p.active)?.name;
    let activate = current === undefined || current === profile;
    if (!activate && current && options.prompter?.confirmActivate) {
      activate = await options.prompter.confirmActivate(profile, current, userSignal);
    }
    const storeNotes: string[] = [];
    let saved: SaveResult;
    try {
      saved = await services.save(
        {
          profile,
          apiKey: issued.key,
          baseUrl,
          keyId: issued.keyId,
          account: issued.account,
          obtainedBy: method,
          activate,
          localChosen,
        },
        {
          ...storeOptions,
          store: options.insecureStorage ? "file" : undefined,
          onWarning: (m) => storeNotes.push(m),
        },
      );
    } catch (err) {
      for (const note of storeNotes) ui.warn(note);
      // A key this login created and could not keep is revoked, not left live on the server.
      await bestEffortRevoke(post, issued.key, method);
      throw err;
    }
    for (const note of storeNotes) if (note !== saved.fallbackWarning) ui.warn(note);
    server?.respond({
      ok: true,
      title: "Logged in",
      message: `The GigaReels CLI is logged in to ${host} as ${issued.account.email || "your account"} (profile ${profile}).`,
    });

    const result: LoginResult = {
      profile,
      baseUrl,
      host,
      method,
      account: issued.account,
      key: maskKey(issued.key),
      ...(issued.keyId ? { keyId: issued.keyId } : {}),
      keyLocation: saved.location,
      credentialsPath: saved.path,
      activeProfile: saved.activeProfile,
      ...(saved.fallbackWarning ? { fallbackWarning: saved.fallbackWarning } : {}),
    };

    if (existing && existing.key !== issued.key) {
      // The replaced key is revoked only when this CLI minted it and no other profile holds it.
      const decision = await decideRevoke(services, profile, existing, { store: storeOptions });
      const where = existing.baseUrl ?? baseUrl;
      if (decision.keep) {
        result.replaced = { key: maskKey(existing.key), revoked: false, kept: decision.keep };
        ui.progress(
          `The replaced key ${maskKey(existing.key)} was not revoked: ${keepReasonText(decision)}.`,
        );
      } else {
        try {
          await revokeKey(services.oauthPost(where), existing.key, { signal: AbortSignal.timeout(15_000) });
          result.replaced = { key: maskKey(existing.key), revoked: true };
        } catch (err) {
          const why = (err as Error).message;
          ui.warn(`Could not revoke the replaced key ${maskKey(existing.key)} on ${hostOf(where)}: ${why}`);
          result.replaced = { key: maskKey(existing.key), revoked: false, error: why };
        }
      }
    }
    return result;
  } catch (err) {
    server?.respond({ ok: false, title: "Login failed", message: (err as Error).message });
    throw err;
  } finally {
    finished = true;
    clearTimeout(timer);
    await server?.close();
  }
}

async function runBrowserFlow(
  server: CallbackServer,
  state: string,
  baseUrl: string,
  post: OAuthPost,
  options: LoginOptions,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  isFinished: () => boolean,
): Promise<IssuedKey> {
  const { ui } = options;
  const pkce = createPkcePair();
  const url = buildAuthorizeUrl({
    baseUrl,
    redirectUri: server.redirectUri,
    state,
    challenge: pkce.challenge,
  });
  ui.notice(`Open this URL in a browser to log in to ${hostOf(baseUrl)}:`);
  ui.notice(`  ${url}`);
  if (!options.noBrowser) {
    const open =
      options.open ??
      ((u: string) =>
        openBrowser(u, {
          env,
          onLateFailure: (why) => {
            if (!isFinished()) ui.notice(`Could not open a browser (${why}); open the URL above yourself.`);
          },
        }));
    const opened = await open(url);
    if (opened.opened)
      ui.progress(`Opening it with ${opened.via === "BROWSER" ? "$BROWSER" : "your browser"}...`);
    else
      ui.notice(`Could not open a browser (${opened.reason ?? "no browser"}); open the URL above yourself.`);
  }
  ui.progress(`Waiting for the browser on ${server.redirectUri} (Ctrl-C to cancel)...`);
  const code = await server.waitForCode(signal);
  return exchangeCode(post, { code, redirectUri: server.redirectUri, verifier: pkce.verifier }, signal);
}

async function runDeviceFlow(
  post: OAuthPost,
  options: LoginOptions,
  signal: AbortSignal,
): Promise<IssuedKey> {
  const { ui } = options;
  const auth = await requestDeviceCode(post, { signal });
  ui.notice(`Open ${auth.verificationUri} in a browser on any device and enter the code: ${auth.userCode}`);
  ui.progress("Waiting for approval (Ctrl-C to cancel)...");
  return pollDeviceToken(post, auth, { signal, sleep: options.sleep, slowDownMs: options.slowDownMs });
}

function validatePasted(value: string): true | string {
  const problem = describeKeyProblem(normalizeKey(value));
  return problem === null ? true : `That is not a GigaReels API key: ${problem}`;
}

/** Trims and checks the format; a bad key is a usage error that never quotes the key. */
export function checkKeyInput(raw: string, what: string): string {
  const key = normalizeKey(raw);
  const problem = describeKeyProblem(key);
  if (problem !== null) {
    throw new TokenInputError(`${what} is not a GigaReels API key: ${problem}`, {
      suggestions: ['An API key is "giga_" followed by 32 letters or digits (37 characters)'],
    });
  }
  return key;
}

/** Asks /api/me whether the key works, and who it belongs to. */
async function verifyKey(
  services: AuthServices,
  baseUrl: string,
  key: string,
  signal: AbortSignal,
  pasted: boolean,
): Promise<IssuedKey> {
  try {
    const me = await services.me(baseUrl, key, signal);
    return {
      key,
      ...(me.key?.id ? { keyId: me.key.id } : {}),
      account: { id: me.id, email: me.email, ...(me.name ? { name: me.name } : {}) },
    };
  } catch (err) {
    if (err instanceof AuthenticationError) {
      throw new AuthenticationError(
        `${err.status} ${hostOf(baseUrl)} rejected the ${pasted ? "pasted key" : "key read from stdin"} (${maskKey(key)})`,
        {
          status: err.status,
          body: err.body,
          suggestions: ["Check the key in the dashboard (Settings -> API Keys); nothing was stored"],
        },
      );
    }
    throw err;
  }
}

/** A key issued after Ctrl-C or the timeout is not kept anywhere: revoke it, quietly. */
async function bestEffortRevoke(post: OAuthPost, key: string, method: LoginMethod): Promise<void> {
  if (method === "token") return;
  try {
    await revokeKey(post, key, { signal: AbortSignal.timeout(3000) });
  } catch {
    // Nothing to tell: the key was never stored or shown.
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== "" ? value : undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
