import { UsageError } from "./usage-error.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The longest duration accepted: 24 days (576h). Longer is a mistake, and beyond what a Node
 * timer holds (2^31-1 ms, about 24.8 days: a longer setTimeout fires at once with a
 * TimeoutOverflowWarning, which made `--timeout 99999999999999h` exit 7 at once), so it is
 * refused as a usage error before any timer is set.
 */
export const MAX_DURATION_MS = 24 * 24 * 3_600_000;

/**
 * Parses `90s`, `5m`, `1h`, `1h30m`, `250ms` or a bare number of seconds into milliseconds; zero
 * and more than 24 days are refused. `flag` names the flag in the message; leave it out inside an
 * oclif flag's `parse` (the command's error handler puts the flag's name first).
 */
export function parseDuration(input: string, flag?: string): number {
  const text = input.trim();
  const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
  const problem = () =>
    new UsageError(
      `${flag ? `${flag} ` : ""}expects a duration greater than 0 such as 90s, 5m or 1h, not "${shown}"`,
    );
  const checked = (ms: number) => {
    if (Number.isNaN(ms) || ms <= 0) throw problem();
    if (ms > MAX_DURATION_MS)
      throw new UsageError(
        `${flag ? `${flag} ` : ""}expects a duration of at most 24 days (576h), not "${shown}"`,
      );
    return ms;
  };
  if (/^\d+(\.\d+)?$/.test(text)) return checked(Math.round(Number(text) * 1000));
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || text.length === 0) throw problem();
  return checked(Math.round(total));
}

/** 65000 -> "1m05s"; 4000 -> "4s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
