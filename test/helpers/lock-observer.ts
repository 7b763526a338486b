import { existsSync } from "node:fs";

/**
 * Watches a lock file between turns of the event loop while `work` runs, and returns how often
 * it was seen taken: 0 means every holder took and released it within one turn.
 */
export async function lockSightingsDuring(lock: string, work: () => Promise<unknown>): Promise<number> {
  let seen = 0;
  let stop = false;
  const watch = (async () => {
    while (!stop) {
      if (existsSync(lock)) seen++;
      await new Promise((r) => setImmediate(r));
    }
  })();
  try {
    await work();
  } finally {
    stop = true;
    await watch;
  }
  return seen;
}
