// One download with our downloader, in its own process so its peak RSS is its own.
// Prints {ms, bytes, maxRssBytes} as JSON. Used by bench/download/run.mjs.
// It loads what the CLI loads for a download: the downloader (ky over socket-fetch).
import { downloadFile } from "../../dist/lib/sdk/download/stream.js";

const [url, path] = process.argv.slice(2);
const t0 = performance.now();
const r = await downloadFile({ url, path, force: true });
const ms = performance.now() - t0;
process.stdout.write(
  JSON.stringify({ ms, bytes: r.bytes, maxRssBytes: process.resourceUsage().maxRSS * 1024 }),
);
