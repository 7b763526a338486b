/**
 * The doctor's keychain check, with keytar stand-ins for the failures a real keyring shows
 * (a locked keyring's error, a crash of the helper, a call that never returns). The real
 * keychain is driven in test/integration/doctor.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { KeytarLike } from "../../src/lib/credentials/keychain.js";
import type { ResolvedKey } from "../../src/lib/credentials/types.js";
import { checkWithExitCode } from "../../src/lib/cli/report-codes.js";
import { checkKeychain as check, keychainMissingAdvice } from "../../src/lib/doctor/local.js";

/** The keychain check with the exit code the CLI gives a failure. */
const checkKeychain = async (o: Parameters<typeof check>[0]) => checkWithExitCode(await check(o));

const failing = (make: () => Promise<never>): KeytarLike => ({
  getPassword: make,
  setPassword: make,
  deletePassword: make,
  findCredentials: make,
});
const env = { GIGAREELS_CONFIG_DIR: "/nonexistent-gigareels-doctor-test" };
const fromKeychain = {
  key: "k",
  raw: "k",
  source: "keychain",
  origin: "x",
  profile: "default",
} as ResolvedKey;
const fromEnv = {
  key: "k",
  raw: "k",
  source: "env",
  origin: "GIGAREELS_API_KEY",
  profile: "default",
} as ResolvedKey;

describe("doctor: keychain", () => {
  it("available: the number of gigareels items, never a secret", async () => {
    const keytar: KeytarLike = {
      ...failing(() => Promise.reject(new Error("unused"))),
      findCredentials: async () => [
        { account: "default", password: "giga_secret" },
        { account: "ci", password: "giga_secret" },
      ],
    };
    const c = await checkKeychain({ env, found: fromEnv, keytar });
    expect(c).toEqual({
      id: "keychain",
      title: "OS keychain",
      status: "pass",
      detail: "Available (2 gigareels items)",
      data: { items: 2 },
    });
  });

  it("locked: said so, with the unlock fix; a failure only when the key in use lives there", async () => {
    const keytar = failing(() => Promise.reject(new Error("Cannot get secret of a locked object")));
    const used = await checkKeychain({ env, found: fromKeychain, keytar });
    expect(used).toMatchObject({ status: "fail", exitCode: 1 });
    expect(used.detail).toBe(
      "The keyring is locked (the keychain listing failed: Cannot get secret of a locked object)",
    );
    expect(used.fix).toMatch(/^Unlock it /);
    const unused = await checkKeychain({ env, found: fromEnv, keytar });
    expect(unused).toMatchObject({ status: "warn" });
    expect(unused.exitCode).toBeUndefined();
    expect(unused.detail).toMatch(/; keys are kept in credentials\.json$/);
  });

  it("a helper that crashes (libsecret without a prompt for a locked keyring) reads as probably locked", async () => {
    const keytar = failing(() =>
      Promise.reject(new Error("the keychain helper process was killed (SIGSEGV)")),
    );
    const c = await checkKeychain({ env, found: fromKeychain, keytar });
    expect(c.detail).toMatch(
      /crashed .*: the keyring is probably locked and could not ask for its password$/,
    );
  });

  it("no answer within the timeout: 'did not answer', locked or stuck", async () => {
    const keytar = failing(() => new Promise<never>(() => {}));
    const c = await checkKeychain({ env, found: fromKeychain, keytar, keychainTimeoutMs: 50 });
    expect(c).toMatchObject({ status: "fail", exitCode: 1 });
    expect(c.detail).toBe(
      "Did not answer (the keychain listing did not answer within 50 ms): the keyring may be locked and waiting for a password, or D-Bus is stuck",
    );
  });

  it("GIGAREELS_CREDENTIAL_STORE=file: not used, skipped; =keychain: required", async () => {
    const keytar = failing(() => Promise.reject(new Error("Cannot autolaunch D-Bus without X11 $DISPLAY")));
    expect(
      await checkKeychain({ env: { ...env, GIGAREELS_CREDENTIAL_STORE: "file" }, found: fromEnv, keytar }),
    ).toMatchObject({ status: "skip" });
    const strict = await checkKeychain({
      env: { ...env, GIGAREELS_CREDENTIAL_STORE: "keychain" },
      found: fromEnv,
      keytar,
    });
    expect(strict).toMatchObject({
      status: "fail",
      detail: "Not available (the keychain listing failed: Cannot autolaunch D-Bus without X11 $DISPLAY)",
    });
  });
});

describe("doctor: keychain module missing, advice per install method", () => {
  it("npm: reinstall with optional dependencies", () => {
    const a = keychainMissingAdvice("Cannot find module 'keytar'", "npm");
    expect(a.fix).toMatch(
      /^Reinstall with its optional dependencies \(npm install --global @gigareels\/sdk --include=optional/,
    );
  });

  it("a standalone binary (or Homebrew, .deb): never npm's advice; the system library and a release build", () => {
    for (const method of ["binary", "homebrew", "deb"] as const) {
      const a = keychainMissingAdvice("libsecret-1.so.0: cannot open shared object file", method);
      expect(a.fix).not.toMatch(/optional dependencies|npm/);
      expect(a.detail).toContain("the keychain module inside the");
      expect(a.fix).toContain("https://github.com/");
      expect(a.fix).toContain("gigareels login --insecure-storage");
      if (process.platform === "linux") expect(a.fix).toMatch(/^Install libsecret/);
    }
  });
});
