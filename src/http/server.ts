// The request pipeline, in Atlas's order: authenticate, route, negotiate the version,
// check parameters, then (in one store transaction) authorize, validate the body and run
// the handler. Every failure becomes an Atlas error body; nothing escapes as a crash.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { matchRoute, type RouteMatch } from '../protocol/router.js';
import { parseQuery, validateBody, validatePathParams, type QueryValues } from '../protocol/validate.js';
import type { OperationSpec } from '../protocol/operation-spec.js';
import { normalizeAddress } from './auth/access-list.js';
import { authenticate, AuthenticationRequired } from './auth/authenticate.js';
import { challengeHeader, CHALLENGE_BODY } from './auth/digest.js';
import { makeNonce } from './auth/digest-nonce.js';
import { handleOAuth } from './auth/oauth.js';
import { authorize, type Scope } from './authorize.js';
import { bodyLimitOf, ClientGone, MAX_OTHER_BODY_BYTES, readBody } from './body.js';
import type { CompletedCall, HandlerResult, HandlerTable, OwnAuthRoutes, RouteExtension, Services } from './context.js';
import { ApiError } from './errors.js';
import { JsonBody } from './json-body.js';
import { OperationContext } from './operation-context.js';
import { andThen, attempt, type MaybePromise } from './maybe-promise.js';
import { isLingering } from './lingering-close.js';
import { RateLimiter } from './rate-limit.js';
import { withTransactionTasks } from './transaction.js';
import { PLAIN_PRESENTATION, rawErrorResponse, sendAnswer, sendError, successAnswer, type Answer, type Presentation } from './respond.js';
import { ResponseCache } from './response-cache.js';
import { isJsonBodyType, negotiateVersion } from './versions.js';
import type { Principal } from './principal.js';

const API_PREFIX = '/api/atlas/v2';
const UNAUTHENTICATED_PREFIX = `${API_PREFIX}/unauth/`;

export interface ApiServerOptions {
  services: Services;
  handlers: HandlerTable;
  rateLimiter: RateLimiter;
  /** Answers readiness probes; false while starting or draining. */
  isReady: () => boolean;
  /** Told of every authenticated API call after its response (the Streams audit trail). */
  onCallCompleted?: (call: CompletedCall) => void;
  extensions?: RouteExtension[];
  /** Routes that authenticate their callers themselves (the console's database-user sessions); checked before `extensions`. */
  ownAuthRoutes?: OwnAuthRoutes;
  /**
   * Work on a large body (one parsed as it arrived) done before the operation's store
   * transaction, so that it holds up no other client's store access: the JSON text of a
   * 16 MB pipeline (pipeline-blobs.ts). The body is not validated yet; the caller is authenticated.
   */
  prepareLargeBody?: (operationId: string, body: unknown) => Promise<void>;
  /** Runs before each authenticated Atlas operation; may wait or throw an ApiError (fault injection). Undefined: nothing to wait for. */
  beforeOperation?: (operationId: string, method: string, path: string) => MaybePromise<void>;
  /**
   * Operations (GET) whose answer depends on the store and the request alone: their serialized
   * answers are reused while the store is unchanged (see response-cache.ts).
   */
  storeOnlyReads?: readonly string[];
  /** False while something besides the store shapes those answers (a lifecycle transition's state). */
  storeAloneNow?: () => boolean;
  /** Exact paths answered without authentication (metrics, the console, the spec). */
  publicRoutes?: Readonly<Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void> | void>>;
}

/** Requests Node's HTTP parser refuses (oversized headers, garbage) still get an Atlas error. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const apiError = error.code === 'HPE_HEADER_OVERFLOW' ? new ApiError('HEADERS_TOO_LARGE')
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new ApiError('REQUEST_TIMEOUT') : new ApiError('UNPARSEABLE_REQUEST');
  // The parser gave up, so the method is known only from the bytes it was reading.
  const rawPacket = (error as { rawPacket?: Buffer }).rawPacket;
  socket.end(rawErrorResponse(apiError, rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD '));
}

/** An Expect header other than 100-continue: Node would answer a bare 417 of its own. */
export function answerUnmetExpectation(req: IncomingMessage, res: ServerResponse): void {
  sendError(res, new ApiError('EXPECTATION_FAILED', [req.headers.expect]));
}

/** What every request to one server shares: its options and its cache of answers. */
interface Api {
  options: ApiServerOptions;
  cache: ResponseCache;
}

export function createRequestHandler(options: ApiServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const api: Api = { options, cache: new ResponseCache(options.services.store, new Set(options.storeOnlyReads ?? [])) };
  return (req, res) => {
    if (isLingering(req.socket)) {
      req.socket.destroy();
      return;
    }
    let x: Exchange;
    try {
      x = new Exchange(api, req, res);
    } catch (error) {
      answerFailure(error, { api, req, res });
      return;
    }
    void attempt(handle, answerFailure, x);
    // Most answers (a cached GET, an error) are written before handle returns: their call is
    // recorded now, without a 'finish' listener (a closure, and a listener list Node then copies
    // at every emit). The rest are recorded once their response is written.
    if (res.writableEnded) recordCall(x);
    else res.on('finish', () => recordCall(x));
  };
}

/** A request the pipeline could not answer: the client went away mid-body, or a bug (a 500). */
function answerFailure(error: unknown, { api: { options }, req, res }: Pick<Exchange, 'api' | 'req' | 'res'>): void {
  if (error instanceof ClientGone) {
    options.services.log.info({ method: req.method, path: req.url }, 'the client went away before its request was read');
    res.destroy();
    return;
  }
  options.services.log.error({ err: error }, 'request failed unexpectedly');
  if (!res.headersSent) sendError(res, new ApiError('UNEXPECTED_ERROR'));
  else res.destroy();
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
  const pathEnd = queryAt < 0 ? raw.length : queryAt;
  const doubled = raw.indexOf('//');
  const target = doubled < 0 || doubled >= pathEnd ? raw : raw.slice(0, pathEnd).replace(/\/{2,}/g, '/') + raw.slice(pathEnd);
  try {
    return new URL(target, base);
  } catch {
    return new URL(target, 'http://localhost');
  }
}

/**
 * Characters that new URL() keeps as they are in a path (no "%", so no encoded dot segment)
 * and in a query: a target made of them alone, with no dot segment and no "//", has the
 * pathname and search new URL() would give, read off it without parsing a URL (a few µs a
 * request, most of them spent on what is then thrown away).
 */
const PLAIN_TARGET = /^\/[\w\-.~!$&()*+,;=:@/]*(?:\?[\w\-.~!$&()*+,;=:@/?%]*)?$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** The path and query of a plain target; undefined when only new URL() can say. */
function plainTarget(raw: string): { path: string; search: string } | undefined {
  if (!PLAIN_TARGET.test(raw)) return undefined;
  const queryAt = raw.indexOf('?');
  const path = queryAt < 0 ? raw : raw.slice(0, queryAt);
  if (path.includes('//') || DOT_SEGMENT.test(path)) return undefined;
  return { path, search: queryAt < 0 ? '' : raw.slice(queryAt + 1) };
}

/** One request and what the pipeline has learnt about it so far. */
class Exchange {
  // performance.now(), a double: hrtime.bigint() allocates a BigInt at each end of every request.
  readonly started = performance.now();
  readonly clientIp: string;
  readonly path: string;
  readonly presentation: Presentation;
  principal?: Principal;
  /** The Admin API route matched, for an Admin API call. */
  route?: RouteMatch;
  params?: Record<string, string>;
  /** Set when the call was refused for want of a role. */
  requiredRoles?: readonly string[];
  private requestLog?: Logger;
  private parsedUrl?: URL;
  private readonly search?: string;

  constructor(readonly api: Api, readonly req: IncomingMessage, readonly res: ServerResponse) {
    this.clientIp = normalizeAddress(req.socket.remoteAddress);
    const plain = plainTarget(req.url ?? '/');
    if (plain) {
      this.path = plain.path;
      this.search = plain.search;
    } else {
      this.path = this.url.pathname;
    }
    this.presentation = this.search === '' ? PLAIN_PRESENTATION : presentationOf(this.searchParams);
  }

  /** The operation of the route matched, once one was. */
  get operation(): OperationSpec | undefined {
    return this.route?.kind === 'found' ? this.route.operation : undefined;
  }

  /** The absolute URL (scheme and host as the caller used them), made on first use. */
  get url(): URL {
    this.parsedUrl ??= requestUrl(this.req);
    return this.parsedUrl;
  }

  /** False when a plain target has an empty query or none: its search parameters are known to be empty. */
  get hasQuery(): boolean {
    return this.search !== '';
  }

  get searchParams(): URLSearchParams {
    return this.search === undefined ? this.url.searchParams : new URLSearchParams(this.search);
  }

  /** Made on first use: most requests log nothing, and a child logger per request is not free. */
  get log(): Logger {
    this.requestLog ??= this.api.options.services.log.child({ reqId: (this.req.headers['x-request-id'] as string | undefined) ?? randomUUID() });
    return this.requestLog;
  }
}

/** Probes and public routes, then everything else in route(), whose Atlas errors become Atlas error bodies. */
function handle(x: Exchange): MaybePromise<void> {
  const { api, req, res } = x;
  if (x.path === '/readyz' || x.path === '/healthz') return answerProbe(res, x.path === '/healthz' || api.options.isReady());
  const publicRoute = api.options.publicRoutes?.[x.path];
  if (publicRoute && (req.method === 'GET' || req.method === 'HEAD')) return publicRoute(req, res);
  return attempt(route, answerApiError, x);
}

/** Once the response is written: the request log line, and the call for the audit trail. */
function recordCall(x: Exchange): void {
  const { options } = x.api;
  const { principal, operation, params, req, res } = x;
  const durationMs = performance.now() - x.started;
  if (options.services.log.isLevelEnabled('info')) {
    x.log.info({ method: req.method, path: x.path, status: res.statusCode, operationId: operation?.operationId, principal: principal?.label,
      ms: durationMs }, 'request');
  }
  if (principal && operation && params && options.onCallCompleted) {
    options.onCallCompleted({ principal: principal.label, operationId: operation.operationId, method: req.method ?? '',
      path: x.path, status: res.statusCode, params, durationMs, at: Date.now(), requiredRoles: x.requiredRoles });
  }
}

/** OAuth, the routes that authenticate their own callers, extensions, then the Admin API. */
function route(x: Exchange): MaybePromise<void> {
  const { options } = x.api;
  if (x.path.startsWith('/api/oauth/')) return answerOAuth(x);
  if (options.ownAuthRoutes && x.path.startsWith(options.ownAuthRoutes.prefix)) {
    return options.ownAuthRoutes.handle({ req: x.req, res: x.res, path: x.path, services: options.services, log: x.log });
  }
  const extension = extensionFor(options.extensions, x.path);
  if (extension) return answerExtension(x, extension);
  if (!x.path.startsWith(API_PREFIX)) throw new ApiError('RESOURCE_NOT_FOUND', [x.path]);
  return handleApi(x);
}

/** A loop rather than find(): a callback made per request costs more than the search. */
function extensionFor(extensions: readonly RouteExtension[] | undefined, path: string): RouteExtension | undefined {
  for (const extension of extensions ?? []) if (path.startsWith(extension.prefix)) return extension;
  return undefined;
}

async function answerOAuth(x: Exchange): Promise<void> {
  const body = await readBody(x.req, { maxBytes: MAX_OTHER_BODY_BYTES });
  return handleOAuth(x.path, x.req, x.res, body.toString('utf8'), x.clientIp, x.api.options.services);
}

async function answerExtension(x: Exchange, extension: RouteExtension): Promise<void> {
  if (await authenticated(x)) await extension.handle({ req: x.req, res: x.res, path: x.path, principal: x.principal!, services: x.api.options.services, log: x.log });
}

/** An ApiError becomes its Atlas error body; anything else is the caller's. */
function answerApiError(error: unknown, x: Exchange): void {
  if (!(error instanceof ApiError)) throw error;
  x.requiredRoles = error.requiredRoles;
  x.req.resume();
  sendError(x.res, error, x.presentation);
}

export function answerProbe(res: ServerResponse, ready: boolean): void {
  const text = JSON.stringify({ status: ready ? 'ok' : 'starting' });
  res.writeHead(ready ? 200 : 503, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Sets the principal, or answers the Digest challenge and returns false. A caller whose
 * credentials need nothing from the store (authenticate.ts) is answered at once, without a
 * promise to make and await.
 */
function authenticated(x: Exchange): MaybePromise<boolean> {
  // Every Digest call's first leg comes without credentials: it is answered without building
  // an AuthenticationRequired, whose stack trace costs more than the rest of the answer.
  if (!x.req.headers.authorization) return refused(x, 'no credentials', false);
  // The credential and answer caches are kept by the store's generations: on a shared
  // database they first take in what other nodes wrote.
  return andThen(x.api.options.services.store.catchUp(), authenticatedNow, x);
}

function authenticatedNow(_caughtUp: void, x: Exchange): MaybePromise<boolean> {
  return attempt(authenticateCaller, refusedFor, x);
}

function authenticateCaller(x: Exchange): MaybePromise<boolean> {
  const { services } = x.api.options;
  return andThen(authenticate(x.req, services, x.clientIp, services.now()), admit, x);
}

function admit(principal: Principal, x: Exchange): true {
  x.principal = principal;
  return true;
}

/** Answers the challenge for an AuthenticationRequired; any other error is the caller's to answer. */
function refusedFor(error: unknown, x: Exchange): false {
  if (!(error instanceof AuthenticationRequired)) throw error;
  return refused(x, error.reason, error.stale);
}

/** Answers the Digest challenge; returns false. */
function refused(x: Exchange, reason: string, stale: boolean): false {
  const { services } = x.api.options;
  // Only make the request's logger when it will write.
  if (services.log.isLevelEnabled('info')) x.log.info({ reason }, 'authentication required');
  x.req.resume();
  challenge(x.res, services, stale);
  return false;
}

/**
 * An Atlas Admin API call: authenticate, route, the fault hook, then checkedCall. Each step
 * that usually answers at once (maybe-promise.ts) is waited for only when it did not.
 */
function handleApi(x: Exchange): MaybePromise<void> {
  x.route = matchRoute(x.req.method ?? 'GET', x.path);
  const anonymous = x.path.startsWith(UNAUTHENTICATED_PREFIX);
  return andThen(anonymous || authenticated(x), routeAdmitted, x);
}

/** The matched route for an admitted caller: the fault hook, then checkedCall; an Atlas error when nothing matched. */
function routeAdmitted(admitted: boolean, x: Exchange): MaybePromise<void> {
  if (!admitted) return undefined;
  const { req, path, route } = x;
  if (!route || route.kind === 'not-found') throw new ApiError('RESOURCE_NOT_FOUND', [path]);
  if (route.kind === 'method-not-allowed') {
    x.res.setHeader('Allow', route.allowed.join(', '));
    throw new ApiError('METHOD_NOT_ALLOWED', [req.method, path]);
  }
  x.params = route.params;
  return andThen(x.api.options.beforeOperation?.(route.operation.operationId, req.method ?? 'GET', path), checkedCall, x);
}

/**
 * Everything up to the store (version, parameters, body, rate limit), then the cached answer or
 * runOperation. The body is waited for only when the request has one.
 */
function checkedCall(_hookDone: void, x: Exchange): MaybePromise<void> {
  const op = x.operation!;
  const params = x.params!;
  const { version, contentType } = negotiateVersion(x.req.headers.accept, op.versions, op.format);
  // A remembered route match's params are shared and frozen: valid once, valid every time.
  if (!validPathParams.has(params)) {
    validatePathParams(op, params);
    validPathParams.add(params);
  }
  const query = x.hasQuery ? parseQuery(op, x.searchParams) : queryWithoutParameters(op);
  const call: CheckedCall = { x, op, params, version, contentType, query, rawBody: EMPTY, rateHeaders: NO_RATE_HEADERS };
  return andThen(hasBody(x.req) ? withBody(call) : call, counted);
}

/** The call with its body read (and followed as JSON when it is JSON). */
async function withBody(call: CheckedCall): Promise<CheckedCall> {
  const { req } = call.x;
  const json = isJsonBodyType(req.headers['content-type']) ? new JsonBody(Number(req.headers['content-length'])) : undefined;
  return { ...call, json, rawBody: await readBody(req, { maxBytes: bodyLimitOf(call.op.operationId), json }) };
}

/** Counts the call against its caller's rate limit, then answers it. */
function counted(call: CheckedCall): MaybePromise<void> {
  const { x, op } = call;
  return andThen(x.principal ? x.api.options.rateLimiter.take(x.principal.id, op) : NO_RATE_HEADERS, answerCall, call);
}

/** The cached answer when there is one, else runOperation's. */
function answerCall(rateHeaders: Record<string, string>, call: CheckedCall): MaybePromise<void> {
  call.rateHeaders = rateHeaders;
  const { x, op } = call;
  const { options, cache } = x.api;
  const cacheKey = x.principal && (options.storeAloneNow?.() ?? true) && cache.keyOf(op.operationId, op.method, x.principal.id, x.req.headers.host ?? '', x.req.url ?? '', call.contentType);
  const cached = cacheKey && cache.get(cacheKey);
  if (cached) return sendAnswer(x.res, cached, rateHeaders);
  return answerFromStore(call, cacheKey);
}

/** runOperation, after the work on a large body; its answer is remembered under cacheKey when there is one. */
async function answerFromStore(call: CheckedCall, cacheKey: string | false | undefined): Promise<void> {
  const { x, op, json } = call;
  const { options, cache } = x.api;
  if (options.prepareLargeBody && json?.parsing) await options.prepareLargeBody(op.operationId, parsedOrUndefined(json));
  const answer = await runOperation(options, x, call);
  if (cacheKey && answer) cache.set(cacheKey, answer.generation, answer);
}

/** An anonymous call counts against no one's rate limit. */
const NO_RATE_HEADERS: Record<string, string> = Object.freeze({});

const validPathParams = new WeakSet<Record<string, string>>();
const queryDefaults = new WeakMap<OperationSpec, QueryValues>();

/** An operation's query values for a target without a query: its defaults, the same every time (handlers only read them). */
function queryWithoutParameters(op: OperationSpec): QueryValues {
  let query = queryDefaults.get(op);
  if (!query) queryDefaults.set(op, (query = Object.freeze(parseQuery(op, new URLSearchParams()))));
  return query;
}

/** The body's value, or undefined when it is not JSON: parseBody refuses it later, in its turn. */
function parsedOrUndefined(json: JsonBody): unknown {
  try {
    return json.result(EMPTY)?.value;
  } catch {
    return undefined;
  }
}

interface CheckedCall {
  x: Exchange;
  op: OperationSpec;
  params: Record<string, string>;
  version: string;
  contentType: string;
  query: QueryValues;
  rawBody: Buffer;
  /** Set when the body is JSON: it was followed (and, when large, parsed) as it was read. */
  json?: JsonBody;
  /** Set once the call is counted against its caller's rate limit. */
  rateHeaders: Record<string, string>;
}

/**
 * In one store transaction (a read view for GET): authorize, validate the body, run the handler;
 * then respond. Returns the JSON answer sent and the store generation it was read at.
 */
async function runOperation(options: ApiServerOptions, x: Exchange, call: CheckedCall): Promise<(Answer & { generation: number }) | undefined> {
  const { services } = options;
  const { op, params, version } = call;
  let generation = 0;
  // Reads need no write lock: a GET sees committed state and changes nothing.
  const inStore = op.method === 'GET' ? services.store.read.bind(services.store) : services.store.transaction.bind(services.store);
  const result = await withTransactionTasks<HandlerResult>(inStore, async (tx, tasks) => {
    generation = services.store.generation();
    const scope = x.principal ? await authorize(op, params, x.principal, tx, () => x.log) : NO_SCOPE;
    const body = parseBody(op, version, call, x.req.headers['content-type'], params);
    const handler = options.handlers[op.operationId as keyof HandlerTable];
    if (!handler) throw new ApiError('RESOURCE_NOT_FOUND', [x.path]);
    return handler(new OperationContext(x, x.clientIp, op, version, params, call.query, body, x.principal ?? anonymousPrincipal, tx, services, scope, tasks));
  });
  const status = result.status ?? op.successStatus;
  if (result.raw) {
    x.res.writeHead(status, { ...call.rateHeaders, ...result.raw.headers, 'Content-Length': result.raw.data.length });
    x.res.end(result.raw.data);
    return undefined;
  }
  const answer = await successAnswer(status, result.body, call.contentType, x.presentation);
  sendAnswer(x.res, answer, call.rateHeaders);
  return { ...answer, generation };
}

const NO_SCOPE: Scope = Object.freeze({});

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

function parseBody(op: OperationSpec, version: string, { rawBody, json }: CheckedCall, contentType: string | undefined, params: Record<string, string>): unknown {
  const spec = op.requestBody;
  if (!spec) return undefined;
  if (!json && rawBody.toString('utf8').trim() !== '') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', [contentType]);
  // A blank body and `null` are no body at all, whatever a schema's `nullable` says: handlers read fields off it.
  const body = json?.result(rawBody)?.value ?? null;
  if (body === null) {
    if (spec.required) throw new ApiError('MISSING_ATTRIBUTE', ['body']);
    return undefined;
  }
  const schema = spec.schemas[version] ?? Object.values(spec.schemas)[0];
  if (schema) validateBody(schema, body, { pathParams: params });
  return body;
}
