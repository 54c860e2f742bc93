// Request fields the 2025 spec lacked and the 2026 contract has, which MongoDB's MCP server
// sends: a tier change on workspace update, and :startWith {resumeFromCheckpoint: false}.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../src/testing/harness.js';
import { createInstance, createProcessor, expectError, streamsClient, streamsPath, type StreamsClient } from './streams-fixtures.js';

let server: TestServer;
let owner: StreamsClient;
beforeAll(async () => {
  server = await startTestServer({ logLevel: 'warn' });
  owner = streamsClient(server);
});
afterAll(async () => { await server.close(); });

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached');
}

describe('instance update', () => {
  it('changes the tier alone, the region alone, or both', async () => {
    const path = streamsPath(server.projectId, '/tiers');
    await createInstance(owner, server.projectId, 'tiers', { streamConfig: { tier: 'SP10' } });
    const tier = await owner.call('updateStreamWorkspace', path, { method: 'PATCH', body: { streamConfig: { tier: 'SP30' } } });
    expect(tier.status).toBe(200);
    expect(tier.json).toMatchObject({ streamConfig: { tier: 'SP30' }, dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } });
    const region = await owner.call('updateStreamWorkspace', path, { method: 'PATCH', body: { cloudProvider: 'AWS', region: 'DUBLIN_IRL' } });
    expect(region.json).toMatchObject({ streamConfig: { tier: 'SP30' }, dataProcessRegion: { region: 'DUBLIN_IRL' } });
    const both = await owner.call('updateStreamWorkspace', path, { method: 'PATCH', body: { cloudProvider: 'AWS', region: 'OHIO_USA', streamConfig: { tier: 'SP10' } } });
    expect(both.json).toMatchObject({ streamConfig: { tier: 'SP10' }, dataProcessRegion: { region: 'OHIO_USA' } });
  });

  it('still needs the region pair when no tier is given, and checks the tier', async () => {
    const path = streamsPath(server.projectId, '/tiers');
    expectError(await owner.call('updateStreamWorkspace', path, { method: 'PATCH', body: {} }), 400, 'MISSING_ATTRIBUTE');
    expectError(await owner.call('updateStreamWorkspace', path, { method: 'PATCH', body: { streamConfig: { tier: 'SP99' } } }), 400, 'INVALID_ENUM_VALUE');
    const after = await owner.call('getStreamWorkspace', path);
    expect(after.json).toMatchObject({ streamConfig: { tier: 'SP10' }, dataProcessRegion: { region: 'OHIO_USA' } });
  });
});

describe(':startWith resumeFromCheckpoint', () => {
  it('resumes by default and starts afresh with resumeFromCheckpoint: false', async () => {
    await createInstance(owner, server.projectId, 'restart');
    const documents = [{ n: 1 }, { n: 2 }, { n: 3 }];
    await createProcessor(owner, server.projectId, 'restart', {
      name: 'docs', pipeline: [{ $source: { documents } }, { $emit: { connectionName: '__testLog' } }],
    });
    const base = streamsPath(server.projectId, '/restart/processor/docs');
    const stats = () => owner.call('getStreamProcessor', base).then((r) => r.json.stats as { inputMessageCount: number });

    expect((await owner.call('startStreamProcessor', `${base}:start`, { method: 'POST' })).status).toBe(200);
    await waitFor(stats, (s) => s.inputMessageCount === 3);
    expect((await owner.call('stopStreamProcessor', `${base}:stop`, { method: 'POST' })).status).toBe(200);

    // Resuming from the checkpoint: the three documents were consumed already, and the counts
    // resume with it: still 3, where reading them again would make 6.
    expect((await owner.call('startStreamProcessorWith', `${base}:startWith`, { method: 'POST', body: {} })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect((await stats()).inputMessageCount).toBe(3);
    await owner.call('stopStreamProcessor', `${base}:stop`, { method: 'POST' });

    // Afresh: the checkpoint is dropped and the documents flow again.
    const afresh = await owner.call('startStreamProcessorWith', `${base}:startWith`, { method: 'POST', body: { resumeFromCheckpoint: false } });
    expect(afresh.status).toBe(200);
    await waitFor(stats, (s) => s.inputMessageCount === 3);
    await owner.call('stopStreamProcessor', `${base}:stop`, { method: 'POST' });
  });
});
