/**
 * From `gigareels render` flags to the request body of one of the published render endpoints
 * (gigareels-api.md, part A), checked before anything is sent: every message names the flag
 * and what it accepts (UsageError, exit 2). `--body FILE|-` bypasses the checks and sends a
 * JSON object as it is, for render types this tool does not know yet.
 */
import { readFile } from "node:fs/promises";
import type {
  RenderEndpoint,
  RenderRequest,
  SplitPosition,
  SplitRenderRequest,
  TextOverlay,
  TextRenderRequest,
} from "../sdk/types.js";
import { AbortedError } from "../sdk/errors.js";
import { UsageError } from "./usage-error.js";

export type { RenderEndpoint };

/** What one submission sends. */
export interface RenderSubmission {
  endpoint: RenderEndpoint;
  body: Record<string, unknown>;
}

export const DEFAULT_RENDER_TYPE = "educational-brainrot";
export const DEFAULT_CHARACTER_PACK = "rick-and-morty";
export const DEFAULT_BACKGROUND_VIDEO_PACK = "minecraft-parkour";
export const SPLIT_POSITIONS: readonly SplitPosition[] = ["left", "right", "top", "bottom"];
export const OBJECT_FITS = ["cover", "contain"] as const;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

const SLUG = /^[a-z0-9][a-z0-9._-]*$/i;
const COLOR = /^#[0-9A-Fa-f]{6}$/;

function slug(flag: string, value: string, example: string): string {
  const v = value.trim();
  if (!SLUG.test(v) || v.length > 100)
    throw new UsageError(
      `${flag} expects a name of letters, digits, ".", "_" or "-" (such as ${example}), not "${value}"`,
    );
  return v;
}

/** An http(s) URL, or a usage error naming the flag. */
export function httpUrl(flag: string, value: string): string {
  const v = value.trim();
  let ok = false;
  try {
    const u = new URL(v);
    ok = (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {}
  if (!ok)
    throw new UsageError(
      `${flag} expects an http(s) URL such as https://example.com/video.mp4, not "${value}"`,
    );
  return v;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const v = value.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(v))
    throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, not "${value}"`);
  return v as T;
}

function positiveNumber(flag: string, value: string): number {
  const v = value.trim();
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : Number.NaN;
  if (!(Number.isFinite(n) && n > 0))
    throw new UsageError(`${flag} expects a positive number, not "${value}"`);
  return n;
}

function required(flag: string, value: string | undefined, example: string): string {
  if (value === undefined || value.trim() === "")
    throw new UsageError(`${flag} is required`, [`For example: ${example}`]);
  return value;
}

/** `--text "Hello@50,100"`: the text, then `@X,Y` (numbers, pixels from the top left). */
export function parseTextOverlay(value: string): TextOverlay {
  const at = value.lastIndexOf("@");
  const text = at >= 0 ? value.slice(0, at) : value;
  const pos = at >= 0 ? /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(value.slice(at + 1)) : null;
  if (!pos || text === "")
    throw new UsageError(`--text expects TEXT@X,Y such as "Hello@50,100", not "${value}"`, [
      "X and Y are numbers; the text is everything before the last @",
    ]);
  return { text, position: { x: Number(pos[1]), y: Number(pos[2]) } };
}

export interface TemplateInput {
  prompt?: string;
  type?: string;
  characterPack?: string;
  backgroundVideoPack?: string;
}

/** POST /api/render. The prompt must be there already (asked for or given). */
export function templateSubmission(input: TemplateInput): RenderSubmission {
  const prompt = input.prompt?.trim();
  if (!prompt)
    throw new UsageError("A prompt is required: pass it as the first argument or with --prompt", [
      'For example: gigareels render "Explain black holes"',
    ]);
  const type = slug("--type", input.type ?? DEFAULT_RENDER_TYPE, DEFAULT_RENDER_TYPE);
  const body: RenderRequest = { type, prompt };
  const template = type === DEFAULT_RENDER_TYPE;
  if (input.characterPack !== undefined || template)
    body.characterPack = slug(
      "--character-pack",
      input.characterPack ?? DEFAULT_CHARACTER_PACK,
      DEFAULT_CHARACTER_PACK,
    );
  if (input.backgroundVideoPack !== undefined || template)
    body.backgroundVideoPack = slug(
      "--background-video-pack",
      input.backgroundVideoPack ?? DEFAULT_BACKGROUND_VIDEO_PACK,
      DEFAULT_BACKGROUND_VIDEO_PACK,
    );
  return { endpoint: "/api/render", body };
}

/** Asks for the prompt in a terminal (@inquirer/prompts, loaded only here), on stderr. */
export async function askPrompt(signal: AbortSignal): Promise<string> {
  const { input } = await import("@inquirer/prompts");
  try {
    return await input(
      {
        message: "What should the video explain?",
        required: true,
        validate: (v: string) => (v.trim() ? true : "Type a prompt, or press Ctrl-C to stop"),
      },
      { output: process.stderr, signal, clearPromptOnDone: false },
    );
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === "ExitPromptError" || name === "AbortPromptError")
      throw new AbortedError("Interrupted: nothing was submitted");
    throw err;
  }
}

export interface TextInput {
  videoUrl?: string;
  texts?: string[];
  fontFamily?: string;
  fontSize?: string;
  color?: string;
}

/** POST /api/render/text */
export function textSubmission(input: TextInput): RenderSubmission {
  const videoUrl = httpUrl(
    "--video-url",
    required("--video-url", input.videoUrl, "--video-url https://example.com/video.mp4"),
  );
  if (!input.texts || input.texts.length === 0)
    throw new UsageError("--text is required (at least one)", ['For example: --text "Hello@50,100"']);
  const body: TextRenderRequest = { videoUrl, textOverlays: input.texts.map(parseTextOverlay) };
  const style: NonNullable<TextRenderRequest["textStyle"]> = {};
  if (input.fontFamily !== undefined) {
    if (input.fontFamily.trim() === "") throw new UsageError("--font-family must not be empty");
    style.fontFamily = input.fontFamily.trim();
  }
  if (input.fontSize !== undefined) style.fontSize = positiveNumber("--font-size", input.fontSize);
  if (input.color !== undefined) {
    if (!COLOR.test(input.color.trim()))
      throw new UsageError(`--color expects a colour like #FF8800 (#RRGGBB), not "${input.color}"`);
    style.color = input.color.trim().toUpperCase();
  }
  if (Object.keys(style).length > 0) body.textStyle = style;
  return { endpoint: "/api/render/text", body };
}

export interface SplitInput {
  videoUrl?: string;
  position?: string;
  brollVideo?: string;
  objectFit?: string;
}

/** POST /api/render/split */
export function splitSubmission(input: SplitInput): RenderSubmission {
  const videoUrl = httpUrl(
    "--video-url",
    required("--video-url", input.videoUrl, "--video-url https://example.com/video.mp4"),
  );
  const position = oneOf(
    "--position",
    required("--position", input.position, `--position ${SPLIT_POSITIONS.join("|")}`),
    SPLIT_POSITIONS,
  );
  const body: SplitRenderRequest = { videoUrl, position };
  if (input.brollVideo !== undefined) body.brollVideo = httpUrl("--broll-video", input.brollVideo);
  if (input.objectFit !== undefined) body.objectFit = oneOf("--object-fit", input.objectFit, OBJECT_FITS);
  return { endpoint: "/api/render/split", body };
}

/**
 * `--body FILE` or `--body -` (stdin): a JSON object, sent as it is. Only its syntax and its
 * being an object are checked.
 */
export async function bodySubmission(
  endpoint: RenderEndpoint,
  source: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<RenderSubmission> {
  const where = source === "-" ? "stdin" : source;
  let text: string;
  try {
    text = source === "-" ? await readAll(stdin) : await readFile(source, "utf8");
  } catch (err) {
    throw new UsageError(`--body ${source}: cannot read it (${(err as NodeJS.ErrnoException).code ?? err})`, [
      "Pass a JSON file, or - to read the body from stdin",
    ]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--body: ${where} is not valid JSON (${(err as Error).message})`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value))
    throw new UsageError(`--body: ${where} must hold a JSON object ({...})`);
  return { endpoint, body: value as Record<string, unknown> };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** `--idempotency-key`: 1 to 255 printable ASCII characters (it travels as a header). */
export function checkIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value))
    throw new UsageError(
      `--idempotency-key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, without spaces around`,
      ["For example: --idempotency-key ci-build-1234"],
    );
  return value;
}
