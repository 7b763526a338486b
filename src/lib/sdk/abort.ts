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
