// Reading and answering JSON on the emulator's own routes (outside the Atlas operations),
// with the same body limits and JSON nesting checks as the API.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './body.js';
import { ApiError } from './errors.js';
import { compactJson } from './json.js';
import { JsonBody } from './json-body.js';

/** The emulator's routes take small bodies (settings, rules); a route taking a pipeline passes that operation's limit. */
const MAX_EXTENSION_BODY = 64 * 1024;

export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_EXTENSION_BODY): Promise<unknown> {
  const json = new JsonBody();
  const body = await readBody(req, { maxBytes, json });
  const parsed = json.result(body);
  if (!parsed) throw new ApiError('MALFORMED_JSON');
  return parsed.value;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = compactJson(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
