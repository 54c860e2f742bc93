// $cachedLookup (sp-agg-cachedLookup) and $externalFunction (sp-agg-externalFunction).
// $externalFunction runs against a local stand-in for the AWS Lambda Invoke API.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Document } from '../../src/engine/contract.js';
import { ClusterClients } from '../../src/engine/connections/cluster.js';
import { createLookupStage } from '../../src/engine/stages/lookup.js';
import type { Operator } from '../../src/engine/stages/operator.js';
import { clusterConnection, mongoClient, refusal, runPipeline, streamOf, useConformanceHarness } from './harness.js';

useConformanceHarness();

describe('sp-agg-cachedLookup', () => {
  const cachedLookup = (coll: string, extra: Document = {}) => ({
    $cachedLookup: {
      ttl: { size: 1, unit: 'hour' }, maxMemUsageBytes: 1_000_000,
      from: { connectionName: 'cluster0', db: 'lookups', coll }, localField: 'productId', foreignField: '_id', as: 'product', ...extra,
    },
  });

  it('sp-agg-cachedLookup: joins matching documents into `as`', async () => {
    await mongoClient().db('lookups').collection('products').insertMany([{ _id: 'A' as never, name: 'Laptop' }, { _id: 'B' as never, name: 'Shirt' }]);
    const { output } = await runPipeline(streamOf([{ productId: 'A' }, { productId: 'C' }], [cachedLookup('products'), { $project: { _id: 0, productId: 1, product: 1 } }]));
    expect(output.map((d) => [d['productId'], d['product']])).toEqual([['A', [{ _id: 'A', name: 'Laptop' }]], ['C', []]]);
  });

  it('sp-agg-cachedLookup: results are cached for the ttl: a change to the collection is not seen until it expires', async () => {
    const coll = mongoClient().db('lookups').collection('stock');
    await coll.insertOne({ _id: 'A' as never, qty: 1 });
    const seen = async (operator: Operator) => ((await operator.process([{ productId: 'A' }]))[0]!['product'] as Document[])[0]!['qty'];
    const clusters = new ClusterClients({ cluster0: clusterConnection() });
    try {
      const hourLong = createLookupStage(cachedLookup('stock')['$cachedLookup'], clusters, { deadLetter() {} }, { cached: true });
      const brief = createLookupStage(cachedLookup('stock', { ttl: { size: 1, unit: 'ms' } })['$cachedLookup'], clusters, { deadLetter() {} }, { cached: true });
      expect([await seen(hourLong), await seen(brief)]).toEqual([1, 1]);
      await coll.updateOne({ _id: 'A' as never }, { $set: { qty: 2 } });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect([await seen(hourLong), await seen(brief)]).toEqual([1, 2]);
    } finally {
      await clusters.closeAll();
    }
  });

  it.each([
    ['let', { let: { x: 1 } }, 'let'],
    ['pipeline', { pipeline: [] }, 'pipeline'],
    ['a missing ttl', { ttl: undefined }, 'ttl'],
    ['a fractional ttl', { ttl: { size: 0.5, unit: 'second' } }, 'ttl'],
    ['an unknown field', { parallelism: 2 }, "'$cachedLookup.parallelism'"],
  ])('sp-agg-cachedLookup: refuses %s', (_what, extra, mentions) => {
    expect(refusal(streamOf([], [cachedLookup('x', extra)]), { cluster0: clusterConnection() })).toContain(mentions);
  });
});

describe('sp-agg-externalFunction', () => {
  let server: Server;
  let endpoint: string;
  const invocations: Array<{ path: string; type: string | undefined; body: Document }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as Document;
        invocations.push({ path: req.url ?? '', type: req.headers['x-amz-invocation-type'] as string | undefined, body });
        const fn = decodeURIComponent(/functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '');
        if (fn === 'missing') { res.writeHead(404, { 'content-type': 'application/json' }); res.end('{"Type":"User","message":"Function not found"}'); return; }
        if (fn === 'throws') { res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' }); res.end('{"errorMessage":"boom"}'); return; }
        if (req.headers['x-amz-invocation-type'] === 'Event') { res.writeHead(202); res.end(); return; }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ doubled: (body['n'] as number) * 2 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => { await new Promise((resolve) => server.close(resolve)); });

  const LAMBDA = { lambda0: { name: 'lambda0', type: 'AWSLambda' as const, aws: { roleArn: 'arn:aws:iam::123456789012:role/sp' } } };
  const external = (extra: Document) => ({ $externalFunction: { connectionName: 'lambda0', functionName: 'double', execution: 'sync', as: 'result', ...extra } });
  const run = (docs: Document[], extra: Document) => runPipeline(streamOf(docs, [external(extra)]), { connections: LAMBDA, lambdaEndpoint: endpoint });

  it('sp-agg-externalFunction: a sync call stores the function result under `as`', async () => {
    const { output } = await run([{ n: 21 }], {});
    expect(output[0]).toMatchObject({ n: 21, result: { doubled: 42 } });
  });

  it('sp-agg-externalFunction: sync is a RequestResponse invocation of the named function with the document as payload', async () => {
    invocations.length = 0;
    await run([{ n: 1, tag: 'x' }], {});
    expect(invocations[0]).toMatchObject({ path: '/2015-03-31/functions/double/invocations', type: 'RequestResponse', body: { n: 1, tag: 'x' } });
    expect(invocations[0]!.body).not.toHaveProperty('_stream_meta');
  });

  it('sp-agg-externalFunction: payload shapes what the function receives', async () => {
    invocations.length = 0;
    await run([{ n: 3, secret: 's' }], { payload: [{ $project: { _id: 0, n: 1 } }] });
    expect(invocations[0]!.body).toEqual({ n: 3 });
  });

  it('sp-agg-externalFunction: async is an Event invocation and the document passes on unchanged', async () => {
    invocations.length = 0;
    const { output } = await run([{ n: 5 }], { execution: 'async', as: undefined });
    expect(invocations[0]!.type).toBe('Event');
    expect(output[0]).toMatchObject({ n: 5 });
    expect(output[0]).not.toHaveProperty('result');
  });

  it('sp-agg-externalFunction: a function error goes to the DLQ with onError "dlq"', async () => {
    const { output, dlq } = await run([{ n: 1 }], { functionName: 'throws' });
    expect(output).toEqual([]);
    expect(dlq).toEqual([expect.objectContaining({ errInfo: { reason: expect.stringContaining('boom') } })]);
  });

  it('sp-agg-externalFunction: onError "ignore" passes the document on', async () => {
    const { output } = await run([{ n: 1 }], { functionName: 'throws', onError: 'ignore' });
    expect(output).toHaveLength(1);
  });

  it('sp-agg-externalFunction: onError "fail" fails the processor', async () => {
    const { failure } = await run([{ n: 1 }], { functionName: 'missing', onError: 'fail' });
    expect(failure).toContain('404');
  });

  it('sp-agg-externalFunction: the connection must be an AWSLambda connection', () => {
    expect(refusal(streamOf([], [external({ connectionName: 'cluster0' })]), { cluster0: clusterConnection() })).toContain('AWSLambda');
  });

  it('sp-agg-externalFunction: without a Lambda endpoint the emulator refuses the pipeline and says why', () => {
    expect(refusal(streamOf([], [external({})]), LAMBDA)).toContain('ATLAS_STREAMS_LAMBDA_ENDPOINT');
  });

  it.each([
    ['an unknown execution', { execution: 'eventually' }, 'execution'],
    ['sync without as', { as: undefined }, 'as'],
    ['an unknown onError', { onError: 'retry' }, 'onError'],
  ])('sp-agg-externalFunction: refuses %s', (_what, extra, mentions) => {
    const result = runPipeline(streamOf([], [external(extra)]), { connections: LAMBDA, lambdaEndpoint: endpoint });
    return expect(result).rejects.toThrow(mentions);
  });
});
