#!/usr/bin/env node
// BROWSER for the end-to-end login test: `gigareels login --web` runs it with the authorize
// URL as its one argument. It opens the URL in Debian's headless Chromium through
// playwright-core, clicks #approve (#deny with GIGAREELS_E2E_DECISION=deny), waits for the
// CLI's callback page and, when GIGAREELS_E2E_BROWSER_REPORT names a file, writes there what
// it saw (JSON). It never sees a key: the key goes from the emulator to the CLI directly.
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const url = process.argv[2];
const reportPath = process.env.GIGAREELS_E2E_BROWSER_REPORT;
const decision = process.env.GIGAREELS_E2E_DECISION === "deny" ? "deny" : "approve";
const report = { argv: process.argv.slice(2), decision, steps: [] };
const save = () => {
  if (reportPath) writeFileSync(reportPath, JSON.stringify(report, null, 2));
};

// A hung page must not keep the test (or Chromium) alive.
const guard = setTimeout(() => {
  report.error = "timed out after 60 s";
  save();
  process.exit(3);
}, 60_000);

let browser;
try {
  if (!url || process.argv.length !== 3) throw new Error("expected exactly one argument: the URL");
  browser = await chromium.launch({
    executablePath: process.env.GIGAREELS_E2E_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  const page = await browser.newPage();
  const first = await page.goto(url, { waitUntil: "load" });
  report.steps.push({ at: "authorize", status: first?.status(), title: await page.title() });
  await Promise.all([
    page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/, { timeout: 30_000 }),
    page.click(`#${decision}`),
  ]);
  await page.waitForLoadState("load");
  const heading = page.locator("h1");
  report.steps.push({
    at: "callback",
    origin: new URL(page.url()).origin,
    path: new URL(page.url()).pathname,
    headingId: await heading.getAttribute("id"),
    heading: await heading.textContent(),
    text: await page.locator("body").textContent(),
  });
  report.ok = true;
} catch (err) {
  report.error = String(err?.message ?? err);
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  clearTimeout(guard);
  save();
}
