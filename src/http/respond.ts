// Writes responses the way Atlas does: versioned Content-Type, envelope, pretty, error bodies
// with X-Error-Code, rate-limit headers.
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { ApiError } from './errors.js';
import { compactJson, compactJsonParts, prettyJson, prettyJsonParts } from './json.js';

export interface Presentation {
  envelope: boolean;
  pretty: boolean;
}

/** No envelope, not pretty: what a request without those query parameters gets (shared: never changed). */
export const PLAIN_PRESENTATION: Presentation = Object.freeze({ envelope: false, pretty: false });

function render(value: unknown, presentation: Presentation): string {
  return presentation.pretty ? prettyJson(value) : compactJson(value);
}

export function errorBody(error: ApiError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    detail: error.detail,
    error: error.status,
    errorCode: error.errorCode,
    parameters: error.parameters,
    reason: STATUS_CODES[error.status] ?? 'Error',
  };
  if (error.fields?.length) body['badRequestDetail'] = { fields: error.fields };
  return body;
}

export function sendError(res: ServerResponse, error: ApiError, presentation: Presentation = PLAIN_PRESENTATION, headers: Record<string, string> = {}): void {
  const body = errorBody(error);
  const text = render(presentation.envelope ? { content: body, status: error.status } : body, presentation);
  res.writeHead(error.status, {
    ...headers,
    ...error.headers,
    'Content-Type': 'application/json',
    'X-Error-Code': error.errorCode,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The whole HTTP/1.1 response for a request Node's parser refused before any handler saw it.
 * An answer to HEAD carries the headers only (RFC 9110 §9.3.2), as Node does for handled requests.
 */
export function rawErrorResponse(error: ApiError, forHead = false): string {
  const text = compactJson(errorBody(error));
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: application/json\r\nX-Error-Code: ${error.errorCode}\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${forHead ? '' : text}`;
}

/**
 * A response before it is written: its text, when it has one, goes out with the headers in one
 * write. A body that splices in stored JSON (RawJson) has parts instead: written one by one,
 * the stored bytes as they are, so that no one step encodes megabytes at once.
 */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  text?: string;
  parts?: Array<string | Uint8Array>;
}

async function textAnswer(status: number, value: unknown, contentType: string, presentation: Presentation): Promise<Answer> {
  const headers = { 'Content-Type': contentType };
  // Laid out in slices: a body may hold a 16 MB pipeline.
  if (presentation.pretty) return { status, headers, parts: await prettyJsonParts(value) };
  const parts = compactJsonParts(value);
  return parts.length === 1 ? { status, headers, text: parts[0] as string } : { status, headers, parts };
}

/** A success: 204 has no body; with envelope a body-less status becomes 200 carrying it. */
export async function successAnswer(status: number, body: unknown, contentType: string, presentation: Presentation): Promise<Answer> {
  if (presentation.envelope) {
    const isList = body !== null && typeof body === 'object' && !Array.isArray(body) && 'results' in body;
    const wrapped = isList ? { ...(body as object), status } : { content: body ?? null, status };
    return textAnswer(status === 204 ? 200 : status, wrapped, contentType, presentation);
  }
  if (status === 204 || body === undefined) return { status, headers: {} };
  return textAnswer(status, body, contentType, presentation);
}

export async function sendSuccess(res: ServerResponse, status: number, body: unknown, contentType: string, presentation: Presentation, headers: Record<string, string>): Promise<void> {
  sendAnswer(res, await successAnswer(status, body, contentType, presentation), headers);
}

export function sendAnswer(res: ServerResponse, answer: Answer, extraHeaders: Record<string, string>): void {
  if (answer.parts) {
    const length = answer.parts.reduce((n, part) => n + (typeof part === 'string' ? Buffer.byteLength(part) : part.length), 0);
    res.writeHead(answer.status, headerList(extraHeaders, answer.headers, length));
    for (const part of answer.parts) res.write(part);
    res.end();
    return;
  }
  if (answer.text === undefined) {
    res.writeHead(answer.status, headerList(extraHeaders, answer.headers));
    res.end();
    return;
  }
  res.writeHead(answer.status, headerList(extraHeaders, answer.headers, Buffer.byteLength(answer.text)));
  res.end(answer.text);
}

/**
 * Names and values in one flat list, as writeHead takes them: copying two small objects into
 * a third (a spread) was a visible part of a cached GET's CPU. The answer's own headers
 * (Content-Type) and the extra ones (rate limits) never share a name.
 */
function headerList(extra: Record<string, string>, own: Record<string, string>, contentLength?: number): Array<string | number> {
  const list: Array<string | number> = [];
  for (const name in extra) list.push(name, extra[name]!);
  for (const name in own) list.push(name, own[name]!);
  if (contentLength !== undefined) list.push('Content-Length', contentLength);
  return list;
}
