// The request pipeline, in Atlas's order: authenticate, route, negotiate the version,
// check parameters, then (in one store transaction) authorize, validate the body and run
// the handler. Every failure becomes an Atlas error body; nothing escapes as a crash.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { matchRoute } from '../protocol/router.js';
import { parseQuery, validateBody, validatePathParams } from '../protocol/validate.js';
import type { OperationSpec } from '../protocol/operation-spec.js';
import { normalizeAddress } from './auth/access-list.js';
import { authenticate, AuthenticationRequired } from './auth/authenticate.js';
import { challengeHeader, CHALLENGE_BODY, makeNonce } from './auth/digest.js';
import { handleOAuth } from './auth/oauth.js';
import { authorize } from './authorize.js';
import type { CompletedCall, HandlerTable, RequestContext, RouteExtension, Services } from './context.js';
import { ApiError } from './errors.js';
import { RateLimiter } from './rate-limit.js';
import { rawErrorResponse, sendError, sendSuccess, type Presentation } from './respond.js';
import { isJsonBodyType, negotiateVersion } from './versions.js';
import type { Principal } from './principal.js';

const API_PREFIX = '/api/atlas/v2';
/** A processor definition may be 16 MB; leave room for the envelope around it. */
const MAX_BODY_BYTES = 17 * 1024 * 1024;

export interface ApiServerOptions {
  services: Services;
  handlers: HandlerTable;
  rateLimiter: RateLimiter;
  /** Answers readiness probes; false while starting or draining. */
  isReady: () => boolean;
  /** Told of every authenticated API call after its response (the Streams audit trail). */
  onCallCompleted?: (call: CompletedCall) => void;
  extensions?: RouteExtension[];
}

/** Requests Node's HTTP parser refuses (oversized headers, garbage) still get an Atlas error. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const apiError = error.code === 'HPE_HEADER_OVERFLOW' ? new ApiError('HEADERS_TOO_LARGE') : new ApiError('UNPARSEABLE_REQUEST');
  socket.end(rawErrorResponse(apiError));
}

export function createRequestHandler(options: ApiServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      options.services.log.error({ err: error }, 'request failed unexpectedly');
      if (!res.headersSent) sendError(res, new ApiError('UNEXPECTED_ERROR'));
      else res.destroy();
    });
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError('BODY_TOO_LARGE', [MAX_BODY_BYTES]));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const EMPTY = Buffer.alloc(0);

/** A request without Content-Length or Transfer-Encoding has no body to wait for. */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

function presentationOf(search: URLSearchParams): Presentation {
  return { envelope: search.get('envelope') === 'true', pretty: search.get('pretty') === 'true' };
}

function requestUrl(req: IncomingMessage): URL {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  const base = `${secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
  // Clients that join a base URL ending in "/" with "/api/..." send "//api/...": read it as
  // one path (a leading "//" would otherwise parse as a host).
  const raw = req.url ?? '/';
  const queryAt = raw.indexOf('?');
  const target = queryAt < 0 ? raw.replace(/\/{2,}/g, '/') : raw.slice(0, queryAt).replace(/\/{2,}/g, '/') + raw.slice(queryAt);
  try {
    return new URL(target, base);
  } catch {
    return new URL(target, 'http://localhost');
  }
}

async function handle(options: ApiServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { services } = options;
  const started = process.hrtime.bigint();
  const url = requestUrl(req);
  const path = url.pathname;
  const clientIp = normalizeAddress(req.socket.remoteAddress);
  const log = services.log.child({ reqId: (req.headers['x-request-id'] as string | undefined) ?? randomUUID() });
  const presentation = presentationOf(url.searchParams);
  let principal: Principal | undefined;
  let operation: OperationSpec | undefined;
  let params: Record<string, string> | undefined;
  res.on('finish', () => {
    if (log.isLevelEnabled('info')) {
      log.info({ method: req.method, path, status: res.statusCode, operationId: operation?.operationId, principal: principal?.label,
        ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    }
    if (principal && operation && params && options.onCallCompleted) {
      options.onCallCompleted({ principal: principal.label, operationId: operation.operationId, method: req.method ?? '',
        path, status: res.statusCode, params });
    }
  });
  /** Sets principal, or answers the Digest challenge and returns false. */
  const authenticated = async (): Promise<boolean> => {
    try {
      principal = await authenticate(req, services.store, services.signingKey, clientIp, services.now());
      return true;
    } catch (error) {
      if (!(error instanceof AuthenticationRequired)) throw error;
      log.info({ reason: error.reason }, 'authentication required');
      req.resume();
      challenge(res, services, error.stale);
      return false;
    }
  };

  if (path === '/readyz' || path === '/healthz') {
    const ready = path === '/healthz' || options.isReady();
    const text = JSON.stringify({ status: ready ? 'ok' : 'starting' });
    res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }

  try {
    if (path.startsWith('/api/oauth/')) {
      const body = await readBody(req);
      await handleOAuth(path, req, res, body.toString('utf8'), clientIp, services);
      return;
    }
    const extension = options.extensions?.find((e) => path.startsWith(e.prefix));
    if (extension) {
      if (await authenticated()) await extension.handle({ req, res, path, principal: principal!, services, log });
      return;
    }
    if (!path.startsWith(API_PREFIX)) throw new ApiError('RESOURCE_NOT_FOUND', [path]);

    const route = matchRoute(req.method ?? 'GET', path);
    operation = route.kind === 'found' ? route.operation : undefined;
    const anonymous = path.startsWith(`${API_PREFIX}/unauth/`);
    if (!anonymous && !(await authenticated())) return;
    if (route.kind === 'not-found') throw new ApiError('RESOURCE_NOT_FOUND', [path]);
    if (route.kind === 'method-not-allowed') {
      res.setHeader('Allow', route.allowed.join(', '));
      throw new ApiError('METHOD_NOT_ALLOWED', [req.method, path]);
    }
    const op = route.operation;
    params = route.params;
    const { version, contentType } = negotiateVersion(req.headers.accept, op.versions, op.format);
    validatePathParams(op, route.params);
    const query = parseQuery(op, url.searchParams);
    const rawBody = hasBody(req) ? await readBody(req) : EMPTY;
    const rateHeaders = principal ? options.rateLimiter.take(principal.id, op) : {};

    const afterCommit: Array<() => Promise<void>> = [];
    // Reads need no write lock: a GET sees committed state and changes nothing.
    const inStore = op.method === 'GET' ? services.store.read.bind(services.store) : services.store.transaction.bind(services.store);
    const result = await inStore(async (tx) => {
      const scope = principal ? await authorize(op, route.params, principal, tx, log) : {};
      const body = parseBody(op, version, rawBody, req.headers['content-type'], route.params);
      const handler = options.handlers[op.operationId as keyof HandlerTable];
      if (!handler) throw new ApiError('RESOURCE_NOT_FOUND', [path]);
      const ctx: RequestContext = {
        operation: op, version, params: route.params, query, body, principal: principal ?? anonymousPrincipal, tx, services,
        ...scope, url, clientIp, log, afterCommit: (task) => afterCommit.push(task),
      };
      return handler(ctx);
    });
    for (const task of afterCommit) await task();
    const status = result.status ?? op.successStatus;
    if (result.raw) {
      res.writeHead(status, { ...rateHeaders, ...result.raw.headers, 'Content-Length': result.raw.data.length });
      res.end(result.raw.data);
      return;
    }
    sendSuccess(res, status, result.body, contentType, presentation, rateHeaders);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    req.resume();
    sendError(res, error, presentation);
  }
}

const anonymousPrincipal: Principal = {
  type: 'apiKey', id: '', label: 'anonymous', orgId: '', orgRoles: new Set(), projectRoles: new Map(),
};

function challenge(res: ServerResponse, services: Services, stale: boolean): void {
  const nonce = makeNonce(services.signingKey, services.now().getTime());
  res.writeHead(401, {
    'WWW-Authenticate': challengeHeader(nonce, stale),
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(CHALLENGE_BODY),
  });
  res.end(CHALLENGE_BODY);
}

function parseBody(op: OperationSpec, version: string, raw: Buffer, contentType: string | undefined, params: Record<string, string>): unknown {
  const spec = op.requestBody;
  const text = raw.toString('utf8');
  if (!spec) return undefined;
  if (text.trim() === '') {
    if (spec.required) throw new ApiError('MISSING_ATTRIBUTE', ['body']);
    return undefined;
  }
  if (!isJsonBodyType(contentType)) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', [contentType]);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError('MALFORMED_JSON');
  }
  const schema = spec.schemas[version] ?? Object.values(spec.schemas)[0];
  if (schema) validateBody(schema, body, { pathParams: params });
  return body;
}
