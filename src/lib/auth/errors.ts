/**
 * Login errors. Each carries a stable `code`, mapped to an exit code in
 * `src/lib/cli/exit-codes.ts`, and one suggestion (what to do next).
 */
import { GigaReelsError } from "../sdk/errors.js";

const RETRY = "Run gigareels login again";

/** The person refused access in the browser or on the device page (exit 4). */
export class LoginDeniedError extends GigaReelsError {
  override code = "login_denied";
  constructor(message = "The login was denied in the browser", suggestions = [RETRY]) {
    super(message, { suggestions });
  }
}

/** The device code or authorization code expired before it was used (exit 4). */
export class LoginExpiredError extends GigaReelsError {
  override code = "login_expired";
  constructor(message = "The login code expired before it was approved", suggestions = [RETRY]) {
    super(message, { suggestions });
  }
}

/** `--timeout` was reached while waiting for the browser or the device approval (exit 7). */
export class LoginTimeoutError extends GigaReelsError {
  override code = "login_timeout";
}

/** The server refused the code exchange or a device-token poll (exit 4). */
export class TokenExchangeError extends GigaReelsError {
  override code = "token_exchange_failed";
}

/** The callback reported an OAuth error other than access_denied (exit 4). */
export class LoginFailedError extends GigaReelsError {
  override code = "login_failed";
}

/** `--port N` is taken (exit 2). */
export class PortInUseError extends GigaReelsError {
  override code = "port_in_use";
  readonly port: number;
  constructor(port: number, cause?: unknown, reason = "in use") {
    super(`Port ${port} is ${reason}, so the login callback cannot listen on it`, {
      cause,
      suggestions: ["Pass another --port, or leave --port out to use a free one"],
    });
    this.port = port;
  }
}

/** No terminal to ask in and no explicit method (exit 2). */
export class NoTerminalError extends GigaReelsError {
  override code = "no_terminal";
  constructor() {
    super("gigareels login needs a terminal to ask how to log in", {
      suggestions: [
        "Set GIGAREELS_API_KEY, or pipe a key into gigareels login --with-token (or pass --web or --device)",
      ],
    });
  }
}

/** GIGAREELS_API_KEY is set: storing a key would have no effect (exit 1, as gh does for GH_TOKEN). */
export class ApiKeyEnvSetError extends GigaReelsError {
  override code = "api_key_env_set";
  constructor(variable = "GIGAREELS_API_KEY") {
    super(`${variable} is set and is used for every command, so gigareels login will not store another key`, {
      suggestions: [`Unset ${variable} to log in with stored credentials`],
    });
  }
}

/** A key given on stdin (--with-token) or pasted that is not a GigaReels key (exit 2). */
export class TokenInputError extends GigaReelsError {
  override code = "usage";
}

/** The person chose to keep the profile's existing key (exit 1). */
export class LoginCancelledError extends GigaReelsError {
  override code = "login_cancelled";
}
