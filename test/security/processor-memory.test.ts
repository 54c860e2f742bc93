// Memory a processor uses is bounded twice: window state is counted (what $push/$addToSet
// keep, buffered documents) against a budget that FAILs it with Atlas's out-of-memory error,
// and past that, its worker's heap limit stops the worker. Either way only that processor
// fails; the server and its other processors carry on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';
import { eventually } from '../../src/engine/testing/memory-host.js';
import { createInstance, createProcessor, samplePipeline, streamsClient, streamsPath, type StreamsClient } from '../streams-fixtures.js';

let server: TestServer;
let owner: StreamsClient;
const tenant = 'memory';

beforeAll(async () => {
  // Small enough to reach in a test: 128 MB of heap per worker, 256 KB of window state.
  server = await startTestServer({ engine: { workerHeapMb: 128, stateBudgetBytes: 256 * 1024 } });
  owner = streamsClient(server);
  await createInstance(owner, server.projectId, tenant, { sampleConnections: { solar: true } });
});
afterAll(async () => { await server.close(); });

const procPath = (name: string, action = '') => streamsPath(server.projectId, `/${tenant}/processor/${name}${action}`);
const get = (name: string) => owner.call('getStreamProcessor', procPath(name));
const start = (name: string) => owner.call('startStreamProcessor', procPath(name, ':start'), { method: 'POST' });

async function failure(name: string): Promise<string> {
  return eventually(async () => {
    const res = await get(name);
    return res.json.state === 'FAILED' ? (res.json.stats.errorMsg as string) : undefined;
  }, 40_000);
}

/** 60 documents of 10 KB each (600 KB), all in one hour-long window. */
function collecting(accumulator: '$push' | '$addToSet') {
  const documents = Array.from({ length: 60 }, (_, i) => ({ i, s: `${i}:${'x'.repeat(10_000)}` }));
  return [
    { $source: { documents } },
    { $tumblingWindow: { interval: { size: 1, unit: 'hour' }, pipeline: [{ $group: { _id: null, kept: { [accumulator]: '$s' } } }] } },
    { $emit: { connectionName: '__testLog' } },
  ];
}

describe('window state budget', () => {
  it.each(['$push', '$addToSet'] as const)('counts what %s keeps and FAILs the processor out of memory', async (accumulator) => {
    const name = `keep${accumulator.slice(1)}`;
    await createProcessor(owner, server.projectId, tenant, { name, pipeline: collecting(accumulator) });
    expect((await start(name)).status).toBe(200);
    expect(await failure(name)).toMatch(/^stream processing instance out of memory: window state of \d+ bytes exceeds 80% of the SP\d+ tier's memory \(262144 bytes\)$/);
  }, 60_000);
});

describe('worker heap limit', () => {
  it('stops a worker that runs out of heap, FAILs its processor only, and keeps the server and the others running', async () => {
    await createProcessor(owner, server.projectId, tenant, { name: 'calm', pipeline: samplePipeline() });
    expect((await start('calm')).status).toBe(200);
    // Gigabytes for one document, built from arrays no larger than 200k elements: the heap
    // fills by small steps, so the limit catches it (one huge allocation would abort V8 itself,
    // which is what the expression caps are for).
    const hog = { $map: { input: { $range: [0, 100] }, in: { $map: { input: { $range: [0, 200_000] }, in: { $range: [0, 50] } } } } };
    await createProcessor(owner, server.projectId, tenant, {
      name: 'hog', pipeline: [{ $source: { documents: [{ n: 1 }] } }, { $addFields: { hog } }, { $emit: { connectionName: '__testLog' } }],
    });
    expect((await start('hog')).status).toBe(200);
    expect(await failure('hog')).toBe("stream processing instance out of memory: the processor's worker went past its 128 MB heap limit and was stopped");
    const before = (await get('calm')).json.stats.outputMessageCount as number;
    await eventually(async () => {
      const res = await get('calm');
      return res.json.state === 'STARTED' && res.json.stats.outputMessageCount > before ? true : undefined;
    });
  }, 90_000);
});
