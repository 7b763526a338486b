#!/usr/bin/env node
// `npm run demo [-- FILE]`: the main job on a fresh machine, against the local emulator.
//  1. builds the CLI when dist/ is missing (`npm ci` does not build);
//  2. starts `gigareels emulator --auto-approve` on a free port;
//  3. logs in through the real browser (loopback) flow: BROWSER is a tiny script that follows
//     the authorize URL with fetch; the emulator approves and redirects to the CLI's 127.0.0.1
//     callback, the CLI exchanges the code (PKCE) and stores the key;
//  4. `gigareels render "..." --wait --output FILE`: submits, follows with the spinner (in a
//     terminal), downloads the video;
//  5. prints where the video is, and stops the emulator.
// Everything lives in a private temporary config folder (removed at the end; the key is kept in
// its credentials.json with --insecure-storage, so the OS keychain is never touched). The video
// goes to FILE, default gigareels-demo-XXXX/demo.mp4 in the temporary folder. Exits non-zero
// when a step fails.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin/run.js");
const node = process.execPath;
const PROMPT = "Explain black holes in one minute";

const say = (text) => process.stderr.write(`\n==> ${text}\n`);

class StepError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

// A private environment: no key or profile of the user's leaks in, no real config folder.
const work = mkdtempSync(join(tmpdir(), "gigareels-demo-"));
const configDir = join(work, "config");
const output = process.argv[2] ? resolve(process.argv[2]) : join(work, "demo.mp4");
const env = {};
for (const [k, v] of Object.entries(process.env)) {
  if (k.startsWith("GIGAREELS_") || k === "BROWSER" || k === "DEBUG") continue;
  env[k] = v;
}
env.GIGAREELS_CONFIG_DIR = configDir;

/** Runs the CLI with the terminal's stdio (the spinner shows in a terminal). */
function cli(args, extraEnv = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(node, [bin, ...args], { cwd: root, env: { ...env, ...extraEnv }, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new StepError(
            `gigareels ${args[0]} ${signal ? `was stopped by ${signal}` : `exited with code ${code}`}`,
            code ?? 130,
          ),
        );
    });
  });
}

/** Starts the emulator on a free port; resolves with its URL and the child. */
function startEmulator() {
  const child = spawn(node, [bin, "emulator", "--port", "0", "--auto-approve", "--json"], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolvePromise, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new StepError("the emulator did not start within 30 s")), 30_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new StepError(`the emulator exited with code ${code} before it was ready`));
    });
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      text += chunk;
      try {
        const ready = JSON.parse(text);
        clearTimeout(timer);
        resolvePromise({ child, url: ready.url });
      } catch {
        // not the whole document yet
      }
    });
  });
}

async function stopEmulator(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

// The "browser": follows the authorize URL; the emulator (--auto-approve) redirects to the
// CLI's loopback callback, which answers with its "you may close this page" page.
const BROWSER_SCRIPT = `const url = process.argv[2];
const res = await fetch(url, { redirect: "follow" });
await res.text();
if (!res.ok || !new URL(res.url).pathname.startsWith("/callback")) {
  console.error("demo browser: the login did not reach the CLI's callback (" + res.status + " " + res.url + ")");
  process.exit(1);
}
`;

let emulator;
let interrupted = false;
process.on("SIGINT", () => {
  // The terminal sends Ctrl-C to the children too; they stop, and the finally below cleans up.
  interrupted = true;
});

let exitCode = 0;
try {
  if (!existsSync(join(root, "dist/bundle/cli.cjs")) || !existsSync(join(root, "dist/commands/render"))) {
    say("Building the CLI (npm run build)");
    const r = spawnSync(node, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) throw new StepError("the build failed");
  }

  say("Starting the GigaReels emulator (gigareels emulator --auto-approve)");
  const started = await startEmulator();
  emulator = started.child;
  const baseUrl = started.url;
  process.stderr.write(`Emulator listening on ${baseUrl}\n`);

  say("Logging in through the browser flow (OAuth with PKCE, 127.0.0.1 callback)");
  const browser = join(work, "browser.mjs");
  writeFileSync(browser, BROWSER_SCRIPT);
  await cli(["login", "--web", "--base-url", baseUrl, "--insecure-storage", "--timeout", "60s"], {
    BROWSER: `${node} ${browser}`,
  });

  say(`Rendering "${PROMPT}", following it, downloading the video`);
  await cli(["render", PROMPT, "--wait", "--output", output, "--timeout", "5m"]);

  const head = readFileSync(output).subarray(4, 8).toString("latin1");
  if (head !== "ftyp") throw new StepError(`${output} is not an MP4 file`);
  // Where ffprobe exists, show that the video plays (its duration and video stream).
  const probe = spawnSync(
    "ffprobe",
    [
      "-v",
      "error",
      "-select_streams",
      "v:0",
      "-show_entries",
      "format=duration:stream=codec_name,width,height",
    ].concat(["-of", "default=noprint_wrappers=1", output]),
    { encoding: "utf8" },
  );
  if (probe.error?.code !== "ENOENT") {
    if (probe.status !== 0) throw new StepError(`ffprobe cannot read ${output}: ${probe.stderr.trim()}`);
    const f = Object.fromEntries(
      probe.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("=")),
    );
    process.stderr.write(`ffprobe: ${f.codec_name} ${f.width}x${f.height}, ${Number(f.duration)} s\n`);
  }
  say("Done");
  process.stdout.write(`Your video: ${output} (${statSync(output).size} bytes)\n`);
} catch (err) {
  exitCode = interrupted ? 130 : (err.exitCode ?? 1);
  process.stderr.write(`\nDemo failed: ${interrupted ? "interrupted" : err.message}\n`);
} finally {
  await stopEmulator(emulator);
  rmSync(configDir, { recursive: true, force: true });
  rmSync(join(work, "browser.mjs"), { force: true });
  // Keep the folder only when it holds the video.
  if (!output.startsWith(`${work}/`) || exitCode !== 0) rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);
