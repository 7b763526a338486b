/**
 * Twenty processes writing different profiles at the same moment leave a valid
 * credentials.json holding all twenty (the lock + atomic write). Runs the compiled store
 * (dist/, built by `npm run build`; npm test builds first).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { cleanEnv, expectNoFullKey, tempConfigDir } from "../helpers/cli.js";
import { assertBuilt, randomKey, runStoreOp } from "../helpers/keyring.js";

let dir: string;
let cleanup: () => void;
beforeAll(() => assertBuilt());
beforeEach(() => {
  ({ dir, cleanup } = tempConfigDir());
});
afterEach(() => cleanup());

it("twenty processes saving different profiles at once leave a valid file with all twenty", async () => {
  const n = 20;
  const go = join(dir, "go");
  const keys = Array.from({ length: n }, () => randomKey());
  let ready = 0;
  let release: () => void = () => {};
  const allReady = new Promise<void>((r) => {
    release = r;
  });
  const runs = keys.map((key, i) =>
    runStoreOp(
      `c.saveCredentials({ profile: "p${i}", key, baseUrl: "https://p${i}.example" }, o)`,
      cleanEnv({
        GIGAREELS_CONFIG_DIR: join(dir, "cfg"),
        GIGAREELS_CREDENTIAL_STORE: "file",
        GR_TEST_KEY: key,
      }),
      {
        waitFor: go,
        onReady: () => {
          if (++ready === n) release();
        },
        timeoutMs: 60_000,
      },
    ),
  );
  await allReady; // every process is loaded and polling: start them together
  writeFileSync(go, "");
  const results = await Promise.all(runs);
  for (const r of results) {
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.result).toMatchObject({ location: "file" });
  }
  const path = join(dir, "cfg", "credentials.json");
  const data = JSON.parse(readFileSync(path, "utf8"));
  expect(data.version).toBe(2);
  expect(Object.keys(data.profiles).sort()).toEqual(Array.from({ length: n }, (_, i) => `p${i}`).sort());
  keys.forEach((key, i) => {
    expect(data.profiles[`p${i}`]).toMatchObject({
      apiKey: key,
      baseUrl: `https://p${i}.example`,
      keyLocation: "file",
    });
  });
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(readdirSync(join(dir, "cfg"))).toEqual(["credentials.json"]); // no temp or lock files left
  expectNoFullKey(results.map((r) => r.stdout + r.stderr).join("\n"), ...keys);
});
