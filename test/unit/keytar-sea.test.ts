/**
 * The standalone binary's keychain module (issue 16, point 8 of the review): extracted into the
 * per-user cache folder (0700), TMPDIR only when that fails, saying which. Runs the real
 * keytar.node through the same function the binary uses (building the binary is slow; its
 * e2e test covers the asset itself). A TMPDIR mounted noexec (the reported case) needs root
 * for the mount; elsewhere that test is skipped and says why.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadNativeModule } from "../../src/lib/cli/bundle/keytar-sea.js";
import { cacheDir } from "../../src/lib/fs/index.js";
import { ROOT } from "../helpers/cli.js";
import { skipWithoutKeytar } from "../helpers/keyring.js";

const keytarNode = join(ROOT, "node_modules/keytar/build/Release/keytar.node");
// Skipped (saying why) where keytar is not built; in CI they run, and fail without it.
const hasKeytar = !skipWithoutKeytar("the binary's keytar loader tests (they load the real keytar.node)");

let base: string;
let noexec: string | undefined;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "gigareels-keytar-test-"));
});
afterEach(() => {
  if (noexec) spawnSync("umount", ["-l", noexec]);
  noexec = undefined;
  rmSync(base, { recursive: true, force: true });
});

/** A tmpfs mounted noexec, or null where mounting is not permitted. */
function mountNoexec(): string | null {
  const dir = join(base, "noexec-tmp");
  spawnSync("mkdir", [dir]);
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m,noexec", "tmpfs", dir]);
  return r.status === 0 ? dir : null;
}
const canMount = (() => {
  const dir = mkdtempSync(join(tmpdir(), "gigareels-mount-probe-"));
  const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", dir]).status === 0;
  if (ok) spawnSync("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
  return ok;
})();

describe("the binary's keychain module", () => {
  it("the cache folder follows GIGAREELS_CACHE_DIR, as the V8 code cache does", () => {
    expect(cacheDir({ GIGAREELS_CACHE_DIR: "/x/cache" })).toBe("/x/cache");
    if (process.platform === "linux") expect(cacheDir({ XDG_CACHE_HOME: "/x/xdg" })).toBe("/x/xdg/gigareels");
  });

  it.runIf(hasKeytar)(
    "is extracted into the cache folder (made 0700), not TMPDIR, and nothing is left",
    () => {
      const cache = join(base, "cache");
      const tmp = join(base, "tmp-unused");
      const notes: string[] = [];
      const native = loadNativeModule(readFileSync(keytarNode), {
        cacheDir: cache,
        tmpDir: tmp,
        onFallback: (m) => notes.push(m),
      });
      expect(typeof native.getPassword).toBe("function");
      expect(notes).toEqual([]);
      expect(existsSync(tmp)).toBe(false);
      expect(statSync(join(cache, "native")).mode & 0o777).toBe(0o700);
      expect(readdirSync(join(cache, "native"))).toEqual([]);
    },
  );

  it.runIf(hasKeytar && canMount)("works where TMPDIR is mounted noexec (the reported failure)", () => {
    noexec = mountNoexec()!;
    const bytes = readFileSync(keytarNode);
    const loaded = loadNativeModule(bytes, { cacheDir: join(base, "cache"), tmpDir: noexec });
    expect(typeof loaded.getPassword).toBe("function");
    // and TMPDIR alone would have failed
    writeFileSync(join(base, "a-file"), "");
    expect(() =>
      loadNativeModule(bytes, { cacheDir: join(base, "a-file", "cache"), tmpDir: noexec }),
    ).toThrow(/nor from TMPDIR/);
  });

  it.runIf(hasKeytar)("falls back to TMPDIR when the cache folder cannot be used, and says which", () => {
    writeFileSync(join(base, "a-file"), "");
    const notes: string[] = [];
    const tmp = join(base, "tmp");
    spawnSync("mkdir", [tmp]);
    const native = loadNativeModule(readFileSync(keytarNode), {
      cacheDir: join(base, "a-file", "cache"),
      tmpDir: tmp,
      onFallback: (m) => notes.push(m),
    });
    expect(typeof native.getPassword).toBe("function");
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /loaded from TMPDIR \(.*\/tmp\) because the cache folder .*a-file\/cache\/native could not be used \(ENOTDIR\)/,
    );
  });

  it("when both fail, the error names both places and why", () => {
    writeFileSync(join(base, "a-file"), "");
    const err = (() => {
      try {
        loadNativeModule(Buffer.from("not an ELF"), {
          cacheDir: join(base, "a-file"),
          tmpDir: join(base, "missing"),
        });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(
      /could not be loaded from the cache folder .*a-file\/native \(ENOTDIR\) nor from TMPDIR .*missing \(ENOENT\)/,
    );
  });
});
