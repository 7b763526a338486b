/**
 * Issue 16, points 1 and 2, through the built `gigareels` against a hostile server that echoes
 * the key (and a foreign one) in every field and header and puts terminal escape sequences in
 * the text people see:
 * - 0 full keys in any command's stdout or stderr, human and --json, with the debug log on;
 * - no escape sequence from the server reaches a person (made visible as `^[[2J`...), while
 *   --json keeps every value exactly.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forPeople, jsonText } from "../../src/lib/cli/output.js";
import { expectNoFullKey, ROOT, runCli, useTempConfig } from "../helpers/cli.js";
import { type HostileServer, hostileServer, NASTY } from "../helpers/hostile-server.js";
import { hasScript, inTerminal } from "../helpers/terminal.js";

const config = useTempConfig();
const KEY = "giga_AbCdEfGhIjKlMnOpQrStUvWxYz012345";
let server: HostileServer;

beforeAll(async () => {
  server = await hostileServer();
});
afterAll(async () => {
  await server.stop();
});

/** Every command that reads an answer, as a person and as a script would run it. */
const COMMANDS: { args: string[]; input?: string; stored?: boolean }[] = [
  { args: ["whoami"] },
  { args: ["status"] },
  { args: ["status", "--all"] },
  { args: ["doctor"] },
  { args: ["api", "/api/me"] },
  { args: ["api", "/api/me", "--include"] },
  { args: ["api", "POST", "/api/render", "-F", "prompt=x"] },
  { args: ["api", "/api/unknown"] },
  { args: ["watch", "rnd_hostile"] },
  {
    args: [
      "render",
      "--prompt",
      "x",
      "--type",
      "educational-brainrot",
      "--character-pack",
      "rick-and-morty",
      "--background-video-pack",
      "minecraft-parkour",
    ],
  },
  { args: ["render", "text", "--video-url", "https://e.com/v.mp4", "--text", "hi@1,1", "--wait"] },
  { args: ["render", "split", "--video-url", "https://e.com/v.mp4", "--position", "left", "--wait"] },
  { args: ["login", "--with-token"], input: `${KEY}\n`, stored: true },
  { args: ["status", "--offline"], stored: true },
  { args: ["logout"], stored: true },
  { args: ["login", "--device", "--no-browser"], stored: true },
];

async function run(args: string[], json: boolean, input?: string, stored = false) {
  const env: Record<string, string> = {
    GIGAREELS_CONFIG_DIR: config.dir,
    GIGAREELS_CREDENTIAL_STORE: "file",
    DEBUG: json ? "" : "gigareels*",
  };
  if (!stored) env.GIGAREELS_API_KEY = KEY;
  return runCli([...args, "--base-url", server.url, ...(json ? ["--json"] : [])], { env, input });
}

describe("a server that echoes the key", () => {
  it("0 full keys in every command's output, human (with DEBUG) and --json", async () => {
    for (const json of [false, true]) {
      // The stored-key commands run in order: login stores, status --offline reads, logout removes.
      for (const c of COMMANDS) {
        const r = await run(c.args, json, c.input, c.stored);
        const label = `${c.args.join(" ")}${json ? " --json" : ""} (exit ${r.code})`;
        expect(r.code, `${label}: ${r.stderr}`).not.toBeNull();
        expect(`${r.stdout}${r.stderr}`.length, label).toBeGreaterThan(0);
        try {
          expectNoFullKey(r.stdout, KEY, server.foreignKey);
          expectNoFullKey(r.stderr, KEY, server.foreignKey);
        } catch (err) {
          throw new Error(`${label}: ${(err as Error).message}\n${r.stdout}\n${r.stderr}`);
        }
      }
    }
  }, 180_000);

  it("api --json shows the response headers masked, as --include does", async () => {
    const r = await run(["api", "/api/me"], true);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.headers["x-echo-key"]).toBe("giga_****2345");
    expect(doc.headers["x-foreign-key"]).toBe("giga_****f0r3");
    expect(doc.headers["set-cookie"]).toBe("session=giga_****2345");
  });

  it("whoami --json, status --json and doctor mask a key that is in a response field", async () => {
    const who = JSON.parse((await run(["whoami"], true)).stdout);
    expect(who.email).toBe("giga_****2345@example.com");
    expect(who.key.id).toBe("giga_****2345");
    const st = await run(["status"], true);
    expect(st.stdout).toContain("giga_****2345@example.com");
    const doc = await run(["doctor"], false);
    expect(doc.stdout).toContain("giga_****2345");
  });
});

describe("escape sequences from the server", () => {
  const RAW = /\u001b\[2J|\u001b\]0;|\u0007|\r|\u009b/;

  it("are made visible for people and kept exactly under --json", async () => {
    const human = await run(["watch", "rnd_hostile"], false);
    expect(human.code).toBe(6);
    expect(human.stderr).not.toMatch(RAW);
    expect(human.stderr).toContain("^[[2J^[]0;pwned^G^Mfake<U+009B>31m");

    const status = await run(["status"], false);
    expect(status.stdout).not.toMatch(RAW);
    expect(status.stdout).toContain("Eve giga_****2345^[[2J");

    // Piped on, a body is for a program: as received (keys masked), C1 and all.
    const body = await run(["api", "/api/unknown"], false);
    expect(body.stdout).toContain("\u009b31m");

    const json = await run(["watch", "rnd_hostile"], true);
    expect(json.stdout).not.toMatch(RAW);
    const events = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const error = events.find((e) => e.type === "error");
    expect(error.message).toBe(`render failed for giga_****2345 and giga_****f0r3${NASTY}`);

    const who = JSON.parse((await run(["whoami"], true)).stdout);
    expect(who.name).toBe(`Eve giga_****2345${NASTY}`);
  });

  it.skipIf(!hasScript)(
    "a terminal (spinner, colour) never receives ESC[2J or an OSC title",
    async () => {
      const env = {
        GIGAREELS_CONFIG_DIR: config.dir,
        GIGAREELS_CREDENTIAL_STORE: "file",
        GIGAREELS_API_KEY: KEY,
        NO_COLOR: undefined,
      };
      for (const args of [["watch", "rnd_hostile"], ["status"], ["api", "/api/unknown"]]) {
        const r = await inTerminal([...args, "--base-url", server.url], [], { env, columns: 200 });
        expect(r.screen).not.toContain("\u001b[2J");
        expect(r.screen).not.toContain("\u001b]0;");
        expect(r.screen).not.toContain("\u009b");
        // the status line and the error message made visible; the api body is JSON-escaped
        expect(r.screen).toMatch(args[0] === "api" ? /\\u001b\[2J.*<U\+009B>/ : /\^\[\[2J/);
        expectNoFullKey(r.screen, KEY, server.foreignKey);
      }
    },
    60_000,
  );

  it("forPeople keeps only the CLI's colours, and only where colour is on; jsonText escapes C1 and DEL", () => {
    expect(forPeople("a\u001b[31mred\u001b[39m\u001b[2J", true)).toBe("a\u001b[31mred\u001b[39m^[[2J");
    expect(forPeople("a\u001b[31mred", false)).toBe("a^[[31mred");
    expect(forPeople("tab\tand\nnewline\r\u007f\u0085")).toBe("tab\tand\nnewline^M^?<U+0085>");
    const value = { s: "x\u001b\u007f\u009b\u2028" };
    expect(JSON.parse(jsonText(value))).toEqual(value);
    expect(jsonText(value)).toBe('{"s":"x\\u001b\\u007f\\u009b\u2028"}');
  });
});

describe("one way out", () => {
  it("nothing in src/commands or src/lib/cli writes to process.stdout/stderr except output.ts", () => {
    const allowed = new Set([
      "src/lib/cli/output.ts",
      // the bundled binary's hook context: oclif's own `log` for plugin hooks (plain text)
      "src/lib/cli/bundle/run-oclif.ts",
    ]);
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) walk(rel);
        else if (rel.endsWith(".ts") && !allowed.has(rel)) {
          const text = readFileSync(join(ROOT, rel), "utf8");
          if (/process\.(stdout|stderr)\.write|console\.(log|error|warn|info)\(/.test(text))
            offenders.push(rel);
        }
      }
    };
    walk("src/commands");
    walk("src/lib/cli");
    expect(offenders).toEqual([]);
  });
});
