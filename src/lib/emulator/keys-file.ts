/** Where `gigareels emulator` leaves its full keys: a 0600 file in the config folder. */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export const KEYS_FILE_NAME = "emulator-keys.txt";

/** `$GIGAREELS_CONFIG_DIR`, else `~/.gigareels`. */
export function emulatorConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.GIGAREELS_CONFIG_DIR;
  return dir && dir.trim() !== "" ? dir : join(homedir(), ".gigareels");
}

export function emulatorKeysFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(emulatorConfigDir(env), KEYS_FILE_NAME);
}

/**
 * Writes the keys, one a line (the first is the ready-to-use one), readable by the owner only.
 * Returns the file's path.
 */
export async function writeKeysFile(keys: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = emulatorConfigDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, KEYS_FILE_NAME);
  await writeFile(file, `${keys.join("\n")}\n`, { mode: 0o600 });
  // writeFile keeps the mode of an existing file: set it explicitly.
  await chmod(file, 0o600);
  return file;
}
