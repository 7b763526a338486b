/**
 * The one exit-code table (../shared/reference/cli-conventions.md). Every error of ours
 * carries a stable `code`; this table turns it into the process exit code, the same with
 * and without `--json`.
 */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_AUTHENTICATED: 4,
  UNREACHABLE: 5,
  RENDER_FAILED: 6,
  TIMEOUT: 7,
  INTERRUPTED: 130,
  /** SIGTERM: the same clean stop as Ctrl-C, reported as a shell reports a process it ended (128 + 15). */
  TERMINATED: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Error code -> exit code. Codes not listed exit 1. */
const BY_CODE: Record<string, ExitCodeValue> = {
  // failure (listed to document the choice: login refuses to store while GIGAREELS_API_KEY is set, as gh does)
  api_key_env_set: ExitCode.FAILURE,
  // usage
  usage: ExitCode.USAGE,
  bad_request: ExitCode.USAGE,
  invalid_base_url: ExitCode.USAGE,
  port_in_use: ExitCode.USAGE,
  no_terminal: ExitCode.USAGE,
  batch_input: ExitCode.USAGE,
  // not authenticated
  missing_api_key: ExitCode.NOT_AUTHENTICATED,
  invalid_api_key: ExitCode.NOT_AUTHENTICATED,
  authentication_error: ExitCode.NOT_AUTHENTICATED,
  permission_denied: ExitCode.NOT_AUTHENTICATED,
  login_denied: ExitCode.NOT_AUTHENTICATED,
  login_expired: ExitCode.NOT_AUTHENTICATED,
  token_exchange_failed: ExitCode.NOT_AUTHENTICATED,
  login_failed: ExitCode.NOT_AUTHENTICATED,
  // unreachable
  connection_error: ExitCode.UNREACHABLE,
  timeout: ExitCode.UNREACHABLE,
  server_error: ExitCode.UNREACHABLE,
  outage: ExitCode.UNREACHABLE,
  malformed_response: ExitCode.UNREACHABLE,
  cross_origin_redirect: ExitCode.UNREACHABLE,
  download_failed: ExitCode.UNREACHABLE,
  download_stalled: ExitCode.UNREACHABLE,
  download_not_video: ExitCode.UNREACHABLE,
  download_unsupported_url: ExitCode.UNREACHABLE,
  length_mismatch: ExitCode.UNREACHABLE,
  // a local write error while downloading (disk full, read-only, permission): the network was fine
  download_write_failed: ExitCode.FAILURE,
  // render
  render_failed: ExitCode.RENDER_FAILED,
  // time limit
  deadline_exceeded: ExitCode.TIMEOUT,
  login_timeout: ExitCode.TIMEOUT,
  // interrupted
  aborted: ExitCode.INTERRUPTED,
  // credential store (src/lib/credentials, src/lib/fs)
  invalid_profile: ExitCode.USAGE,
  profile_not_found: ExitCode.USAGE,
  invalid_credential_store: ExitCode.USAGE,
  invalid_key_format: ExitCode.USAGE,
  api_key_file_unreadable: ExitCode.NOT_AUTHENTICATED,
  credentials_corrupt: ExitCode.FAILURE,
  credentials_unsupported_version: ExitCode.FAILURE,
  credentials_symlink: ExitCode.FAILURE,
  credentials_unreadable: ExitCode.FAILURE,
  credentials_unwritable: ExitCode.FAILURE,
  keychain_unavailable: ExitCode.FAILURE,
  lock_timeout: ExitCode.FAILURE,
  // listed to document the choice: proxies refuse or fail (src/lib/net); a bug of ours
  proxy_error: ExitCode.FAILURE,
  bug: ExitCode.FAILURE,
  // batch renders (src/lib/sdk/batch): an unusable state file; another process runs the batch
  batch_state: ExitCode.FAILURE,
  batch_busy: ExitCode.FAILURE,
};

/** True for the errors we raise on purpose (a code in the table) and oclif's own (parse errors). */
export function isExpectedError(err: unknown): boolean {
  const e = (err ?? {}) as OclifLikeError;
  return (typeof e.code === "string" && e.code in BY_CODE) || e.oclif !== undefined;
}

interface OclifLikeError {
  code?: unknown;
  exitCode?: unknown;
  oclif?: { exit?: unknown };
}

/** The exit code for any thrown value: our codes first, then oclif's own (parse errors exit 2). */
export function exitCodeFor(err: unknown): number {
  const e = (err ?? {}) as OclifLikeError;
  if (typeof e.code === "string" && e.code in BY_CODE) return BY_CODE[e.code]!;
  if (typeof e.oclif?.exit === "number") return e.oclif.exit;
  if (typeof e.exitCode === "number") return e.exitCode;
  return ExitCode.FAILURE;
}

/** A stable machine-readable code for the JSON error document. */
export function errorCodeFor(err: unknown): string {
  const e = (err ?? {}) as OclifLikeError;
  if (typeof e.code === "string") return e.code;
  if (typeof e.oclif?.exit === "number" && e.oclif.exit === ExitCode.USAGE) return "usage";
  return "error";
}
