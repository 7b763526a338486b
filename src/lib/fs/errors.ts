/** The file helpers' errors, in a module without node:* imports (the SDK entry exports them). */
import { GigaReelsError } from "../sdk/errors.js";

/** Another process held an inter-process lock (credentials.json's, say) for too long. */
export class LockTimeoutError extends GigaReelsError {
  override readonly code = "lock_timeout";
  constructor(
    readonly lockPath: string,
    timeoutMs: number,
  ) {
    super(
      `Could not take the lock ${lockPath} within ${timeoutMs} ms: another gigareels process holds it. Retry in a moment, or delete ${lockPath} if no other gigareels process is running.`,
      { suggestions: ["Retry in a moment", `delete ${lockPath} if no other gigareels process is running`] },
    );
  }
}
