/** Text helpers shared by the CLI and the reports it renders (no CLI kit, no node:*). */
import { redactKeys } from "./credentials/key-format.js";

/** Joins a message and its suggestions into the one line the conventions ask for. */
export function oneLine(message: string, suggestions: string[] = []): string {
  // A sentence that ends without punctuation gets a full stop before the next one begins
  // (oclif's "Nonexistent flag: --x" + "See more help with --help").
  const stop = (text: string) => (/[.?!]$/.test(text) ? text : `${text.replace(/[:;,]$/, "")}.`);
  const flat = (s: string) =>
    s
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .reduce((acc, l) => (acc === "" ? l : /^[A-Z]/.test(l) ? `${stop(acc)} ${l}` : `${acc} ${l}`), "");
  let line = flat(message);
  for (const s of suggestions) {
    const fix = flat(s);
    if (!fix || line.includes(fix)) continue;
    // "Run gigareels login" + "or set GIGAREELS_API_KEY ...": a lower-case start continues the sentence.
    line = /^[a-z]/.test(fix) ? `${line.replace(/[.:;,]$/, "")}, ${fix}` : `${stop(line)} ${fix}`;
  }
  return redactKeys(line);
}

/**
 * 65536 -> "64.0 KiB": binary units (powers of 1024, labelled KiB/MiB/GiB/TiB so the number
 * and its unit agree), one decimal; below 1 KiB the exact count ("512 B").
 */
export function formatBytes(n: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  if (n < 1024) return `${n} B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * A render's failure as the server worded it, without a leading "Render failed:" (or
 * "failed:"), so it reads once after our own "Render rnd_x failed: ".
 */
export function failureReason(serverMessage: string): string {
  const rest = serverMessage.replace(/^\s*(?:render(?:ing)?\s+)?failed\s*[:.,-]\s*/i, "");
  return rest === "" ? serverMessage.trim() : rest;
}
