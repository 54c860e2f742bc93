// The contract the server implements, served at a stable path without authentication (the
// file ships in the package).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const SPEC_PATH = '/spec/atlas-admin-v2.yaml';
const SPEC_FILE = new URL('../../spec/atlas-admin-v2-2026-08.yaml', import.meta.url);

export function serveSpec(_req: IncomingMessage, res: ServerResponse): void {
  const text = readFileSync(SPEC_FILE);
  res.writeHead(200, { 'Content-Type': 'application/yaml', 'Content-Length': text.length });
  res.end(text);
}
