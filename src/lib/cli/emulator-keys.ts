/** The emulator command's --key values, read and checked (CLI plumbing: it reads @FILE). */
import { readFile } from "node:fs/promises";
import { isValidKeyFormat, maskKey } from "../credentials/key-format.js";
import { UsageError } from "./usage-error.js";

/** Keys from --key values: a key, or @FILE with keys one a line. Never echoes a key. */
export async function readKeys(values: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const value of values) {
    if (value.startsWith("@")) {
      const path = value.slice(1);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch {
        throw new UsageError(`--key ${value}: cannot read that file`, ["Pass @FILE with one key a line"]);
      }
      const lines = text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      for (const [i, line] of lines.entries()) {
        if (!isValidKeyFormat(line))
          throw new UsageError(`--key ${value}: line ${i + 1} is not a GigaReels API key`, [
            'A key is "giga_" followed by 32 letters or digits',
          ]);
        keys.push(line);
      }
      continue;
    }
    const key = value.trim();
    if (!isValidKeyFormat(key))
      throw new UsageError(`--key ${maskKey(key)} is not a GigaReels API key`, [
        'A key is "giga_" followed by 32 letters or digits',
      ]);
    keys.push(key);
  }
  return keys;
}
