/**
 * The batch engine behind `client.renders.batch(items, options)` and `gigareels render batch`:
 * many renders, paced to the key's render limits, each followed to its end and optionally
 * downloaded, recorded in a state file so a killed run can be rerun without a second render
 * for any item. An async generator of events; no CLI, no terminal.
 *
 * For each item, in order:
 * 1. Its state says what is left: nothing sent -> submit; "submitting" (the key was recorded,
 *    the request may have gone) -> send again with the same Idempotency-Key (the server
 *    answers with the first render); "rendering" -> follow; "done" -> download (when an
 *    output is asked for); "saved" -> nothing (downloaded again when the file is gone);
 *    "error" -> nothing, unless `retryFailed` (then a new attempt with a new key).
 * 2. Submissions go one at a time, each after the pacer grants it (src/lib/sdk/batch/pacer.ts:
 *    by default a slot in the key's shared request budget, as a single `render` takes one),
 *    the key written to the state file before the request leaves.
 * 3. Every render in flight is followed with waitForRender (the status budget shared with any
 *    other watcher of the key); a finished render is downloaded (a few at once) through the
 *    SDK's resumable, verified download.
 * A render that ends in error, or a line the server refuses (400), fails that item only.
 * A missing or rejected key, an outage longer than `maxOutageMs`, the `timeoutMs` deadline or
 * the signal stop the whole batch: a "summary" event (with `stopped`) comes first, then the
 * iterator throws that error. The state is on disk either way.
 */
import { existsSync } from "node:fs";
import type { RateLimitState } from "../backoff.js";
import type { DownloadCallOptions, DownloadOutcome } from "../download/client.js";
import {
  AbortedError,
  APIError,
  AuthenticationError,
  DeadlineExceededError,
  GigaReelsError,
  MissingApiKeyError,
  RenderFailedError,
} from "../errors.js";
import { sleep } from "../transport.js";
import type { RenderCreated, RenderStatus } from "../types.js";
import { isTransient, OutageError, type WaitForRenderOptions } from "../wait.js";
import { SharedBudget } from "../poll/budget.js";
import { budgetRenderPacer, type PaceWait, type RenderPacer } from "./pacer.js";
import { BatchState, type LineState, lineIdempotencyKey, submissionHash } from "./state.js";

export type BatchEndpoint = "/api/render" | "/api/render/text" | "/api/render/split";

export interface BatchItem {
  /** The item's number (its input line): unique, a positive integer. It names the item in the state and events. */
  line: number;
  /** Default "/api/render". */
  endpoint?: BatchEndpoint;
  /** The request body, sent as it is. */
  body: Record<string, unknown>;
  /** Save the finished video here: a path, or a function of the render id. Default: not downloaded. */
  output?: string | ((renderId: string) => string);
}

export interface BatchOptions {
  /** The state file (created when missing). Without it the state lives in memory: a rerun starts over. */
  state?: string;
  /** Recorded in a new state file, for people reading it. */
  input?: string;
  /** Accept items whose body changed since the state was written (they are submitted anew). Default: refuse. */
  allowChanged?: boolean;
  /** Submit again (with a new key) the items whose render ended in error in an earlier run. */
  retryFailed?: boolean;
  /** Overwrite output files that exist and are not this batch's. */
  force?: boolean;
  signal?: AbortSignal;
  /** Stop after this long (DeadlineExceededError); the renders go on. */
  timeoutMs?: number;
  /** How long transient trouble may last before the batch stops (OutageError). Default 5 minutes. */
  maxOutageMs?: number;
  /** Downloads at once. Default 3. */
  downloads?: number;
  /** Paces creation. Default: the key's shared request budget (every process of the key, one budget). */
  pacer?: RenderPacer;
  /** Passed to waitForRender (tests). */
  shareBudget?: boolean;
}

export interface BatchCounts {
  total: number;
  /** Not submitted yet. */
  queued: number;
  /** Submitted, not finished (downloads included). */
  rendering: number;
  /** Finished (and saved, when an output was asked for). */
  done: number;
  failed: number;
}

interface EventBase {
  /** ISO 8601 */
  time: string;
  counts: BatchCounts;
}

export type BatchEvent =
  | (EventBase & { type: "start"; resumed: boolean; state?: string; skipped: number })
  | (EventBase & {
      type: "submitted";
      line: number;
      renderId: string;
      idempotencyKey: string;
      attempt: number;
      /** True when this resent a recorded key (a rerun after a kill). */
      resent: boolean;
    })
  | (EventBase & { type: "status"; line: number; renderId: string; status: string; progress?: number })
  | (EventBase & { type: "waiting"; until: string; window: PaceWait["window"]; limit: number | null })
  | (EventBase & { type: "going-on"; window: PaceWait["window"] })
  | (EventBase & { type: "retry"; line: number; message: string; waitMs: number })
  | (EventBase & { type: "done"; line: number; renderId: string; outputFile?: string })
  | (EventBase & {
      type: "saved";
      line: number;
      renderId: string;
      path: string;
      bytes: number;
      resumed: boolean;
    })
  | (EventBase & {
      type: "failed";
      line: number;
      renderId?: string;
      error: { code: string; message: string };
    })
  | (EventBase & {
      type: "summary";
      elapsedMs: number;
      failedLines: number[];
      lines: BatchLineResult[];
      /** Why the batch stopped early (the iterator throws it next). */
      stopped?: { code: string; message: string };
    });

export type BatchEventType = BatchEvent["type"];

export interface BatchLineResult {
  line: number;
  status: LineState["status"];
  renderId?: string;
  output?: string;
  error?: string;
}

/** What the engine needs from the client. */
export interface BatchDeps {
  create(
    endpoint: BatchEndpoint,
    body: Record<string, unknown>,
    options: { idempotencyKey: string; signal: AbortSignal },
  ): Promise<RenderCreated>;
  /** The render group's last rate-limit state. */
  renderRateLimit(): RateLimitState | undefined;
  waitForRender(renderId: string, options: WaitForRenderOptions): Promise<RenderStatus>;
  download(renderId: string, options: DownloadCallOptions): Promise<DownloadOutcome>;
  apiKey(): Promise<string>;
  /** The config folder (for the key's shared budget file). */
  configDir: string;
  /** The length of the server's rate-limit minute (the client's rateLimitMinuteMs). Default 60 000. */
  minuteMs?: number;
}

/** Items are refused before anything is sent. */
export class BatchItemsError extends GigaReelsError {
  override code = "usage";
}

/** Items whose body changed since the state file recorded them (refused unless allowChanged). */
export class BatchChangedError extends GigaReelsError {
  override code = "usage";
  readonly lines: number[];
  constructor(lines: number[], statePath: string) {
    const shown = lines.slice(0, 10).join(", ") + (lines.length > 10 ? `, ... (${lines.length} in all)` : "");
    super(
      `Input line${lines.length === 1 ? "" : "s"} ${shown} changed since this batch recorded ${lines.length === 1 ? "it" : "them"} in ${statePath}`,
      {
        suggestions: [
          "Restore the line, or pass --allow-changed to submit the new version (a new render), or start afresh with another --state",
        ],
      },
    );
    this.lines = lines;
  }
}

/** An async queue of events: producers push, the generator pulls. */
class Channel<T> {
  private items: T[] = [];
  private waiter: (() => void) | undefined;
  push(item: T): void {
    this.items.push(item);
    this.waiter?.();
    this.waiter = undefined;
  }
  async next(): Promise<T> {
    while (this.items.length === 0) await new Promise<void>((r) => (this.waiter = r));
    return this.items.shift()!;
  }
}

function fatal(err: unknown): boolean {
  return (
    err instanceof AuthenticationError ||
    err instanceof MissingApiKeyError ||
    err instanceof AbortedError ||
    err instanceof DeadlineExceededError ||
    err instanceof OutageError ||
    !(err instanceof GigaReelsError) ||
    (err as { code?: string }).code === "batch_state"
  );
}

function errorInfo(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === "string" ? e.code : "error",
    message: typeof e?.message === "string" ? e.message : String(err),
  };
}

/** Checks the items (unique positive lines, object bodies) before anything is sent. */
function checkItems(items: readonly BatchItem[]): void {
  const seen = new Set<number>();
  for (const it of items) {
    if (!Number.isInteger(it.line) || it.line < 1)
      throw new BatchItemsError(`Batch item line ${String(it.line)} must be a positive integer`);
    if (seen.has(it.line)) throw new BatchItemsError(`Two batch items have the line number ${it.line}`);
    seen.add(it.line);
    if (!it.body || typeof it.body !== "object" || Array.isArray(it.body))
      throw new BatchItemsError(`Batch item ${it.line}: the body must be an object`);
  }
}

export async function* runBatch(
  deps: BatchDeps,
  input: Iterable<BatchItem>,
  options: BatchOptions = {},
): AsyncGenerator<BatchEvent, void, undefined> {
  const items = [...input].sort((a, b) => a.line - b.line);
  checkItems(items);
  const persist = options.state !== undefined;
  const state = persist
    ? await BatchState.load(options.state!, options.input)
    : BatchState.memory(options.input);
  const save = () => (persist ? state.save() : Promise.resolve());

  // Changed lines, before anything else.
  const changed: number[] = [];
  for (const it of items) {
    const s = state.line(it.line);
    if (s && s.hash !== submissionHash(it.endpoint ?? "/api/render", it.body) && s.status !== "pending")
      changed.push(it.line);
  }
  if (changed.length > 0 && !options.allowChanged) throw new BatchChangedError(changed, state.path);

  const run = async function* (): AsyncGenerator<BatchEvent, void, undefined> {
    yield* drive(deps, items, state, save, options, persist ? state.path : undefined);
  };
  if (!persist) {
    yield* run();
    return;
  }
  // Hold the state's lock for the whole run; events cross the lock through a channel.
  const channel = new Channel<{ event?: BatchEvent; end?: true; error?: unknown }>();
  const finished = state
    .exclusive(async () => {
      for await (const event of run()) channel.push({ event });
    })
    .then(
      () => channel.push({ end: true }),
      (error: unknown) => channel.push({ error }),
    );
  for (;;) {
    const m = await channel.next();
    if (m.event) yield m.event;
    else if (m.end) break;
    else throw m.error;
  }
  await finished;
}

async function* drive(
  deps: BatchDeps,
  items: BatchItem[],
  state: BatchState,
  save: () => Promise<void>,
  options: BatchOptions,
  statePath: string | undefined,
): AsyncGenerator<BatchEvent, void, undefined> {
  const started = Date.now();
  const controller = new AbortController();
  let stopError: unknown;
  const stop = (err: unknown) => {
    if (stopError === undefined) stopError = err;
    controller.abort(err);
  };
  const onAbort = () =>
    stop(
      options.signal?.reason instanceof GigaReelsError
        ? options.signal.reason
        : new AbortedError("Interrupted: the batch stopped; renders already submitted go on"),
    );
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const deadline =
    options.timeoutMs !== undefined
      ? setTimeout(
          () =>
            stop(
              new DeadlineExceededError(
                `The batch did not finish within ${Math.round(options.timeoutMs! / 1000)} s; renders already submitted go on`,
              ),
            ),
          options.timeoutMs,
        )
      : undefined;
  const signal = controller.signal;
  const maxOutageMs = options.maxOutageMs ?? 5 * 60_000;

  const channel = new Channel<BatchEvent | null>();
  const status = new Map<number, LineState["status"]>();
  const counts = (): BatchCounts => {
    const c: BatchCounts = { total: items.length, queued: 0, rendering: 0, done: 0, failed: 0 };
    for (const it of items) {
      const s = status.get(it.line) ?? "pending";
      if (s === "pending" || s === "submitting") c.queued++;
      else if (s === "error") c.failed++;
      else if (s === "saved" || (s === "done" && !it.output)) c.done++;
      else c.rendering++;
    }
    return c;
  };
  const emit = (e: Record<string, unknown> & { type: BatchEventType }) =>
    channel.push({ ...e, time: new Date().toISOString(), counts: counts() } as BatchEvent);
  const setLine = (line: number, change: Partial<LineState>) => {
    const l = state.update(line, change);
    status.set(line, l.status);
    return l;
  };

  // What each item needs.
  const toSubmit: BatchItem[] = [];
  const toFollow: BatchItem[] = [];
  const toSave: BatchItem[] = [];
  let skipped = 0;
  for (const it of items) {
    const endpoint = it.endpoint ?? "/api/render";
    const hash = submissionHash(endpoint, it.body);
    let s = state.line(it.line);
    const fresh = (attempt: number): LineState =>
      state.set(it.line, {
        hash,
        idempotencyKey: lineIdempotencyKey(state.batchId, it.line, attempt, hash),
        attempt,
        status: "pending",
        endpoint,
      });
    if (!s) s = fresh(1);
    else if (s.hash !== hash)
      s = fresh(s.attempt + 1); // allowChanged: a new render
    else if (s.status === "error" && options.retryFailed) s = fresh(s.attempt + 1);
    status.set(it.line, s.status);
    if (s.status === "pending" || s.status === "submitting") toSubmit.push(it);
    else if (s.status === "rendering") toFollow.push(it);
    else if (s.status === "done" || s.status === "downloading") {
      if (it.output) toSave.push(it);
      else skipped++;
    } else if (s.status === "saved") {
      if (it.output && !(s.output && existsSync(s.output))) toSave.push(it);
      else skipped++;
    } else skipped++;
  }
  // Output files that exist and are not ours: refused before anything is sent.
  if (!options.force) {
    for (const it of items) {
      if (typeof it.output !== "string") continue;
      const s = state.line(it.line)!;
      if (s.output === it.output) continue;
      if (existsSync(it.output))
        throw new BatchItemsError(`Line ${it.line}: ${it.output} exists already`, {
          suggestions: ["Pass --force to overwrite it, or choose another --output-dir or --name"],
        });
    }
  }
  await save();
  emit({ type: "start", resumed: state.resumed, state: statePath, skipped });

  // Downloads: a few at once.
  const maxDownloads = Math.max(1, options.downloads ?? 3);
  let activeDownloads = 0;
  const downloadQueue: (() => void)[] = [];
  const downloadSlot = async () => {
    if (activeDownloads >= maxDownloads) await new Promise<void>((r) => downloadQueue.push(r));
    activeDownloads++;
  };
  const releaseDownload = () => {
    activeDownloads--;
    downloadQueue.shift()?.();
  };

  const lineFailed = async (it: BatchItem, err: unknown) => {
    const info = errorInfo(err);
    // "Render rnd_x failed: <the server's message>": the id is recorded beside it already
    if (err instanceof RenderFailedError) info.message = info.message.replace(/^Render \S+ failed: /, "");
    const s = setLine(it.line, { status: "error", error: info.message, errorCode: info.code });
    await save();
    emit({ type: "failed", line: it.line, renderId: s.renderId, error: info });
  };

  const saveVideo = async (it: BatchItem) => {
    const s = state.line(it.line)!;
    const path = typeof it.output === "function" ? it.output(s.renderId!) : it.output!;
    setLine(it.line, { status: "downloading", output: path });
    await save();
    await downloadSlot();
    try {
      const out = await deps.download(s.renderId!, { path, force: true, signal });
      setLine(it.line, { status: "saved", bytes: out.bytes, output: out.path });
      await save();
      emit({
        type: "saved",
        line: it.line,
        renderId: s.renderId!,
        path: out.path,
        bytes: out.bytes,
        resumed: (out as { resumed?: boolean }).resumed === true,
      });
    } finally {
      releaseDownload();
    }
  };

  const follow = async (it: BatchItem) => {
    const s = state.line(it.line)!;
    const renderId = s.renderId!;
    let last = "";
    let final: RenderStatus;
    try {
      final = await deps.waitForRender(renderId, {
        signal,
        submittedAt: s.submittedAt,
        maxOutageMs,
        shareBudget: options.shareBudget,
        onUpdate: (e) => {
          if (e.type !== "status" || !e.status) return;
          const key = `${e.status}:${e.progress ?? ""}`;
          if (key === last) return;
          last = key;
          emit({ type: "status", line: it.line, renderId, status: e.status, progress: e.progress });
        },
      });
    } catch (err) {
      if (err instanceof RenderFailedError || (!fatal(err) && !isTransient(err))) {
        await lineFailed(it, err);
        return;
      }
      throw err;
    }
    setLine(it.line, { status: "done", outputFile: final.outputFile });
    await save();
    emit({ type: "done", line: it.line, renderId, outputFile: final.outputFile });
    if (it.output) await saveVideo(it);
  };

  const tasks = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const t = p.catch((err: unknown) => stop(err)).finally(() => tasks.delete(t));
    tasks.add(t);
  };

  const pacer =
    options.pacer ??
    budgetRenderPacer(
      new SharedBudget(await deps.apiKey(), { dir: deps.configDir, minuteMs: deps.minuteMs }),
    );

  const submit = async (it: BatchItem) => {
    let s = state.line(it.line)!;
    const resent = s.status === "submitting";
    const ticket = await pacer.acquire({
      signal,
      onWait: (w) =>
        emit({ type: "waiting", until: new Date(w.until).toISOString(), window: w.window, limit: w.limit }),
    });
    // The key is on disk before the request leaves.
    s = setLine(it.line, { status: "submitting", submittedAt: s.submittedAt ?? Date.now() });
    await save();
    const outageStart = Date.now();
    let failures = 0;
    for (;;) {
      let created: RenderCreated | undefined;
      try {
        created = await deps.create(s.endpoint as BatchEndpoint, it.body, {
          idempotencyKey: s.idempotencyKey,
          signal,
        });
      } catch (err) {
        await pacer.settle(ticket, err instanceof APIError ? deps.renderRateLimit() : undefined);
        if (signal.aborted) throw stopError ?? err;
        if (isTransient(err)) {
          failures++;
          if (Date.now() - outageStart > maxOutageMs)
            throw new OutageError(
              "",
              `Render creation failed for longer than ${Math.round(maxOutageMs / 1000)} s: ${errorInfo(err).message}`,
              { cause: err },
            );
          const waitMs = Math.min(30_000, 1_000 * 2 ** (failures - 1));
          emit({ type: "retry", line: it.line, message: errorInfo(err).message, waitMs });
          await sleep(waitMs, signal);
          continue;
        }
        if (fatal(err)) throw err;
        await lineFailed(it, err);
        return;
      }
      await pacer.settle(ticket, deps.renderRateLimit());
      s = setLine(it.line, { status: "rendering", renderId: created.renderId });
      await save();
      emit({
        type: "submitted",
        line: it.line,
        renderId: created.renderId,
        idempotencyKey: s.idempotencyKey,
        attempt: s.attempt,
        resent,
      });
      track(follow(it));
      return;
    }
  };

  let waitingFor: PaceWait["window"] | undefined;
  const main = (async () => {
    for (const it of toFollow) track(follow(it));
    for (const it of toSave) track(saveVideo(it));
    for (const it of toSubmit) {
      if (signal.aborted) break;
      await submit(it);
    }
    while (tasks.size > 0) await Promise.race(tasks);
  })().then(
    () => channel.push(null),
    (err: unknown) => {
      stop(err);
      channel.push(null);
    },
  );

  try {
    for (;;) {
      const e = await channel.next();
      if (e === null) break;
      if (e.type === "waiting") waitingFor = e.window;
      else if (waitingFor && e.type === "submitted") {
        yield { type: "going-on", window: waitingFor, time: e.time, counts: e.counts };
        waitingFor = undefined;
      }
      yield e;
    }
    await main;
    // Tasks still running after a stop end promptly (their signal fired).
    await Promise.allSettled([...tasks]);
    await save().catch(() => {});
  } finally {
    if (deadline) clearTimeout(deadline);
    options.signal?.removeEventListener("abort", onAbort);
    controller.abort();
  }

  const lines: BatchLineResult[] = items.map((it) => {
    const s = state.line(it.line)!;
    return { line: it.line, status: s.status, renderId: s.renderId, output: s.output, error: s.error };
  });
  const failedLines = lines.filter((l) => l.status === "error").map((l) => l.line);
  yield {
    type: "summary",
    time: new Date().toISOString(),
    counts: counts(),
    elapsedMs: Date.now() - started,
    failedLines,
    lines,
    ...(stopError !== undefined ? { stopped: errorInfo(stopError) } : {}),
  };
  if (stopError !== undefined) throw stopError;
}
