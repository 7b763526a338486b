/**
 * The runtime matrix (issue 14, point 5), part 1: Node 20 (this one), 22 and 24, Bun and Deno run
 * the same script (fixtures/scenario.mjs) against the emulator over real HTTP on 127.0.0.1,
 * with the package installed from its tarball (install.ts), through `import` and `require`.
 * It creates a render with an Idempotency-Key (twice: the same render comes back), follows it to
 * `done`, reads `me`, and checks that a 401 and a 404 are AuthenticationError and NotFoundError
 * (both GigaReelsError) with the status in the message. Runtimes come from npm into
 * .cache/runtimes (once; versions pinned in install.ts). Workers and Edge: web.test.ts.
 */
import { beforeAll, describe, it, vi } from "vitest";
import { ensureRuntime, NODE_PACKAGE_PLATFORMS, type RuntimeName } from "./install.js";
import { INSTALL_TIMEOUT, RUN_TIMEOUT, useScenario } from "./scenario.js";

vi.setConfig({ testTimeout: RUN_TIMEOUT + 5_000 });
const { args, run, expectScenario } = useScenario();

describe("Node 20 (this Node)", () => {
  it("import", async () => {
    expectScenario(await run([process.execPath, "run.mjs", ...args()]), "import");
  });
  it("require", async () => {
    expectScenario(await run([process.execPath, "run.cjs", ...args()]), "require");
  });
});

const nodeOnNpm = NODE_PACKAGE_PLATFORMS.includes(`${process.platform}-${process.arch}`);
for (const name of ["node22", "node24"] as const satisfies RuntimeName[]) {
  // Skipped (with the reason in its name) only where npm has no official Node build.
  describe.skipIf(!nodeOnNpm)(
    `${name === "node22" ? "Node 22" : "Node 24"}${nodeOnNpm ? "" : ` (no node-${process.platform}-${process.arch} package on npm)`}`,
    () => {
      let bin: string;
      beforeAll(async () => {
        bin = (await ensureRuntime(name)).bin;
      }, INSTALL_TIMEOUT);
      it("import", async () => {
        expectScenario(await run([bin, "run.mjs", ...args()]), "import");
      });
      it("require", async () => {
        expectScenario(await run([bin, "run.cjs", ...args()]), "require");
      });
    },
  );
}

describe("Bun", () => {
  let bin: string;
  beforeAll(async () => {
    bin = (await ensureRuntime("bun")).bin;
  }, INSTALL_TIMEOUT);
  it("import", async () => {
    expectScenario(await run([bin, "run.mjs", ...args()]), "import");
  });
  it("require", async () => {
    expectScenario(await run([bin, "run.cjs", ...args()]), "require");
  });
});

describe("Deno", () => {
  let bin: string;
  beforeAll(async () => {
    bin = (await ensureRuntime("deno")).bin;
  }, INSTALL_TIMEOUT);
  it("import (npm package from node_modules)", async () => {
    expectScenario(
      await run([bin, "run", "-A", "--node-modules-dir=manual", "run.mjs", ...args()]),
      "import",
    );
  });
});
