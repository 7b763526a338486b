/** The small page the browser shows after the callback. Everything interpolated is escaped. */

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export interface ResultPage {
  ok: boolean;
  title: string;
  message: string;
}

export function renderResultPage(page: ResultPage): string {
  const colour = page.ok ? "#0a7d32" : "#b00020";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GigaReels CLI: ${escapeHtml(page.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}h1{color:${colour}}</style>
</head>
<body>
<h1 id="${page.ok ? "login-ok" : "login-failed"}">${escapeHtml(page.title)}</h1>
<p>${escapeHtml(page.message)}</p>
<p>You can close this tab and return to your terminal.</p>
</body>
</html>
`;
}
