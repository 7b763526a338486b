/** A bad flag, argument or input value (exit 2). The message names the flag and the fix. */
export class UsageError extends Error {
  readonly code = "usage";
  suggestions: string[];
  constructor(message: string, suggestions: string[] = []) {
    super(message);
    this.name = "UsageError";
    this.suggestions = suggestions;
  }
}
