// $https (sp-agg-https): one request per document to an Https connection's url. The body
// is the `payload` pipeline's output, or the whole document without one. A 2xx JSON
// response is stored under `as` (an empty body leaves it unset); a response that is not
// JSON, and statuses 400, 404, 410, 413, 414 and 431, follow onError (dlq | ignore | fail);
// any other status, or an endpoint that stays unreachable, fails the processor. Each
// passing document gets `_stream_meta.https` ({$meta: "stream.https"}).
import { EJSON } from 'bson';
import { PipelineError, type ConnectionDefinition } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { bsonTypeName, isPlainObject, type Doc, type Evaluate, type Value } from '../expressions/values.js';
import type { EngineSettings } from '../runtime/environment.js';
import { withRetries } from '../runtime/retry.js';
import { ProcessorFailure, type Operator, type StageContext } from './operator.js';
import { compilePayload, requestBody } from './payload.js';

const ON_ERROR_STATUSES = new Set([400, 404, 410, 413, 414, 431]);
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_CONTENT_TYPE = /^application\/([\w.+-]+\+)?json\b/i;
const CONCURRENCY = 16;

interface HttpsConfig {
  url: URL;
  method: string;
  path: Evaluate | undefined;
  headers: Array<[string, Evaluate]>;
  parameters: Array<[string, Evaluate]>;
  payload: Operator[];
  as: string;
  onError: 'dlq' | 'ignore' | 'fail';
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  ca: string[] | undefined;
}

import { sendRequest, type Response } from './http-client.js';

export function createHttpsStage(spec: Doc, connection: ConnectionDefinition, ctx: StageContext, settings: EngineSettings): Operator {
  const config = parseConfig(spec, connection, ctx, settings);
  return {
    name: '$https',
    async process(docs) {
      const out: Array<Doc | undefined> = new Array(docs.length);
      for (let i = 0; i < docs.length; i += CONCURRENCY) {
        await Promise.all(docs.slice(i, i + CONCURRENCY).map(async (doc, j) => { out[i + j] = await call(config, ctx, doc); }));
      }
      return out.filter((d): d is Doc => d !== undefined);
    },
  };
}

function parseConfig(spec: Doc, connection: ConnectionDefinition, ctx: StageContext, settings: EngineSettings): HttpsConfig {
  if (typeof connection['url'] !== 'string') throw new PipelineError(`Https connection ${connection.name} has no url`);
  if (typeof spec['as'] !== 'string' || spec['as'] === '') throw new PipelineError('$https.as must be a field name');
  const onError = spec['onError'] ?? 'dlq';
  if (!['dlq', 'ignore', 'fail'].includes(onError as string)) throw new PipelineError('$https.onError must be "dlq", "ignore" or "fail"');
  const config = (spec['config'] ?? {}) as Doc;
  const method = String(spec['method'] ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) throw new PipelineError(`$https.method must be one of ${[...METHODS].join(', ')}, not ${String(spec['method'])}`);
  const expressions = (o: Value): Array<[string, Evaluate]> => (isPlainObject(o) ? Object.entries(o).map(([k, v]) => [k, compileExpression(v)]) : []);
  const payload = compilePayload('$https', spec['payload'], ctx);
  return {
    url: new URL(connection['url']),
    method,
    path: spec['path'] === undefined ? undefined : compileExpression(spec['path']),
    headers: [...expressions(connection['headers']), ...expressions(spec['headers'])],
    parameters: expressions(spec['parameters']),
    payload,
    as: spec['as'],
    onError: onError as HttpsConfig['onError'],
    connectionTimeoutMs: ((config['connectionTimeoutSec'] as number | undefined) ?? 30) * 1000,
    requestTimeoutMs: ((config['requestTimeoutSec'] as number | undefined) ?? 60) * 1000,
    ca: settings.extraCaCertificates,
  };
}

async function call(config: HttpsConfig, ctx: StageContext, doc: Doc): Promise<Doc | undefined> {
  let url: URL;
  let body: string | undefined;
  let headers: Record<string, string>;
  try {
    url = new URL(config.url);
    if (config.path) url.pathname = joinPath(url.pathname, String(config.path(doc)));
    for (const [name, evaluate] of config.parameters) url.searchParams.set(name, String(evaluate(doc)));
    headers = {};
    for (const [name, evaluate] of config.headers) {
      const value = evaluate(doc);
      // Header values must be strings: anything else goes to the DLQ before any request.
      if (typeof value !== 'string') throw new Error(`$https header '${name}' must evaluate to a string, found ${bsonTypeName(value)}`);
      headers[name] = value;
    }
    body = await requestBody(config.payload, doc);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  } catch (error) {
    ctx.deadLetter(doc, (error as Error).message);
    return undefined;
  }
  const response = await withRetries(`$https request to ${config.url.host}`, async () => {
    const r = await sendRequest(url, { method: config.method, headers, body, connectionTimeoutMs: config.connectionTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, ca: config.ca });
    // Statuses outside the onError list fail the processor, but 5xx may be transient: retry those first.
    if (r.status >= 500) throw new Error(`HTTP status ${r.status}`);
    return r;
  });
  const passed = withHttpsMeta(doc, url, config.method, response);
  let reason: string;
  if (response.status >= 200 && response.status < 300) {
    if (response.body === '') return passed;
    if (JSON_CONTENT_TYPE.test(response.contentType)) {
      try {
        return { ...passed, [config.as]: EJSON.parse(response.body, { relaxed: true }) };
      } catch {
        reason = 'Response body is not valid JSON';
      }
    } else {
      reason = `Response Content-Type '${response.contentType}' is not application/json`;
    }
  } else {
    reason = `Request failed with HTTP status ${response.status}`;
    if (!ON_ERROR_STATUSES.has(response.status)) throw new ProcessorFailure(`$https request to ${config.url.host} failed: ${reason}`);
  }
  if (config.onError === 'fail') throw new ProcessorFailure(`$https request to ${config.url.host} failed: ${reason}`);
  if (config.onError === 'dlq') ctx.deadLetter(doc, reason, { httpStatusCode: response.status, responseBody: response.body.slice(0, 4096) });
  return config.onError === 'ignore' ? passed : undefined;
}

function joinPath(base: string, path: string): string {
  return `${base.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
}

/** sp-agg-meta: stream.https = {url, method, httpStatusCode, responseTimeMs}. */
function withHttpsMeta(doc: Doc, url: URL, method: string, response: Response): Doc {
  const meta = isPlainObject(doc['_stream_meta']) ? doc['_stream_meta'] : {};
  const https = { url: url.toString(), method, httpStatusCode: response.status, responseTimeMs: Math.round(response.millis) };
  return { ...doc, _stream_meta: { ...meta, https } };
}
