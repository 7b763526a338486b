/** Render jobs: body validation, creation, and the status each job reports over time. */
import { randomBytes } from "node:crypto";
import type { EmulatorRender, RenderOutcome } from "./types.js";

export type RenderType = "render" | "text" | "split";

type Check = string | null;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function requireString(body: Record<string, unknown>, field: string): Check {
  const v = body[field];
  if (v === undefined || v === null) return `${field} is required`;
  if (typeof v !== "string" || v.trim() === "") return `${field} must be a non-empty string`;
  return null;
}
function optionalString(body: Record<string, unknown>, field: string): Check {
  const v = body[field];
  if (v === undefined) return null;
  if (typeof v !== "string" || v.trim() === "") return `${field} must be a non-empty string`;
  return null;
}
function isHttpUrl(v: unknown): boolean {
  if (typeof v !== "string") return false;
  try {
    const u = new URL(v);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
function requireUrl(body: Record<string, unknown>, field: string): Check {
  const v = body[field];
  if (v === undefined || v === null || v === "") return `${field} is required`;
  if (!isHttpUrl(v)) return `${field} must be an http(s) URL`;
  return null;
}
function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function validateRender(body: Record<string, unknown>): Check {
  return (
    requireString(body, "type") ??
    requireString(body, "prompt") ??
    optionalString(body, "characterPack") ??
    optionalString(body, "backgroundVideoPack")
  );
}

function validateText(body: Record<string, unknown>): Check {
  const url = requireUrl(body, "videoUrl");
  if (url) return url;
  const overlays = body.textOverlays;
  if (overlays === undefined) return "textOverlays is required";
  if (!Array.isArray(overlays) || overlays.length === 0) return "textOverlays must be a non-empty list";
  for (let i = 0; i < overlays.length; i++) {
    const o = overlays[i] as unknown;
    const at = `textOverlays[${i}]`;
    if (!isObject(o)) return `${at} must be an object with text and position`;
    if (typeof o.text !== "string" || o.text === "") return `${at}.text must be a non-empty string`;
    if (!isObject(o.position)) return `${at}.position must be an object {x, y}`;
    if (!isFiniteNumber(o.position.x)) return `${at}.position.x must be a number`;
    if (!isFiniteNumber(o.position.y)) return `${at}.position.y must be a number`;
  }
  const style = body.textStyle;
  if (style === undefined) return null;
  if (!isObject(style)) return "textStyle must be an object {fontFamily, fontSize, color}";
  if (style.fontFamily !== undefined && (typeof style.fontFamily !== "string" || style.fontFamily === ""))
    return "textStyle.fontFamily must be a non-empty string";
  if (style.fontSize !== undefined && !(isFiniteNumber(style.fontSize) && style.fontSize > 0))
    return "textStyle.fontSize must be a positive number";
  if (
    style.color !== undefined &&
    !(typeof style.color === "string" && /^#[0-9A-Fa-f]{6}$/.test(style.color))
  )
    return 'textStyle.color must be a colour like "#RRGGBB"';
  return null;
}

const POSITIONS = ["left", "right", "top", "bottom"];
const FITS = ["cover", "contain"];

function validateSplit(body: Record<string, unknown>): Check {
  const url = requireUrl(body, "videoUrl");
  if (url) return url;
  if (body.position === undefined || body.position === null || body.position === "")
    return "position is required";
  if (typeof body.position !== "string" || !POSITIONS.includes(body.position))
    return `position must be one of ${POSITIONS.join(", ")}`;
  if (body.brollVideo !== undefined && !isHttpUrl(body.brollVideo))
    return "brollVideo must be an http(s) URL";
  if (body.objectFit !== undefined && (typeof body.objectFit !== "string" || !FITS.includes(body.objectFit)))
    return `objectFit must be one of ${FITS.join(", ")}`;
  return null;
}

/** Null when the body is acceptable, else the message for a 400 `{"error": ...}`. */
export function validateRenderBody(type: RenderType, body: unknown): string | null {
  if (!isObject(body)) return "Request body must be a JSON object";
  if (type === "render") return validateRender(body);
  if (type === "text") return validateText(body);
  return validateSplit(body);
}

interface StoredRender extends EmulatorRender {
  accountId: string;
  durationMs: number;
  finishedAt?: number;
}

export interface RenderStatus {
  status: EmulatorRender["status"];
  progress: number;
  error?: string;
  /** When status is done: the time it finished (for Last-Modified). */
  finishedAt?: number;
}

const DEFAULT_ERROR = "The video could not be generated";

export class RenderStore {
  private readonly list: StoredRender[] = [];
  private readonly byId = new Map<string, StoredRender>();
  private pending: { outcome: RenderOutcome; error?: string; count: number }[] = [];

  constructor(
    private durationMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  setDurationMs(ms: number): void {
    this.durationMs = Math.max(0, ms);
  }

  setNextOutcome(outcome: RenderOutcome, options: { error?: string; count?: number } = {}): void {
    this.pending.push({ outcome, error: options.error, count: Math.max(1, options.count ?? 1) });
  }

  create(
    type: string,
    accountId: string,
    origin: { idempotencyKey?: string; key?: string } = {},
  ): StoredRender {
    let outcome: RenderOutcome = "done";
    let error: string | undefined;
    const next = this.pending[0];
    if (next) {
      outcome = next.outcome;
      error = next.error;
      next.count--;
      if (next.count <= 0) this.pending.shift();
    }
    const render: StoredRender = {
      id: `rnd_${randomBytes(12).toString("hex")}`,
      type,
      status: "queued",
      progress: 0,
      createdAt: this.now(),
      outcome,
      error: outcome === "error" ? (error ?? DEFAULT_ERROR) : undefined,
      accountId,
      durationMs: this.durationMs,
      ...(origin.idempotencyKey !== undefined ? { idempotencyKey: origin.idempotencyKey } : {}),
      keyLast4: (origin.key ?? "").slice(-4),
    };
    this.list.push(render);
    this.byId.set(render.id, render);
    return render;
  }

  /** The render as seen by `accountId` (renders of other accounts are "not found"). */
  get(id: string, accountId?: string): StoredRender | undefined {
    const r = this.byId.get(id);
    if (!r || (accountId !== undefined && r.accountId !== accountId)) return undefined;
    return r;
  }

  /**
   * The status now: queued for the first 10% of the duration, then rendering with progress
   * rising to 100, then done or error. "never" renders stay rendering (progress stops at 99).
   */
  status(id: string): RenderStatus | undefined {
    const r = this.byId.get(id);
    if (!r) return undefined;
    const elapsed = this.now() - r.createdAt;
    const d = r.durationMs;
    const queuedFor = d * 0.1;
    let s: RenderStatus;
    if (r.outcome !== "never" && elapsed >= d) {
      s =
        r.outcome === "error"
          ? { status: "error", progress: 100, error: r.error }
          : { status: "done", progress: 100, finishedAt: r.createdAt + d };
    } else if (elapsed < queuedFor) {
      s = { status: "queued", progress: 0 };
    } else {
      const p = d <= 0 ? 99 : Math.floor(((elapsed - queuedFor) / (d - queuedFor)) * 100);
      s = { status: "rendering", progress: Math.max(0, Math.min(99, p)) };
    }
    r.status = s.status;
    r.progress = s.progress;
    return s;
  }

  all(): EmulatorRender[] {
    return this.list.map((r) => {
      this.status(r.id);
      const { accountId: _a, durationMs: _d, finishedAt: _f, ...pub } = r;
      return { ...pub };
    });
  }
}
