/**
 * The update notice (issue 18) against a registry stub on 127.0.0.1 (GIGAREELS_UPDATE_REGISTRY):
 * the built CLI in a pseudo-terminal checks in the background (the command does not wait for the
 * registry), prints the notice with the upgrade command on a later run, at most once a day, and
 * never when piped, in CI, with --json or with GIGAREELS_NO_UPDATE_NOTIFIER.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, useTempConfig } from "../helpers/cli.js";
import { hasScript, inTerminal } from "../helpers/terminal.js";

const NOTICE = "A new release of gigareels is available";

describe.runIf(hasScript)("update notice", () => {
  const requests: string[] = [];
  const held: ServerResponse[] = [];
  let hold = false;
  let latest = "9.9.9";
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const answer = () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ name: "@gigareels/sdk", version: latest }));
    };
    if (hold) held.push(res);
    else answer();
  });
  let registry = "";
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    for (const res of held) res.destroy();
    server.close();
  });
  const config = useTempConfig();
  // No CI variable of the machine running the tests (the CI case below sets its own).
  const ciVars = ["CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "RUN_ID", "GITHUB_ACTIONS", "TF_BUILD"];
  const env = () => ({
    ...Object.fromEntries(ciVars.map((k) => [k, undefined])),
    GIGAREELS_CONFIG_DIR: config.dir,
    GIGAREELS_UPDATE_REGISTRY: registry,
  });
  const stateFile = () => join(config.dir, "update-check.json");
  const until = async (what: () => boolean, ms = 15_000) => {
    const end = Date.now() + ms;
    while (!what()) {
      if (Date.now() > end) throw new Error("timed out waiting");
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const freshState = (s: object) =>
    writeFileSync(stateFile(), JSON.stringify({ checkedAt: Date.now(), ...s }));

  it("checks in the background without delaying the command, then names the upgrade command once a day", async () => {
    requests.length = 0;
    hold = true;
    const first = await inTerminal(["version"], [], { env: env() });
    expect(first.code).toBe(0);
    expect(first.screen).toContain("gigareels ");
    expect(first.screen).not.toContain(NOTICE);
    // The command has exited; the registry has not answered yet (it holds every request): the
    // check runs in a process of its own.
    await until(() => requests.length === 1);
    expect(requests[0]).toBe("/@gigareels%2fsdk/latest");
    expect(held.length).toBe(1);
    hold = false;
    latest = "9.9.9";
    const res = held.shift()!;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ version: latest }));
    await until(() => existsSync(stateFile()) && readFileSync(stateFile(), "utf8").includes("9.9.9"));

    const second = await inTerminal(["version"], [], { env: env() });
    expect(second.code).toBe(0);
    expect(second.screen).toContain(`${NOTICE}: `);
    expect(second.screen).toContain("→ 9.9.9");
    expect(second.screen).toContain("To upgrade: npm install --global @gigareels/sdk@latest");

    const third = await inTerminal(["version"], [], { env: env() });
    expect(third.code).toBe(0);
    expect(third.screen).not.toContain(NOTICE);
    // Checked today already: no second request.
    expect(requests.length).toBe(1);
  }, 60_000);

  it("says nothing and asks nothing when piped, in CI, with --json or GIGAREELS_NO_UPDATE_NOTIFIER", async () => {
    requests.length = 0;
    // A known newer release, and a check that is due: only the conditions stop the notice.
    writeFileSync(stateFile(), JSON.stringify({ checkedAt: 0, latest: "9.9.9" }));
    const piped = await runCli(["version"], { env: env() });
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe("");
    const cases: Array<[string[], Record<string, string>]> = [
      [["version"], { CI: "true" }],
      [["version", "--json"], {}],
      [["version"], { GIGAREELS_NO_UPDATE_NOTIFIER: "1" }],
    ];
    for (const [args, extra] of cases) {
      const r = await inTerminal(args, [], { env: { ...env(), ...extra } });
      expect(r.code).toBe(0);
      expect(r.screen, `${args.join(" ")} ${JSON.stringify(extra)}`).not.toContain(NOTICE);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(requests).toEqual([]);
    expect(JSON.parse(readFileSync(stateFile(), "utf8"))).toEqual({ checkedAt: 0, latest: "9.9.9" });
  }, 60_000);

  it("in a terminal, a newer release already known is announced after the command's output", async () => {
    freshState({ latest: "9.9.9" });
    const r = await inTerminal(["--version"], [], { env: env() });
    expect(r.code).toBe(0);
    expect(r.screen.indexOf("gigareels 0.")).toBeLessThan(r.screen.indexOf(NOTICE));
  });
});
