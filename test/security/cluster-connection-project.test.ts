// Item 3 of issue 8: a Cluster connection naming another project's cluster (clusterGroupId)
// reaches that project's data, so writing one needs rights there, and every start checks
// again that its author still holds them and that the project is still the organization's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, digestClient, startTestServer, type Client, type TestServer } from '../../src/testing/harness.js';
import { createProject, createProjectKey, V2, type CreatedKey } from '../identity-helpers.js';
import { createConnection, createInstance, createProcessor, expectError, streamsClient, streamsPath, type StreamsClient } from '../streams-fixtures.js';

let server: TestServer;
let owner: StreamsClient;
let ownerRaw: Client;
let home: string;
let other: string;
/** Stream Processing Owner of `home` only. */
let member: CreatedKey;
let memberClient: StreamsClient;
const tenant = 'cross';

const clusterIn = (name: string, clusterGroupId: string) => ({ name, type: 'Cluster', clusterName: 'Cluster0', clusterGroupId });
const mergePipeline = (connectionName: string) => [
  { $source: { connectionName: 'sample_stream_solar' } },
  { $merge: { into: { connectionName, db: 'stolen', coll: 'data' } } },
];
const procPath = (name: string, action = '') => streamsPath(home, `/${tenant}/processor/${name}${action}`);
const start = (client: StreamsClient, name: string) => client.call('startStreamProcessor', procPath(name, ':start'), { method: 'POST' });

async function assign(key: CreatedKey, groupId: string, roles: string[]): Promise<void> {
  const res = await ownerRaw.call(`${V2}/groups/${groupId}/apiKeys/${key.id}`, { method: 'POST', accept: ACCEPT.identity, body: [{ roles }] });
  expect(res.status, res.text).toBe(204);
}

beforeAll(async () => {
  server = await startTestServer();
  owner = streamsClient(server);
  ownerRaw = digestClient(server, server.owner);
  home = await createProject(ownerRaw, server.orgId, 'home');
  other = await createProject(ownerRaw, server.orgId, 'other');
  member = await createProjectKey(ownerRaw, home, ['GROUP_STREAM_PROCESSING_OWNER']);
  memberClient = streamsClient(server, member);
  await createInstance(owner, home, tenant, { sampleConnections: { solar: true } });
});
afterAll(async () => { await server.close(); });

describe('writing a connection to another project\'s cluster', () => {
  it('is refused to a caller without access to that project, on create and on update', async () => {
    const connections = streamsPath(home, `/${tenant}/connections`);
    expectError(await memberClient.call('createStreamConnection', connections, { method: 'POST', body: clusterIn('theirs', other) }), 401, 'NOT_IN_GROUP');
    expectError(await memberClient.call('createStreamConnection', connections, { method: 'POST', body: clusterIn('nowhere', 'f'.repeat(24)) }), 401, 'NOT_IN_GROUP');
    await createConnection(memberClient, home, tenant, { name: 'mine', type: 'Cluster', clusterName: 'Cluster0' });
    expectError(await memberClient.call('updateStreamConnection', `${connections}/mine`, { method: 'PATCH', body: clusterIn('mine', other) }), 401, 'NOT_IN_GROUP');
    const list = await owner.call('listStreamConnections', connections);
    expect(list.json.results.map((c: { name: string; clusterGroupId?: string }) => [c.name, c.clusterGroupId])).toEqual([
      ['sample_stream_solar', undefined], ['mine', undefined],
    ]);
  });

  it('is refused to a caller who may only read that project', async () => {
    const reader = await createProjectKey(ownerRaw, home, ['GROUP_STREAM_PROCESSING_OWNER'], 'reader elsewhere');
    await assign(reader, other, ['GROUP_READ_ONLY']);
    expectError(await streamsClient(server, reader).call('createStreamConnection', streamsPath(home, `/${tenant}/connections`),
      { method: 'POST', body: clusterIn('theirs', other) }), 401, 'USER_UNAUTHORIZED');
  });
});

describe('starting a processor that uses one', () => {
  it('is refused once the connection\'s author has lost its rights in that project', async () => {
    const author = await createProjectKey(ownerRaw, home, ['GROUP_STREAM_PROCESSING_OWNER'], 'author');
    await assign(author, other, ['GROUP_STREAM_PROCESSING_OWNER']);
    const authorClient = streamsClient(server, author);
    await createConnection(authorClient, home, tenant, clusterIn('granted', other));
    await createProcessor(authorClient, home, tenant, { name: 'copier', pipeline: mergePipeline('granted') });

    const removed = await ownerRaw.call(`${V2}/groups/${other}/apiKeys/${author.id}`, { method: 'DELETE', accept: ACCEPT.identity });
    expect(removed.status).toBe(204);
    // Whoever starts it (here the organization owner), the connection's reach is judged now.
    const refused = await start(owner, 'copier');
    expectError(refused, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect(refused.json.detail).toContain(`project ${other}`);
    expect((await owner.call('getStreamProcessor', procPath('copier'))).json.state).toBe('CREATED');
  });

  it('is refused once that project has left for good', async () => {
    const gone = await createProject(ownerRaw, server.orgId, 'leaving');
    await createConnection(owner, home, tenant, clusterIn('to-gone', gone));
    await createProcessor(owner, home, tenant, { name: 'orphan', pipeline: mergePipeline('to-gone') });
    expect((await ownerRaw.call(`${V2}/groups/${gone}`, { method: 'DELETE', accept: ACCEPT.identity })).status).toBe(204);
    expectError(await start(owner, 'orphan'), 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect((await owner.call('getStreamProcessor', procPath('orphan'))).json.state).toBe('CREATED');
  });

  it('goes ahead while the author keeps its rights there', async () => {
    const author = await createProjectKey(ownerRaw, home, ['GROUP_STREAM_PROCESSING_OWNER'], 'keeper');
    await assign(author, other, ['GROUP_STREAM_PROCESSING_OWNER']);
    const authorClient = streamsClient(server, author);
    await createConnection(authorClient, home, tenant, clusterIn('kept', other));
    await createProcessor(authorClient, home, tenant, { name: 'allowed', pipeline: mergePipeline('kept') });
    const started = await start(authorClient, 'allowed');
    expect(started.status, started.text).toBe(200);
  });
});

describe('resuming after a restart', () => {
  it('fails a processor whose connection\'s author lost its rights while it ran', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ase-cross-resume-'));
    let first: TestServer | undefined = await startTestServer({ inMemory: false, dataDir });
    let second: TestServer | undefined;
    try {
      const credentials = first.owner;
      const ownerClient = digestClient(first, credentials);
      const groupId = first.projectId;
      const elsewhere = await createProject(ownerClient, first.orgId, 'elsewhere');
      const author = await createProjectKey(ownerClient, groupId, ['GROUP_STREAM_PROCESSING_OWNER'], 'author');
      expect((await ownerClient.call(`${V2}/groups/${elsewhere}/apiKeys/${author.id}`,
        { method: 'POST', accept: ACCEPT.identity, body: [{ roles: ['GROUP_STREAM_PROCESSING_OWNER'] }] })).status).toBe(204);
      const authorClient = streamsClient(first, author);
      await createInstance(authorClient, groupId, 'resume', { sampleConnections: { solar: true } });
      await createConnection(authorClient, groupId, 'resume', clusterIn('dead-letters', elsewhere));
      // The connection is held through the dead letter queue, which is only written on errors: the processor runs.
      await createProcessor(authorClient, groupId, 'resume', { name: 'runner', pipeline: [
        { $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } },
      ], options: { dlq: { connectionName: 'dead-letters', db: 'dlq', coll: 'runner' } } });
      const path = streamsPath(groupId, '/resume/processor/runner');
      expect((await authorClient.call('startStreamProcessor', `${path}:start`, { method: 'POST' })).status).toBe(200);
      expect((await ownerClient.call(`${V2}/groups/${elsewhere}/apiKeys/${author.id}`, { method: 'DELETE', accept: ACCEPT.identity })).status).toBe(204);
      expect((await authorClient.call('getStreamProcessor', path)).json.state).toBe('STARTED');
      await first.close();
      first = undefined;

      second = await startTestServer({ inMemory: false, dataDir });
      const after = await streamsClient(second, credentials).call('getStreamProcessor', path);
      expect(after.json.state).toBe('FAILED');
      expect(after.json.stats.errorMsg).toContain(`project ${elsewhere}`);
    } finally {
      await first?.close();
      await second?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
