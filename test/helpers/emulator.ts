/**
 * Test helpers for the local emulator: `useEmulator(options)` starts one (port 0) before the
 * file's tests and stops it after; `api()` makes authenticated requests against it.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { startEmulator } from "../../src/lib/emulator/index.js";
import type { EmulatorHandle, EmulatorOptions } from "../../src/lib/emulator/types.js";

export type { EmulatorHandle, EmulatorOptions };
export { startEmulator };

/**
 * Starts an emulator in beforeAll and stops it in afterAll. Returns a getter (the handle
 * exists only once beforeAll has run).
 */
export function useEmulator(options: EmulatorOptions = {}): () => EmulatorHandle {
  let handle: EmulatorHandle | undefined;
  beforeAll(async () => {
    handle = await startEmulator({ port: 0, renderDurationMs: 200, ...options });
  });
  afterAll(async () => {
    await handle?.stop();
  });
  return () => {
    if (!handle) throw new Error("useEmulator: the emulator is not running (call the getter inside a test)");
    return handle;
  };
}

/** Starts an emulator for one test; stop it with `await using` or `.stop()`. */
export async function withEmulator<T>(
  options: EmulatorOptions,
  fn: (emu: EmulatorHandle) => Promise<T>,
): Promise<T> {
  const emu = await startEmulator({ port: 0, renderDurationMs: 200, ...options });
  try {
    return await fn(emu);
  } finally {
    await emu.stop();
  }
}

/** fetch against the emulator with `Authorization: Bearer <key>` (the first key by default). */
export function api(
  emu: EmulatorHandle,
  path: string,
  init: RequestInit & { key?: string | null; json?: unknown } = {},
): Promise<Response> {
  const { key, json, ...rest } = init;
  const headers = new Headers(rest.headers);
  const k = key === undefined ? emu.keys[0] : key;
  if (k) headers.set("authorization", `Bearer ${k}`);
  let body = rest.body;
  if (json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(json);
  }
  return fetch(`${emu.url}${path}`, {
    ...rest,
    headers,
    body,
    method: rest.method ?? (json !== undefined ? "POST" : "GET"),
  });
}

/** POSTs a form-encoded body (the OAuth endpoints). */
export function postForm(
  emu: EmulatorHandle,
  path: string,
  fields: Record<string, string>,
): Promise<Response> {
  return fetch(`${emu.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual",
  });
}

/** A PKCE pair (RFC 7636, S256). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

/** A valid sample body for each render endpoint. */
export const SAMPLE_BODIES = {
  "/api/render": {
    type: "educational-brainrot",
    prompt: "Explain black holes",
    characterPack: "rick-and-morty",
    backgroundVideoPack: "minecraft-parkour",
  },
  "/api/render/text": {
    videoUrl: "https://example.com/video.mp4",
    textOverlays: [{ text: "Hello", position: { x: 10, y: 20 } }],
    textStyle: { fontFamily: "Inter", fontSize: 48, color: "#FFFFFF" },
  },
  "/api/render/split": { videoUrl: "https://example.com/video.mp4", position: "left" },
} as const;

/** Polls a render until done or error (the emulator's renders take `renderDurationMs`). */
export async function waitForRender(
  emu: EmulatorHandle,
  renderId: string,
  key?: string,
): Promise<Record<string, unknown>> {
  for (;;) {
    const res = await api(emu, `/api/render/status/${renderId}`, { key });
    const body = (await res.json()) as Record<string, unknown>;
    if (body.status === "done" || body.status === "error" || res.status !== 200) return body;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs the authorization-code flow by hand (approve on the page) and returns the redirect. */
export async function authorizeAndApprove(
  emu: EmulatorHandle,
  params: {
    redirectUri: string;
    state: string;
    challenge: string;
    decision?: "approve" | "deny";
    email?: string;
  },
): Promise<URL> {
  const res = await postForm(emu, "/oauth/authorize", {
    response_type: "code",
    client_id: "gigareels-cli",
    redirect_uri: params.redirectUri,
    state: params.state,
    code_challenge: params.challenge,
    code_challenge_method: "S256",
    email: params.email ?? "demo@gigareels.local",
    decision: params.decision ?? "approve",
  });
  const location = res.headers.get("location");
  if (res.status !== 302 || !location) throw new Error(`authorize answered ${res.status}`);
  return new URL(location);
}
