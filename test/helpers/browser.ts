/**
 * A test that plays the browser over HTTP: opens the authorize URL the CLI printed, posts
 * the form on the emulator's page (Approve or Deny), and follows the redirect to the CLI's
 * loopback callback, like a browser would.
 */
import { expect } from "vitest";

export interface CallbackVisit {
  /** The callback URL the emulator redirected to (carries code or error, and state). */
  callbackUrl: URL;
  status: number;
  html: string;
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** The form fields of the emulator's authorize page (hidden inputs and the email). */
export async function readAuthorizeForm(
  authorizeUrl: string,
): Promise<{ action: string; fields: Record<string, string> }> {
  const res = await fetch(authorizeUrl, { redirect: "manual" });
  expect(res.status, "the authorize page answers 200").toBe(200);
  const html = await res.text();
  expect(html).toContain('id="approve"');
  expect(html).toContain('id="deny"');
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? "/oauth/authorize";
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*>/g)) {
    const tag = m[0];
    const name = /name="([^"]*)"/.exec(tag)?.[1];
    const value = /value="([^"]*)"/.exec(tag)?.[1];
    if (name) fields[name] = unescapeHtml(value ?? "");
  }
  return { action: new URL(unescapeHtml(action), authorizeUrl).toString(), fields };
}

/** Approves (or denies) on the authorize page and returns where the emulator redirects. */
export async function decide(authorizeUrl: string, decision: "approve" | "deny" = "approve"): Promise<URL> {
  const { action, fields } = await readAuthorizeForm(authorizeUrl);
  const res = await fetch(action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...fields, decision }).toString(),
    redirect: "manual",
  });
  expect(res.status, "the decision redirects").toBe(302);
  return new URL(res.headers.get("location")!);
}

/** Visits a URL on the CLI's callback server. */
export async function visit(url: URL | string): Promise<{ status: number; html: string }> {
  const res = await fetch(url, { redirect: "manual" });
  return { status: res.status, html: await res.text() };
}

/** The whole browser side: page, decision, redirect to the callback, final page. */
export async function playBrowser(
  authorizeUrl: string,
  decision: "approve" | "deny" = "approve",
): Promise<CallbackVisit> {
  const callbackUrl = await decide(authorizeUrl, decision);
  const { status, html } = await visit(callbackUrl);
  return { callbackUrl, status, html };
}
