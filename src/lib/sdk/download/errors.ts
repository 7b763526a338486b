/** The download's error, in a module without node:* imports (the package entry exports it). */
import { GigaReelsError } from "../errors.js";

/**
 * Stable codes: "usage", "download_failed", "download_stalled", "download_not_video",
 * "download_write_failed" (a local file error: disk full, read-only, permission),
 * "download_unsupported_url", "length_mismatch", "aborted".
 * Part of the SDK's one error hierarchy (`instanceof GigaReelsError`), so its message is
 * redacted like every other.
 */
export class DownloadError extends GigaReelsError {
  constructor(code: string, message: string, suggestions: string[] = [], options?: { cause?: unknown }) {
    super(message, { suggestions, cause: options?.cause });
    this.code = code;
  }
}
