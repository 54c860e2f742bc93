// The web console: one page and its bundle (built from console/ by scripts/build-console.mjs
// into dist/console-assets), served without login like any static file. The page carries
// only what the old landing page showed (base URL, organization, project, owner public key);
// everything else the console shows it fetches through the Admin API and the emulator's
// routes with the credentials the user logs in with, so its rights are exactly a client's.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BootstrapResult } from '../domain/identity/bootstrap.js';

/** src/console and dist/console both sit two levels below the package root. */
const ASSETS_DIR = new URL('../../dist/console-assets/', import.meta.url);

const ASSETS: Record<string, { file: string; type: string }> = {
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** What the login page shows to help a person connect; nothing secret. */
export interface ConsoleServerInfo {
  baseUrl: string;
  orgId: string;
  projectId: string;
  publicKey: string;
  specPath: string;
}

const SECURITY_HEADERS = {
  // The bundle is the only script; the page may talk to this server only and may not be framed.
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** JSON inside a <script> element: `<` escaped so no value can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function consolePage(info: ConsoleServerInfo): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atlas Streams emulator console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/console/app.css">
<script type="application/json" id="server-info">${scriptJson(info)}</script>
<script type="module" src="/console/app.js"></script></head>
<body><div id="app"><noscript>The console needs JavaScript. The Admin API is at ${info.baseUrl.replace(/[&<>"']/g, '')}/api/atlas/v2.</noscript></div></body></html>
`;
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The public routes of the console: `/` and its assets. */
export function consoleRoutes(info: () => ConsoleServerInfo): Record<string, (req: IncomingMessage, res: ServerResponse) => void> {
  const cache = new Map<string, Buffer>();
  let page: string | undefined;
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
    '/': (_req, res) => send(res, 200, 'text/html; charset=utf-8', (page ??= consolePage(info()))),
  };
  for (const [path, asset] of Object.entries(ASSETS)) {
    routes[path] = (_req, res) => {
      let data = cache.get(path);
      if (!data) {
        try {
          data = readFileSync(new URL(asset.file, ASSETS_DIR));
        } catch {
          return send(res, 503, 'text/plain; charset=utf-8', 'The console is not built: run `npm run build`.\n');
        }
        cache.set(path, data);
      }
      send(res, 200, asset.type, data);
    };
  }
  return routes;
}

export function consoleInfo(url: string, bootstrap: BootstrapResult, specPath: string): ConsoleServerInfo {
  return { baseUrl: url, orgId: bootstrap.orgId, projectId: bootstrap.projectId, publicKey: bootstrap.publicKey, specPath };
}
