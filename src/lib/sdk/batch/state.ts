/**
 * The state file of a batch: a JSON document beside the input (or wherever the caller says)
 * that records, per input line, the Idempotency-Key, the render id, the status and the output
 * path. Every change is written atomically (writeFileAtomic: a reader or a crash sees the old
 * or the new file, never half of one); the key of a line is written BEFORE its request is
 * sent, so a run killed at any point can be rerun without creating a second render (the
 * server answers a repeated key with the first answer).
 *
 * A run holds `<state>.lock` for its whole length, so two processes never drive the same
 * batch at once; a lock left by a killed process (same host, dead pid) is taken over.
 */
import { createHash, randomBytes } from "node:crypto";
import { basename, dirname, resolve } from "node:path";
import { LockTimeoutError, readJsonFile, withFileLock, writeFileAtomic } from "../../fs/index.js";
import { GigaReelsError } from "../errors.js";

export const BATCH_STATE_VERSION = 1;

/**
 * pending: nothing sent. submitting: the key is recorded, the request may or may not have
 * reached the server. rendering: the server gave a render id. done: the render finished
 * (outputFile known). downloading: the video is being saved to `output`. saved: it is there.
 * error: the render ended in error, or the server refused the line (the reason in `error`).
 */
export type LineStatus = "pending" | "submitting" | "rendering" | "done" | "downloading" | "saved" | "error";

export interface LineState {
  /** sha256 of the line's endpoint and body (canonical JSON): a changed line is detected by it. */
  hash: string;
  idempotencyKey: string;
  /** 1 for the first submission; a retried failed line gets the next number (and a new key). */
  attempt: number;
  status: LineStatus;
  endpoint: string;
  renderId?: string;
  /** Local epoch ms of the first send. */
  submittedAt?: number;
  outputFile?: string;
  /** Where the video goes (recorded before the download starts, so a rerun may overwrite it). */
  output?: string;
  bytes?: number;
  error?: string;
  /** The error's code (render_failed, bad_request...). */
  errorCode?: string;
  updatedAt: string;
}

export interface BatchStateDocument {
  version: number;
  /** Seeds the idempotency keys: derived from the state file's path when it is created. */
  batchId: string;
  createdAt: string;
  updatedAt: string;
  /** Where the input came from (for people reading the file). */
  input?: string;
  lines: Record<string, LineState>;
}

export class BatchStateError extends GigaReelsError {
  override code = "batch_state";
}

/** Another process is running the same batch (it holds the state file's lock). */
export class BatchBusyError extends GigaReelsError {
  override code = "batch_busy";
}

/** The default state file of an input file: `<input>.state.json` beside it. */
export function defaultStatePath(inputPath: string): string {
  return `${resolve(inputPath)}.state.json`;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** The fingerprint of one submission: endpoint and body, key order ignored. */
export function submissionHash(endpoint: string, body: unknown): string {
  return createHash("sha256")
    .update(`${endpoint}\n${JSON.stringify(canonical(body))}`)
    .digest("hex");
}

/**
 * The Idempotency-Key of a line: the batch, the line number, the attempt and the body's hash,
 * so a rerun of the same input sends the same key, and a changed line or a retry a new one.
 */
export function lineIdempotencyKey(batchId: string, line: number, attempt: number, hash: string): string {
  const suffix = attempt > 1 ? `-a${attempt}` : "";
  return `batch-${batchId}-L${line}${suffix}-${hash.slice(0, 16)}`;
}

function batchIdFor(path: string): string {
  return createHash("sha256").update(resolve(path)).digest("hex").slice(0, 16);
}

function isLine(v: unknown): v is LineState {
  const l = v as LineState;
  return (
    !!l &&
    typeof l === "object" &&
    typeof l.hash === "string" &&
    typeof l.idempotencyKey === "string" &&
    typeof l.status === "string" &&
    typeof l.endpoint === "string"
  );
}

/** The state of one batch, loaded from and saved to one file. */
export class BatchState {
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    readonly path: string,
    readonly doc: BatchStateDocument,
    /** Whether the file existed (a rerun). */
    readonly resumed: boolean,
  ) {}

  /** Reads the file, or starts a new document when it does not exist. A corrupt file is refused. */
  static async load(path: string, input?: string): Promise<BatchState> {
    const abs = resolve(path);
    let r: Awaited<ReturnType<typeof readJsonFile<BatchStateDocument>>>;
    try {
      r = await readJsonFile<BatchStateDocument>(abs);
    } catch (err) {
      throw new BatchStateError(
        `Cannot read the batch state ${abs} (${(err as NodeJS.ErrnoException).code ?? err})`,
        { suggestions: ["Pass another file with --state"] },
      );
    }
    if (r.kind === "missing") {
      const now = new Date().toISOString();
      return new BatchState(
        abs,
        {
          version: BATCH_STATE_VERSION,
          batchId: batchIdFor(abs),
          createdAt: now,
          updatedAt: now,
          input,
          lines: {},
        },
        false,
      );
    }
    const v = r.kind === "ok" ? r.value : undefined;
    if (!v || typeof v !== "object" || v.version !== BATCH_STATE_VERSION || typeof v.batchId !== "string") {
      throw new BatchStateError(
        `The batch state ${abs} is not a state file of this version (${r.kind === "corrupt" ? r.error : "unexpected content"})`,
        {
          suggestions: [
            "Move it away to start the batch afresh (renders already created are then created again), or pass another file with --state",
          ],
        },
      );
    }
    const lines: Record<string, LineState> = {};
    for (const [k, l] of Object.entries(v.lines ?? {})) if (/^\d+$/.test(k) && isLine(l)) lines[k] = l;
    return new BatchState(abs, { ...v, lines }, true);
  }

  /** A state kept in memory only (no file): keys are unique to this run. */
  static memory(input?: string): BatchState {
    const now = new Date().toISOString();
    const batchId = randomBytes(8).toString("hex");
    return new BatchState(
      "(memory)",
      { version: BATCH_STATE_VERSION, batchId, createdAt: now, updatedAt: now, input, lines: {} },
      false,
    );
  }

  get batchId(): string {
    return this.doc.batchId;
  }

  line(n: number): LineState | undefined {
    return this.doc.lines[String(n)];
  }

  /** Changes a line (in memory); `save()` writes it. */
  set(n: number, line: Omit<LineState, "updatedAt">): LineState {
    const full = { ...line, updatedAt: new Date().toISOString() };
    this.doc.lines[String(n)] = full;
    this.dirty = true;
    return full;
  }

  update(n: number, change: Partial<LineState>): LineState {
    const cur = this.line(n);
    if (!cur) throw new Error(`BatchState.update: line ${n} has no state`);
    return this.set(n, { ...cur, ...change });
  }

  /**
   * Writes the document atomically. Calls made while a write is under way are folded into
   * one more write; the promise resolves once what was changed before the call is on disk.
   */
  save(): Promise<void> {
    const next = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      this.doc.updatedAt = new Date().toISOString();
      try {
        await writeFileAtomic(this.path, `${JSON.stringify(this.doc, null, 1)}\n`, { mode: 0o600 });
      } catch (err) {
        this.dirty = true;
        throw new BatchStateError(
          `Cannot write the batch state ${this.path} (${(err as NodeJS.ErrnoException).code ?? err})`,
          { suggestions: ["Check the folder is writable, or pass another file with --state"] },
        );
      }
    });
    this.writing = next.catch(() => {});
    return next;
  }

  /**
   * Runs `fn` holding the state file's lock (`<state>.lock`). Another live process holding it
   * makes this throw BatchBusyError at once; a lock of a dead process is taken over.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await withFileLock(`${this.path}.lock`, fn, {
        timeoutMs: 1_500,
        // held for the whole run: only a dead holder (same host) or a day-old lock is taken over
        staleMs: 24 * 3_600_000,
      });
    } catch (err) {
      if (err instanceof LockTimeoutError && err.lockPath === `${this.path}.lock`)
        throw new BatchBusyError(
          `Another gigareels process is running this batch (it holds ${basename(this.path)}.lock in ${dirname(this.path)})`,
          {
            suggestions: [
              "Wait for it to finish, or stop it; a killed process's lock is taken over on the next run",
            ],
          },
        );
      throw err;
    }
  }
}
