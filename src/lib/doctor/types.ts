/** What `gigareels doctor` reports (also its --json output). */

export type CheckId =
  | "key"
  | "credentials"
  | "keychain"
  | "dns"
  | "tcp"
  | "tls"
  | "proxy"
  | "api"
  | "clock"
  | "login-port";

/** pass; warn (worth knowing, not a failure); fail; skip (not applicable, or an earlier check failed). */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface Check {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** One line: what was found. Never a key; a proxy's password is masked. */
  detail: string;
  /** For warn and fail: what to do. */
  fix?: string;
  /** For fail: the error code of its area ("connection_error", ...); the CLI maps it to the exit code. */
  code?: string;
  /** Facts for scripts (addresses, timings, the CA, the skew...). */
  data?: Record<string, unknown>;
}

export interface DoctorResult {
  ok: boolean;
  /** null when nothing failed, else the error code of the first failing check (the CLI's exit code). */
  code: string | null;
  /** The base URL checked. */
  baseUrl: string;
  checks: Check[];
}

export interface DoctorOptions {
  /** --profile */
  profile?: string;
  /** --base-url / --local */
  baseUrl?: string;
  /** --port: the callback port `login --web --port` would use (default: any free port). */
  port?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  userAgent?: string;
  /** Per network step. Default 10 s. */
  timeoutMs?: number;
  /** Per keychain call. Default 3 s (the keychain's own default). */
  keychainTimeoutMs?: number;
  /** Called as each check ends (people see progress line by line). */
  onCheck?: (check: Check) => void;
}

export const TITLES: Record<CheckId, string> = {
  key: "API key",
  credentials: "Credentials file",
  keychain: "OS keychain",
  dns: "DNS",
  tcp: "TCP connection",
  tls: "TLS",
  proxy: "Proxy",
  api: "API (/api/me)",
  clock: "Clock",
  "login-port": "Login callback port",
};
