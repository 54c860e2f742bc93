// A pipeline cannot take the server down with one expression, and pipelines too long or too
// deep to run are refused up front with Atlas's 400. Driven over HTTP against a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';
import { eventually } from '../../src/engine/testing/memory-host.js';
import { createInstance, createProcessor, expectError, samplePipeline, streamsClient, streamsPath, type StreamsClient } from '../streams-fixtures.js';

let server: TestServer;
let owner: StreamsClient;
const tenant = 'limits';

beforeAll(async () => {
  server = await startTestServer();
  owner = streamsClient(server);
  await createInstance(owner, server.projectId, tenant, { sampleConnections: { solar: true } });
});
afterAll(async () => { await server.close(); });

const procPath = (name = '', action = '') => streamsPath(server.projectId, `/${tenant}/processor${name ? `/${name}` : ''}${action}`);
const get = (name: string) => owner.call('getStreamProcessor', procPath(name));
const post = (body: unknown) => owner.call('createStreamProcessor', procPath(), { method: 'POST', body });
const start = (name: string) => owner.call('startStreamProcessor', procPath(name, ':start'), { method: 'POST' });

describe('expressions that would build huge values', () => {
  it('sends the document to the DLQ instead of aborting the server ($size of a billion-element $range)', async () => {
    await createProcessor(owner, server.projectId, tenant, {
      name: 'range',
      pipeline: [
        { $source: { documents: [{ n: 1 }, { n: 2 }] } },
        { $addFields: { size: { $size: { $range: [0, 1_000_000_000] } } } },
        { $emit: { connectionName: '__testLog' } },
      ],
    });
    expect((await start('range')).status).toBe(200);
    const stats = await eventually(async () => {
      const s = (await get('range')).json.stats;
      return s.dlqMessageCount === 2 ? s : undefined;
    });
    expect(stats).toMatchObject({ inputMessageCount: 2, outputMessageCount: 0, dlqMessageCount: 2 });
    expect((await get('range')).json.state).toBe('STARTED');
    // The server and its other processors carry on.
    await createProcessor(owner, server.projectId, tenant, { name: 'after', pipeline: samplePipeline() });
    expect((await start('after')).status).toBe(200);
    expect((await get('after')).json.state).toBe('STARTED');
  });
});

describe('pipelines too long or too deep', () => {
  it('refuses more than 1000 stages (window pipelines included) with STREAM_PROCESSOR_GENERIC_ERROR', async () => {
    const stages = (n: number) => Array.from({ length: n }, (_, i) => ({ $addFields: { [`f${i}`]: i } }));
    const long = await post({ name: 'long', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, ...stages(1000), { $emit: { connectionName: '__testLog' } }] });
    expectError(long, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect(long.json.detail).toContain('Pipeline length must be no longer than 1000 stages (this one has 1002, window pipelines included)');
    const windowed = await post({
      name: 'long', pipeline: [
        { $source: { connectionName: 'sample_stream_solar' } },
        ...stages(500),
        { $tumblingWindow: { interval: { size: 1, unit: 'second' }, pipeline: [...stages(500), { $group: { _id: null, n: { $count: {} } } }] } },
        { $emit: { connectionName: '__testLog' } },
      ],
    });
    expectError(windowed, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect(windowed.json.detail).toContain('this one has 1004');
    expectError(await get('long'), 404, 'STREAM_PROCESSOR_NOT_FOUND');
    expect((await post({ name: 'fits', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, ...stages(10), { $emit: { connectionName: '__testLog' } }] })).status).toBe(200);
  });

  it('refuses expressions nested deeper than 100 levels, however deep, with a 400 and not a crash', async () => {
    // Written as text: JSON.stringify itself would overflow the stack on the deepest one.
    const nested = (depth: number) => `${'{"$add":['.repeat(depth)}1${',1]}'.repeat(depth)}`;
    const body = (depth: number) => `{"name":"deep","pipeline":[{"$source":{"connectionName":"sample_stream_solar"}},`
      + `{"$addFields":{"x":${nested(depth)}}},{"$emit":{"connectionName":"__testLog"}}]}`;
    const deep = await post(body(60));
    expectError(deep, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect(deep.json.detail).toContain('the pipeline nests deeper than 100 levels of objects and arrays');
    // Far deeper: the HTTP layer refuses the body while it streams in, before anything parses it.
    expectError(await post(body(100_000)), 400, 'INVALID_JSON');
    const shallow = await post(body(20));
    expect(shallow.status).toBe(200);
  });
});
