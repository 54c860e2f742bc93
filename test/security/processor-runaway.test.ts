// A document that never finishes cannot leave a processor "running" with nothing moving:
// the watchdog terminates its worker and FAILs it, and :stop answers at once however stuck
// the worker is. Test timeouts (not timing assertions) catch a stop that hangs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';
import { eventually } from '../../src/engine/testing/memory-host.js';
import { createInstance, createProcessor, streamsClient, streamsPath, type StreamsClient } from '../streams-fixtures.js';

/** O(n²) in mingo's $reduce: each step copies the array built so far (hours for one document). */
const SPIN = {
  $addFields: {
    x: { $reduce: { input: { $range: [0, 3_000_000] }, initialValue: [], in: { $concatArrays: ['$$value', ['$$this']] } } },
  },
};
const spinning = [{ $source: { documents: [{ n: 1 }] } }, SPIN, { $emit: { connectionName: '__testLog' } }];

function api(server: TestServer, owner: StreamsClient, tenant: string) {
  const path = (name: string, action = '') => streamsPath(server.projectId, `/${tenant}/processor/${name}${action}`);
  return {
    get: (name: string) => owner.call('getStreamProcessor', path(name)),
    start: (name: string) => owner.call('startStreamProcessor', path(name, ':start'), { method: 'POST' }),
    stop: (name: string) => owner.call('stopStreamProcessor', path(name, ':stop'), { method: 'POST' }),
    remove: (name: string) => owner.call('deleteStreamProcessor', path(name), { method: 'DELETE' }),
  };
}

describe('a document that never finishes', () => {
  let server: TestServer;
  let owner: StreamsClient;
  beforeAll(async () => {
    server = await startTestServer({ engine: { documentTimeoutMs: 1500 } });
    owner = streamsClient(server);
    await createInstance(owner, server.projectId, 'spin');
  });
  afterAll(async () => { await server.close(); });

  it('FAILs the processor with a message saying so once the watchdog terminates its worker', async () => {
    const { get, start } = api(server, owner, 'spin');
    await createProcessor(owner, server.projectId, 'spin', { name: 'spin', pipeline: spinning });
    expect((await start('spin')).status).toBe(200);
    const failed = await eventually(async () => {
      const res = await get('spin');
      return res.json.state === 'FAILED' ? res.json : undefined;
    }, 30_000);
    expect(failed.stats).toMatchObject({
      status: 'error',
      errorMsg: 'stream processor stopped: one document was still being processed after 1.5 s (the processor\'s worker was terminated)',
    });
    expect(server.app.runner.isRunning(failed._id)).toBe(false);
  }, 40_000);
});

describe(':stop of a stuck processor', () => {
  let server: TestServer;
  let owner: StreamsClient;
  beforeAll(async () => {
    // The watchdog's own limit is far away: only :stop can end this run.
    server = await startTestServer({ engine: { documentTimeoutMs: 600_000 } });
    owner = streamsClient(server);
    await createInstance(owner, server.projectId, 'stuck');
  });
  afterAll(async () => { await server.close(); });

  it('answers with the processor STOPPED, and it can start again and be deleted', async () => {
    const { get, start, stop, remove } = api(server, owner, 'stuck');
    const created = await createProcessor(owner, server.projectId, 'stuck', { name: 'stuck', pipeline: spinning });
    expect((await start('stuck')).status).toBe(200);
    // Started means compiled: its one document is being processed, for good.
    const stopped = await stop('stuck');
    expect(stopped.status).toBe(200);
    expect((await get('stuck')).json.state).toBe('STOPPED');
    expect(server.app.runner.isRunning(created._id)).toBe(false);
    // A start queues behind the stop in the engine; it only answers once the old worker is gone.
    expect((await start('stuck')).status).toBe(200);
    expect((await get('stuck')).json.state).toBe('STARTED');
    expect((await remove('stuck')).status).toBe(204);
  }, 45_000);
});
