/**
 * A full or read-only disk while saving credentials (issue 16, point 4), through the built
 * `gigareels` on a real tmpfs: one line naming the file and the fix, exit 1, no lock file left
 * behind, and the next login works at once once there is space. Mounting needs root (CI runs
 * as root); elsewhere the tests are skipped and say why.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { useEmulator } from "../helpers/emulator.js";

const emulator = useEmulator();

/** Mounts a tmpfs of `size` on a fresh folder; null when mounting is not permitted here. */
function mountTmpfs(options: string): string | null {
  const dir = mkdtempSync(join(tmpdir(), "gigareels-disk-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  return dir;
}
const canMount = (() => {
  const dir = mountTmpfs("size=16k");
  if (!dir) return false;
  spawnSync("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
  return true;
})();
const why = "mount -t tmpfs is not permitted here (not root); CI runs these as root";

let mounted: string | undefined;
beforeEach(() => {
  mounted = undefined;
});
afterEach(() => {
  if (!mounted) return;
  spawnSync("umount", ["-l", mounted]);
  rmSync(mounted, { recursive: true, force: true });
});

const login = (dir: string) =>
  runCli(["login", "--with-token", "--base-url", emulator().url], {
    input: `${emulator().keys[0]}\n`,
    env: { GIGAREELS_CONFIG_DIR: join(dir, "cfg"), GIGAREELS_CREDENTIAL_STORE: "file" },
  });

describe.skipIf(!canMount)(`a full disk (${canMount ? "tmpfs" : why})`, () => {
  it("ENOSPC: one line naming credentials.json and the fix, exit 1, no lock left; the next login works at once", async () => {
    mounted = mountTmpfs("size=64k")!;
    // Leave room for the folder, not for the file's bytes.
    const filler = join(mounted, "filler");
    spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k", "count=1000"]);
    spawnSync("mkdir", ["-m", "700", join(mounted, "cfg")]);
    const r = await login(mounted);
    const path = join(mounted, "cfg", "credentials.json");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      `Error: Cannot write ${path}: the disk is full (ENOSPC). Free some space on that disk and run the command again, or set GIGAREELS_CONFIG_DIR to a folder on another disk.\n`,
    );
    // Neither an empty lock file nor a temporary file is left behind.
    expect(readdirSync(join(mounted, "cfg"))).toEqual([]);

    rmSync(filler);
    const started = Date.now();
    const again = await login(mounted);
    expect(again.code, again.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("an empty lock file left by an older failed write does not block the next login for 30 s", async () => {
    mounted = mountTmpfs("size=1m")!;
    spawnSync("mkdir", ["-m", "700", join(mounted, "cfg")]);
    writeFileSync(join(mounted, "cfg", "credentials.json.lock"), "");
    const started = Date.now();
    const r = await login(mounted);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("EROFS: a read-only file system is one line with the fix, exit 1", async () => {
    mounted = mountTmpfs("size=64k,mode=700")!;
    spawnSync("mount", ["-o", "remount,ro", mounted]);
    const r = await runCli(["login", "--with-token", "--base-url", emulator().url], {
      input: `${emulator().keys[0]}\n`,
      env: { GIGAREELS_CONFIG_DIR: mounted, GIGAREELS_CREDENTIAL_STORE: "file" },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^Error: Cannot write ${mounted}.*: the file system is read-only \\(EROFS\\)\\. Set GIGAREELS_CONFIG_DIR to a writable folder, or pass the key in GIGAREELS_API_KEY instead of storing it\\.\\n$`,
      ),
    );
  });
});
