// $https as sp-agg-https documents it, and the `stream.https` metadata of sp-agg-meta.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Document } from '../../src/engine/contract.js';
import { startHttpsServer, type TestHttpsServer } from '../../src/engine/testing/https-server.js';
import { refusal, runPipeline, streamOf, useConformanceHarness } from './harness.js';

useConformanceHarness();

let server: TestHttpsServer;
beforeAll(async () => {
  server = await startHttpsServer((req, res, body) => {
    const route = (req.url ?? '').split('?')[0];
    if (route === '/api/text') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('hello'); return; }
    if (route === '/api/empty') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(); return; }
    if (route === '/api/bad-json') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{'); return; }
    const status = Number(/status\/(\d+)/.exec(route ?? '')?.[1] ?? 200);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ method: req.method, body: body ? JSON.parse(body) : null, contentType: req.headers['content-type'] ?? null }));
  });
});
afterAll(async () => { await server.stop(); });

const connections = () => ({ api: { name: 'api', type: 'Https' as const, url: `${server.url}/api` } });
const https = (spec: Document) => ({ $https: { connectionName: 'api', as: 'response', ...spec } });
const run = (docs: Document[], spec: Document) =>
  runPipeline(streamOf(docs, [https(spec)]), { connections: connections(), extraCaCertificates: [server.certificate] });

describe('sp-agg-https', () => {
  it('sp-agg-https: without payload the whole document is the request body', async () => {
    const { output } = await run([{ n: 1, name: 'x' }], { method: 'POST' });
    expect((output[0]!['response'] as Document)['body']).toMatchObject({ n: 1, name: 'x' });
  });

  it('sp-agg-https: payload shapes the request body', async () => {
    const { output } = await run([{ n: 1, name: 'x' }], { method: 'POST', payload: [{ $project: { _id: 0, n: 1 } }] });
    expect((output[0]!['response'] as Document)['body']).toEqual({ n: 1 });
  });

  it('sp-agg-https: the request body is sent as application/json', async () => {
    const { output } = await run([{ n: 1 }], { method: 'PUT' });
    expect(output[0]!['response']).toMatchObject({ method: 'PUT', contentType: 'application/json' });
  });

  it('sp-agg-https: a JSON response is stored under `as`', async () => {
    const { output } = await run([{ n: 1 }], { path: 'status/201' });
    expect(output[0]!['response']).toMatchObject({ method: 'GET' });
  });

  it('sp-agg-https: an empty response body leaves `as` unset', async () => {
    const { output } = await run([{ n: 1 }], { path: 'empty' });
    expect(output).toHaveLength(1);
    expect(output[0]).not.toHaveProperty('response');
  });

  it('sp-agg-https: a response that is not application/json follows onError (dlq)', async () => {
    const { output, dlq } = await run([{ n: 1 }], { path: 'text' });
    expect(output).toEqual([]);
    expect(dlq).toEqual([expect.objectContaining({ doc: expect.objectContaining({ n: 1 }), errInfo: { reason: expect.stringContaining('Content-Type') } })]);
  });

  it('sp-agg-https: a response that is not application/json with onError "ignore" passes the document on without `as`', async () => {
    const { output } = await run([{ n: 1 }], { path: 'text', onError: 'ignore' });
    expect(output).toHaveLength(1);
    expect(output[0]).not.toHaveProperty('response');
  });

  it('sp-agg-https: a response that is not application/json with onError "fail" fails the processor', async () => {
    const { failure } = await run([{ n: 1 }], { path: 'text', onError: 'fail' });
    expect(failure).toContain('Content-Type');
  });

  it('sp-agg-https: invalid JSON in a JSON response follows onError', async () => {
    const { dlq } = await run([{ n: 1 }], { path: 'bad-json' });
    expect(dlq).toHaveLength(1);
  });

  it('sp-agg-https: a header that does not evaluate to a string sends the document to the DLQ without a request', async () => {
    const before = server.requests.length;
    const { output, dlq } = await run([{ n: 1 }], { headers: { 'x-n': '$n' } });
    expect(output).toEqual([]);
    expect(dlq).toEqual([expect.objectContaining({ errInfo: { reason: expect.stringContaining('x-n') } })]);
    expect(server.requests.length).toBe(before);
  });

  it('sp-agg-https: a 404 goes to the DLQ with onError "dlq"', async () => {
    const { dlq } = await run([{ n: 1 }], { path: 'status/404' });
    expect(dlq).toEqual([expect.objectContaining({ httpStatusCode: 404 })]);
  });

  it('sp-agg-https: a status outside the onError list fails the processor', async () => {
    const { failure } = await run([{ n: 1 }], { path: 'status/401' });
    expect(failure).toContain('401');
  });

  it.each(['HEAD', 'OPTIONS', 'TRACE', 'CONNECT'])('sp-agg-https: refuses method %s (outside GET, POST, PUT, PATCH, DELETE)', (method) => {
    expect(refusal(streamOf([], [https({ method })]), connections())).toContain('$https.method');
  });

  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('sp-agg-https: accepts method %s', (method) => {
    expect(refusal(streamOf([], [https({ method })]), connections())).toBeUndefined();
  });
});

describe('sp-agg-meta: stream.https', () => {
  it('sp-agg-meta: {$meta: "stream.https"} has url, method, httpStatusCode and responseTimeMs', async () => {
    const { output } = await runPipeline(streamOf([{ n: 1 }], [
      https({ path: 'status/202', method: 'PATCH' }),
      { $project: { _id: 0, call: { $meta: 'stream.https' } } },
    ]), { connections: connections(), extraCaCertificates: [server.certificate] });
    expect(output[0]!['call']).toEqual({ url: `${server.url}/api/status/202`, method: 'PATCH', httpStatusCode: 202, responseTimeMs: expect.any(Number) });
  });
});
