/**
 * What the CLI bundle gives @oclif/core's util/fs.js in place of node:fs/promises
 * (scripts/bundle.mjs aliases it for that file only). oclif reads the user's theme.json there at
 * every start-up (and stats files for `Flags.file`/`Flags.directory`); node:fs/promises costs
 * about 2 ms to load and its first call starts libuv's thread pool. These two are the same calls
 * made with the synchronous API, for files of a few bytes: same results, same errors.
 */
import { readFileSync, statSync } from "node:fs";

export async function readFile(path: string, encoding: BufferEncoding): Promise<string> {
  return readFileSync(path, encoding);
}

export async function stat(path: string) {
  return statSync(path);
}
