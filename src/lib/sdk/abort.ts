/** Abortable waiting: the AbortedError of a fired signal, and a sleep that a signal cuts short. */
import { AbortedError } from "./errors.js";

export function abortedError(signal: AbortSignal): AbortedError {
  const r = signal.reason;
  if (r instanceof AbortedError) return r;
  return new AbortedError("The request was cancelled", { cause: r });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

/** Sleeps `ms`, waking early (with AbortedError) when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A signal that fires on the caller's signal or at `deadline`, whichever comes first. */
export interface DeadlineSignal {
  readonly signal: AbortSignal;
  /** True when the deadline (not the caller's signal) fired. */
  timedOut(): boolean;
  /** Clears the timer and the listener; call it in `finally`. */
  dispose(): void;
}

/**
 * `deadlineSignal(ctrlC, deadline)`: one signal for Ctrl-C and what is left of a time limit.
 * With `deadline` undefined it only follows `parent`. `now` is the clock `deadline` is on.
 */
export function deadlineSignal(
  parent: AbortSignal,
  deadline: number | undefined,
  now: () => number = Date.now,
): DeadlineSignal {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(parent.reason);
  parent.addEventListener("abort", onAbort, { once: true });
  let fired = false;
  const timer =
    deadline !== undefined
      ? setTimeout(
          () => {
            fired = true;
            ctl.abort(new AbortedError("deadline"));
          },
          Math.max(0, deadline - now()),
        )
      : undefined;
  return {
    signal: ctl.signal,
    timedOut: () => fired,
    dispose() {
      if (timer) clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}
