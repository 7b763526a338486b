/**
 * Pacing of render creation for a batch: how it stays inside the key's render limits (10 a
 * minute, 100 an hour, 1000 a day) without ever being refused, alongside every other process
 * using the key.
 *
 * `RenderPacer` is what the batch engine needs; `budgetRenderPacer` is the default, on top of
 * the key's shared request budget (src/lib/sdk/poll/budget.ts: the one file through which
 * `render`, `render --wait`, `watch` and every batch of the key take their slots): sliding
 * minute/hour/day windows kept at 90 % of the published limits, the server's own count
 * (X-RateLimit-Remaining less what was sent since) and a pause every process honours after
 * a 429. The client records each creation's answer in the same budget, so `settle` only
 * remembers which limit the server named.
 */
import type { RateLimitState } from "../backoff.js";
import type { BudgetWait, SharedBudget } from "../poll/budget.js";

/** The published render limits and the names of their windows. */
export const RENDER_WINDOWS: Record<number, "minute" | "hour" | "day"> = {
  10: "minute",
  100: "hour",
  1000: "day",
};

export type PaceWindow = "minute" | "hour" | "day" | "window";

/** Told when a creation has to wait. */
export interface PaceWait {
  /** Local epoch ms when creations may go on. */
  until: number;
  /** Which window is spent ("window" when the server's count says so for a limit we cannot name). */
  window: PaceWindow;
  /** The window's limit, when known. */
  limit: number | null;
}

/** One granted creation. */
export interface PaceTicket {
  /** Local epoch ms when it was granted. */
  at: number;
}

export interface RenderPacer {
  /** Resolves when one render may be created now. Rejects (AbortedError) when the signal fires. */
  acquire(options?: { signal?: AbortSignal; onWait?: (wait: PaceWait) => void }): Promise<PaceTicket>;
  /** After the creation: the render group's rate-limit state from its answer (undefined when it failed). */
  settle(ticket: PaceTicket, state: RateLimitState | undefined): Promise<void>;
}

/**
 * The key's shared budget as a RenderPacer (the "render" group). A wait is told once per
 * acquire (the budget retries with a little spread; one "waiting" is enough), named by the
 * full window, or by the limit of the last headers when the server's count is what stops it.
 */
export function budgetRenderPacer(budget: SharedBudget): RenderPacer {
  const limits = budget.limitsOf("render");
  let lastLimit: number | null = null;
  return {
    async acquire({ signal, onWait } = {}) {
      let told = false;
      const grant = await budget.acquire("render", {
        signal,
        onWait: (w: BudgetWait) => {
          if (told || !onWait) return;
          told = true;
          const window: PaceWindow =
            w.reason === "server" ? (lastLimit !== null && RENDER_WINDOWS[lastLimit]) || "window" : w.reason;
          const limit = window === "window" ? lastLimit : limits[window];
          onWait({ until: w.until, window, limit });
        },
      });
      return { at: grant.at };
    },
    async settle(_ticket, state) {
      if (state && state.limit !== null) lastLimit = state.limit;
    },
  };
}
