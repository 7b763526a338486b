/**
 * The human form of `status` (the `--json` form is the report itself).
 * Modelled on `gh auth status`: one block per profile, headed by its host, with a ✓ or X line,
 * then "-" detail lines and "!" warnings. Keys appear only masked.
 */
import { oneLine } from "../text.js";
import { redactKeys } from "../credentials/key-format.js";
import { describeOrigin, type ProfileStatus, type StatusReport } from "./status.js";

export interface FormatOptions {
  /** ANSI colours (a terminal, NO_COLOR unset). */
  color?: boolean;
  now?: number;
}

/** Unreachable, in words (the SDK's full message is in the JSON report's check.message). */
const REASON_TEXT: Record<string, string> = {
  dns: "the host name could not be resolved (DNS)",
  refused: "the connection was refused",
  timeout: "no answer in time (timeout)",
  tls: "the TLS handshake failed (certificate problem)",
  reset: "the connection was reset before an answer arrived",
  network: "the network request failed",
};

const paint = (on: boolean | undefined, code: number, text: string) =>
  on ? `\u001b[${code}m${text}\u001b[39m` : text;

export function formatStatus(report: StatusReport, options: FormatOptions = {}): string {
  // A warning about a base URL (not https) is said once, however many profiles use that URL.
  const said = new Set<string>();
  const blocks = report.profiles.map((p) => formatProfile(p, report, options, said));
  return redactKeys(blocks.join("\n\n"));
}

function formatProfile(p: ProfileStatus, report: StatusReport, o: FormatOptions, said: Set<string>): string {
  const ok = (s: string) => `  ${paint(o.color, 32, "✓")} ${s}`;
  const bad = (s: string) => `  ${paint(o.color, 31, "X")} ${s}`;
  const warn = (s: string) => `  ${paint(o.color, 33, "!")} ${s}`;
  const info = (s: string) => `  - ${s}`;
  const lines = [`${p.host} (profile ${p.profile}${p.active ? ", active" : ""})`];

  const c = p.check;
  const who = p.account ? accountText(p.account) : undefined;
  if (!p.key.found) {
    lines.push(
      bad(
        `Not logged in: no API key found${report.offline ? " in the environment or credentials.json" : ""}`,
      ),
    );
  } else if (c.result === "valid") {
    lines.push(ok(`Logged in to ${p.host}${who ? ` as ${who}` : ""}`));
  } else if (c.result === "rejected" && c.reason === "malformed-key") {
    lines.push(bad(`The key is not usable: ${c.message}`));
  } else if (c.result === "rejected") {
    lines.push(bad(`${p.host} rejected the key: ${c.message}`));
  } else if (c.result === "unreachable") {
    lines.push(
      bad(`Could not reach ${p.host} to check the key: ${REASON_TEXT[c.reason ?? ""] ?? c.message}`),
    );
  } else if (c.result === "error") {
    lines.push(bad(`Could not check the key: ${c.message}`));
  } else {
    lines.push(info("Key not checked (--offline)"));
  }

  if (p.key.found) {
    const unread = report.offline && p.key.source === "keychain" ? "; not read with --offline" : "";
    lines.push(info(`Key: ${p.key.masked} from ${describeOrigin(p.key)}${unread}`));
  }
  if (p.key.createdAt) {
    const day = p.key.createdAt.slice(0, 10);
    const age =
      p.key.ageDays === null ? "" : ` (${p.key.ageDays === 1 ? "1 day" : `${p.key.ageDays} days`} ago)`;
    lines.push(info(`Key created: ${day}${age}${p.key.id ? `, id ${p.key.id}` : ""}`));
  }
  if (p.account && c.result !== "valid") {
    lines.push(info(`Account: ${accountText(p.account)} (as stored at login)`));
  }
  const from =
    p.baseUrlSource === "--base-url" || p.baseUrlSource === "GIGAREELS_BASE_URL"
      ? ` (from ${p.baseUrlSource})`
      : "";
  lines.push(info(`Base URL: ${p.baseUrl}${from}`));
  if (c.rateLimit && (c.rateLimit.limit !== null || c.rateLimit.remaining !== null)) {
    const rl = c.rateLimit;
    const left = `${rl.remaining ?? "?"}${rl.limit !== null ? ` of ${rl.limit}` : ""} requests left`;
    const reset = rl.resetAt ? `, resets ${inTime(Date.parse(rl.resetAt) - (o.now ?? Date.now()))}` : "";
    lines.push(info(`Rate limit: ${left}${reset}`));
  }
  for (const w of p.warnings) {
    if (w.code === "base-url-http") {
      if (said.has(w.message)) continue;
      said.add(w.message);
    }
    lines.push(warn(w.message));
  }
  // One sentence per fix, as in an error line ("Run ..., or set ...").
  if (p.fix.length) lines.push(info(`To fix: ${oneLine(p.fix[0] ?? "", p.fix.slice(1))}`));
  return lines.join("\n");
}

function accountText(a: { email: string; name: string | null; plan: string | null }): string {
  const extra = [a.name, a.plan ? `plan ${a.plan}` : null].filter(Boolean).join(", ");
  return `${a.email || "(no email)"}${extra ? ` (${extra})` : ""}`;
}

function inTime(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "now";
  const s = Math.ceil(ms / 1000);
  if (s < 120) return `in ${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `in ${m} min` : `in ${Math.round(m / 60)} h`;
}
