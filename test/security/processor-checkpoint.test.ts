// Checkpoints of large window state: serialized in the worker, handed over without a copy,
// and written beside the database (not into a row) off the main thread, so the API keeps
// answering. bench/checkpoint-stall.mjs measures the latency; this checks the behaviour: the
// API answers throughout, the state survives a restart, and no row carries the state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';
import { eventually } from '../../src/engine/testing/memory-host.js';
import { STREAMS_KIND } from '../../src/domain/streams/common.js';
import { createInstance, createProcessor, streamsClient, streamsPath } from '../streams-fixtures.js';

const dataDir = mkdtempSync(join(tmpdir(), 'ase-checkpoint-'));
let server: TestServer | undefined;
afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** 300 documents of 40 KB each, all kept by a $push in an hour-long window: about 12 MB of state. */
const PIPELINE = [
  { $source: { documents: Array.from({ length: 300 }, (_, i) => ({ i })) } },
  { $addFields: { pad: { $literal: 'x'.repeat(40_000) } } },
  { $tumblingWindow: { interval: { size: 1, unit: 'hour' }, pipeline: [{ $group: { _id: null, docs: { $push: '$$ROOT' } } }] } },
  { $emit: { connectionName: '__testLog' } },
];

describe('checkpoints of large window state', () => {
  it('keeps the API answering while they are taken, and restores the state after a restart', async () => {
    server = await startTestServer({ inMemory: false, dataDir, engine: { checkpointIntervalMs: 300 } });
    const owner = streamsClient(server);
    const { projectId } = server;
    const credentials = server.owner;
    await createInstance(owner, projectId, 'ckpt');
    const created = await createProcessor(owner, projectId, 'ckpt', { name: 'big', pipeline: PIPELINE });
    const path = streamsPath(projectId, '/ckpt/processor/big');
    expect((await owner.call('startStreamProcessor', `${path}:start`, { method: 'POST' })).status).toBe(200);
    const stateSize = await eventually(async () => {
      const stats = (await owner.call('getStreamProcessor', path)).json.stats;
      return stats.inputMessageCount === 300 && stats.stateSize > 12_000_000 ? stats.stateSize as number : undefined;
    }, 60_000);
    // Periodic checkpoints of that state are under way; every call in the meantime is answered.
    for (let i = 0; i < 20; i++) expect((await owner.call('getStreamProcessor', path)).status).toBe(200);
    const row = await eventually(() => server!.app.store.transaction((tx) => tx.get(STREAMS_KIND.checkpoint, created._id)), 30_000);
    expect(JSON.stringify(row).length).toBeLessThan(1000);
    for (const line of server.logs) expect(line).not.toContain('checkpoint failed');

    // A clean restart takes a final checkpoint and resumes from it: same state, no document read twice.
    await server.close();
    server = await startTestServer({ inMemory: false, dataDir, engine: { checkpointIntervalMs: 300 } });
    const again = streamsClient(server, credentials);
    const resumed = await eventually(async () => {
      const res = await again.call('getStreamProcessor', path);
      return res.json.state === 'STARTED' && res.json.stats.stateSize > 0 ? res.json.stats : undefined;
    }, 60_000);
    expect(resumed.stateSize).toBe(stateSize);
    // The counts resume with the checkpoint: 300, where reading the documents again would make 600.
    expect(resumed.inputMessageCount).toBe(300);
  }, 120_000);
});
