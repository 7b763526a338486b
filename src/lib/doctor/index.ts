/**
 * `gigareels doctor`, without oclif: every check in order, one result each, with a fix for
 * each failure. The exit code is the first failing check's (the table every command uses:
 * 4 for the key and the API's refusal, 5 for the network, 2 for the login port, 1 for the
 * files, the keychain and the clock). Modelled on `gh auth status`, `wrangler whoami` and
 * `stripe` diagnostics, with the network steps of `curl -v` spelled out.
 */
import { stat } from "node:fs/promises";
import { DEFAULT_BASE_URL, validateBaseUrl } from "../sdk/config.js";
import { check, checkCredentialsFile, checkKey, checkKeychain, checkLoginPort, failFrom } from "./local.js";
import { checkApi, checkClock, checkDns, checkProxy, checkTcp, checkTls, netTarget } from "./network.js";
import type { Check, CheckId, DoctorOptions, DoctorResult } from "./types.js";

export type * from "./types.js";

const NETWORK: CheckId[] = ["dns", "tcp", "tls", "proxy", "api", "clock"];

function baseUrlOf(options: DoctorOptions, env: NodeJS.ProcessEnv, storedBaseUrl: string | undefined) {
  if (options.baseUrl) return { raw: options.baseUrl, where: "--base-url" };
  if (env.GIGAREELS_BASE_URL?.trim()) return { raw: env.GIGAREELS_BASE_URL, where: "GIGAREELS_BASE_URL" };
  if (storedBaseUrl) return { raw: storedBaseUrl, where: "the profile's base URL" };
  return { raw: DEFAULT_BASE_URL, where: "the default" };
}

export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorResult> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const checks: Check[] = [];
  const add = (c: Check) => {
    checks.push(c);
    options.onCheck?.(c);
  };

  // The file is looked at before the key is resolved: resolving tightens a loose mode itself.
  const credentials = await checkCredentialsFile(env);
  const key = await checkKey({ profile: options.profile, env, keychainTimeoutMs: options.keychainTimeoutMs });
  add(key.check);
  const path = credentials.data?.path;
  if (credentials.status === "fail" && /has mode/.test(credentials.detail) && typeof path === "string") {
    const now = await stat(path).catch(() => null);
    if (now && (now.mode & 0o077) === 0) {
      credentials.detail += " (gigareels has now tightened it to 0600)";
      credentials.fix =
        "If others could read it, revoke the key (gigareels logout --revoke) and log in again";
    }
  }
  add(credentials);
  add(
    await checkKeychain({
      profile: options.profile,
      env,
      found: key.found,
      keychainTimeoutMs: options.keychainTimeoutMs,
    }),
  );

  const stored =
    key.found?.source === "keychain" || key.found?.source === "file" ? key.found.baseUrl : undefined;
  const base = baseUrlOf(options, env, stored);
  let baseUrl = base.raw;
  let target: ReturnType<typeof netTarget> | undefined;
  try {
    baseUrl = validateBaseUrl(base.raw, base.where);
    target = netTarget(baseUrl, env, timeoutMs, options.signal);
  } catch (err) {
    add(failFrom("dns", err));
  }
  if (target) {
    const blocked = (): string | undefined =>
      checks.find((c) => NETWORK.includes(c.id) && c.status === "fail")?.title;
    const step = async (id: CheckId, run: () => Promise<Check>) => {
      const b = blocked();
      add(b ? check(id, "skip", `Skipped: ${b} failed`) : await run());
    };
    await step("dns", () => checkDns(target));
    await step("tcp", () => checkTcp(target));
    await step("tls", () => checkTls(target));
    await step("proxy", () => checkProxy(target));
    const b = blocked();
    if (b) {
      add(check("api", "skip", `Skipped: ${b} failed`));
      add(check("clock", "skip", "Skipped: no answer from the server to compare with"));
    } else if (!key.found) {
      // Without a key, the API still answers (401) with a Date: the clock can be checked.
      const api = await checkApi(target, null, options.userAgent);
      add(check("api", "skip", "Skipped: no usable API key (see API key)"));
      add(checkClock(api.answer));
    } else {
      const api = await checkApi(target, key.found.key, options.userAgent);
      add(api.check);
      add(checkClock(api.answer));
    }
  } else {
    for (const id of NETWORK.slice(1)) add(check(id, "skip", "Skipped: no valid base URL"));
  }
  add(await checkLoginPort(options.port));

  const first = checks.find((c) => c.status === "fail");
  return {
    ok: first === undefined,
    code: first ? (first.code ?? "error") : null,
    baseUrl,
    checks,
  };
}

const MARK: Record<Check["status"], string> = { pass: "ok  ", warn: "warn", fail: "FAIL", skip: "skip" };
/** In a terminal (colour allowed): a green ✓ for a passed check, the words coloured for the rest. */
const TERMINAL_MARK: Record<Check["status"], string> = {
  pass: "\u001b[32m✓\u001b[39m   ",
  warn: "\u001b[33mwarn\u001b[39m",
  fail: "\u001b[31mFAIL\u001b[39m",
  skip: "skip",
};

export interface FormatOptions {
  /** A terminal that takes decorations (not --json, not a pipe, no NO_COLOR): ✓ and colour. */
  decorated?: boolean;
}

/** One line for people: status, title, what was found, and the fix. */
export function formatCheck(c: Check, options: FormatOptions = {}): string {
  const fix = c.fix && (c.status === "fail" || c.status === "warn") ? `. Fix: ${c.fix}` : "";
  const mark = (options.decorated ? TERMINAL_MARK : MARK)[c.status];
  return `${mark}  ${c.title.padEnd(19)} ${c.detail.replace(/[.]$/, "")}${fix}`;
}

/** The closing line. */
export function formatSummary(r: DoctorResult, exitCode: number, options: FormatOptions = {}): string {
  const failed = r.checks.filter((c) => c.status === "fail");
  const warned = r.checks.filter((c) => c.status === "warn").length;
  if (failed.length === 0) {
    const tick = options.decorated ? "\u001b[32m✓\u001b[39m " : "";
    return `${tick}All checks passed for ${r.baseUrl}${warned ? ` (${warned} warning${warned > 1 ? "s" : ""})` : ""}.`;
  }
  return `${failed.length} check${failed.length > 1 ? "s" : ""} failed (${failed.map((c) => c.title).join(", ")}); exit code ${exitCode}, from ${failed[0]!.title}.`;
}
