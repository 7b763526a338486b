/** `gigareels profiles`, `profiles use`, an unknown --profile, and which profile login makes active. */
import { describe, expect, it } from "vitest";
import { expectNoFullKey, runCli, useTempConfig } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator();
const config = useTempConfig();

const cli = (args: string[], opts: { input?: string; env?: Record<string, string | undefined> } = {}) =>
  runCli(args, {
    ...opts,
    env: { GIGAREELS_CONFIG_DIR: config.dir, GIGAREELS_CREDENTIAL_STORE: "file", ...opts.env },
  });

async function loginAs(profile: string) {
  const key = emulator().createKey({ email: `${profile}@example.com` });
  const r = await cli(["login", "--with-token", "--base-url", emulator().url, "--profile", profile], {
    input: key,
  });
  expect(r.code, r.stderr).toBe(0);
  return { key, r };
}

describe("gigareels profiles", () => {
  it("lists the profiles, marks the active one, and profiles use switches it", async () => {
    const a = await loginAs("default");
    const b = await loginAs("staging");
    // not a terminal: login --profile staging does not switch, and says how to
    expect(b.r.stderr).toContain(
      "Profile default is still the active one: use this one with --profile staging, or make it active with gigareels profiles use staging.",
    );
    const host = new URL(emulator().url).host;
    const list = await cli(["profiles"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      `* default  ${host}  giga_****${a.key.slice(-4)}  default@example.com\n  staging  ${host}  giga_****${b.key.slice(-4)}  staging@example.com\n`,
    );
    const use = await cli(["profiles", "use", "staging"]);
    expect(use.code, use.stderr).toBe(0);
    expect(use.stdout).toBe(
      `Active profile is now staging (${host}, staging@example.com, key giga_****${b.key.slice(-4)}).\n`,
    );
    const json = JSON.parse((await cli(["profiles", "--json"])).stdout);
    expect(json.activeProfile).toBe("staging");
    expect(json.profiles.map((p: { name: string; active: boolean }) => [p.name, p.active])).toEqual([
      ["default", false],
      ["staging", true],
    ]);
    const who = await cli(["whoami"]);
    expect(who.stdout).toBe("staging@example.com\n");
    expectNoFullKey(list.stdout + use.stdout + JSON.stringify(json), a.key, b.key);
  });

  it("an unknown name or --profile is a usage error (exit 2) naming the profiles that exist", async () => {
    await loginAs("default");
    await loginAs("ci");
    const path = `${config.dir}/credentials.json`;
    const use = await cli(["profiles", "use", "staging"]);
    expect(use.code).toBe(2);
    expect(use.stderr).toBe(
      `Error: No profile "staging" in ${path} (profiles: ci, default). Run \`gigareels login --profile staging\` to create it.\n`,
    );
    for (const args of [["whoami"], ["status"], ["render", "x"], ["watch", "rnd_1"], ["logout"]]) {
      const r = await cli([...args, "--profile", "defualt"]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`No profile "defualt" in ${path} (profiles: ci, default)`);
    }
    // --json: the same code, as the error document
    const j = await cli(["whoami", "--profile", "defualt", "--json"]);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: "profile_not_found", exitCode: 2 });
    // a key in the environment does not use the profile's key: no error
    const env = await cli(["whoami", "--profile", "defualt", "--base-url", emulator().url], {
      env: { GIGAREELS_API_KEY: emulator().createKey({ email: "env@example.com" }) },
    });
    expect(env.code, env.stderr).toBe(0);
    // login --profile NEW creates it
    expect((await loginAs("new")).r.code).toBe(0);
  });
});
