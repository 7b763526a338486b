/**
 * The runtime matrix (issue 14, point 5), part 2: runtimes without Node's APIs. The same script
 * (fixtures/scenario.mjs) bundled with esbuild as their tools do, run in Cloudflare's workerd
 * (through miniflare) and in Vercel's edge runtime VM, against the emulator on 127.0.0.1.
 */
import { beforeAll, describe, it, vi } from "vitest";
import { ensureRuntime } from "./install.js";
import { INSTALL_TIMEOUT, RUN_TIMEOUT, useScenario } from "./scenario.js";

vi.setConfig({ testTimeout: RUN_TIMEOUT + 5_000 });
const { args, run, bundle, expectScenario } = useScenario();

describe("Cloudflare workerd (miniflare)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = (await ensureRuntime("miniflare")).dir;
  }, INSTALL_TIMEOUT);
  it("a module worker bundled for workerd", async () => {
    const worker = await bundle("worker.mjs", "esm", ["workerd", "worker", "browser"]);
    expectScenario(await run([process.execPath, "miniflare-host.mjs", dir, worker, ...args()]), "import");
  });
});

describe("Vercel edge runtime (@edge-runtime/vm)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = (await ensureRuntime("edge")).dir;
  }, INSTALL_TIMEOUT);
  it("a script bundled for the edge (IIFE, browser conditions)", async () => {
    const script = await bundle("edge.mjs", "iife", ["edge-light", "worker", "browser"]);
    expectScenario(await run([process.execPath, "edge-host.mjs", dir, script, ...args()]), "import");
  });
});
