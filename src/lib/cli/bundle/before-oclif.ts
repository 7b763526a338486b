/**
 * Evaluated by the CLI bundle before @oclif/core (scripts/bundle.mjs imports it first). When
 * loaded, oclif's index.js checks this Node against the `engines` of its own package.json,
 * which it requires from a path relative to its file: inside the bundle (and the binary) no such
 * file exists, so the check can only fail silently, after loading semver (a few milliseconds).
 * OCLIF_DISABLE_ENGINE_WARNING, oclif's switch for that check, is set while the bundle loads;
 * `restoreEngineWarningSetting()` puts the user's value back before any command runs.
 */
const ENGINE_SWITCH = "OCLIF_DISABLE_ENGINE_WARNING";
const previous = process.env[ENGINE_SWITCH];
process.env[ENGINE_SWITCH] = "1";

export function restoreEngineWarningSetting(): void {
  if (previous === undefined) delete process.env[ENGINE_SWITCH];
  else process.env[ENGINE_SWITCH] = previous;
}
