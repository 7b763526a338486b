/**
 * Where the credential store's reports (a mode it tightened, a file it kept aside or migrated)
 * go when the caller gave no `onWarning`. The library never writes to stderr itself: the CLI
 * sets its warning line here once per command (BaseCommand.init), so the first reader's
 * report (`status --offline`, a lenient profile look-up) is still shown; in an SDK user's
 * process nothing is set and the report goes only to an `onWarning` they pass.
 */
let sink: ((message: string) => void) | undefined;

export function setCredentialsWarningSink(next: ((message: string) => void) | undefined): void {
  sink = next;
}

/** `onWarning` when given, else the sink (if any). */
export function reportCredentialsWarning(
  onWarning: ((message: string) => void) | undefined,
  message: string,
): void {
  if (onWarning) onWarning(message);
  else sink?.(message);
}
