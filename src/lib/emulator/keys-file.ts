/** Where `gigareels emulator` leaves its ready-to-use key: a 0600 file in the config folder. */
import { homedir } from "node:os";
import { join } from "node:path";
import { ensurePrivateDir, writeFileAtomic } from "../fs/index.js";

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
 * Writes `key` (the ready-to-use one) as the file's only line, readable by the owner only
 * (0600, written atomically), so `gigareels login --local --with-token < FILE` works.
 * Returns the file's path.
 */
export async function writeKeysFile(key: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const dir = emulatorConfigDir(env);
  await ensurePrivateDir(dir);
  const file = join(dir, KEYS_FILE_NAME);
  await writeFileAtomic(file, `${key}\n`, { mode: 0o600 });
  return file;
}
