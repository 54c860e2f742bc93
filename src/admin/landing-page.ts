// GET /: what a person who opens the server in a browser needs to connect, and the served
// contract at a stable path. Nothing secret: the private key is printed once at first start.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BootstrapResult } from '../domain/identity/bootstrap.js';

/** The contract the server implements, served at this path (the file ships in the package). */
export const SPEC_PATH = '/spec/atlas-admin-v2.yaml';
const SPEC_FILE = new URL('../../spec/atlas-admin-v2-2026-08.yaml', import.meta.url);

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function landingPage(url: string, bootstrap: BootstrapResult): (req: IncomingMessage, res: ServerResponse) => void {
  const rows: Array<[string, string]> = [
    ['Admin API base URL', `${url}/api/atlas/v2`],
    ['Organization id', bootstrap.orgId],
    ['Project id', bootstrap.projectId],
    ['Owner API public key', bootstrap.publicKey],
  ];
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atlas Streams emulator</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; line-height: 1.5">
<h1>Atlas Stream Processing emulator</h1>
<p>The Atlas Administration API v2 (Streams and identity) is served here. Point the Atlas CLI,
the Go SDK, Terraform, MongoDB's MCP server or curl at the base URL below.</p>
<table>
${rows.map(([k, v]) => `<tr><th scope="row" style="text-align:left; padding-right:1rem">${escapeHtml(k)}</th><td><code>${escapeHtml(v)}</code></td></tr>`).join('\n')}
</table>
<p>The private key was printed once, when the server first started.</p>
<ul>
<li><a href="${SPEC_PATH}">The API contract (OpenAPI)</a></li>
<li><a href="/metrics">Prometheus metrics</a></li>
<li><a href="/readyz">Readiness</a></li>
</ul>
</body></html>
`;
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
    res.end(html);
  };
}

export function serveSpec(_req: IncomingMessage, res: ServerResponse): void {
  const text = readFileSync(SPEC_FILE);
  res.writeHead(200, { 'Content-Type': 'application/yaml', 'Content-Length': text.length });
  res.end(text);
}
