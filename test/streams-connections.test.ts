import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, digestClient, startTestServer, type Client, type TestServer } from '../src/testing/harness.js';
import { createProjectKey } from './identity-helpers.js';
import {
  createConnection, createInstance, createProcessor, expectError, KAFKA_SECRET, kafkaConnection, samplePipeline, SSL_KEY,
  SSL_KEY_PASSWORD, streamsClient, streamsPath, type StreamsClient,
} from './streams-fixtures.js';

let server: TestServer;
let owner: StreamsClient;
let raw: Client;
let groupId: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = streamsClient(server);
  raw = digestClient(server, server.owner);
  groupId = server.projectId;
});
afterAll(async () => { await server.close(); });

const connPath = (tenant: string, name = '') => streamsPath(groupId, `/${tenant}/connections${name ? `/${name}` : ''}`);

describe('deleteStreamConnection', () => {
  it('answers 202 {} with the versioned content type and the connection is gone', async () => {
    await createInstance(owner, groupId, 'del-basic');
    await createConnection(owner, groupId, 'del-basic', kafkaConnection('kafka1'));
    const res = await owner.call('deleteStreamConnection', connPath('del-basic', 'kafka1'), { method: 'DELETE', accept: ACCEPT.streams });
    expect(res.status).toBe(202);
    expect(res.text).toBe('{}');
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2023-02-01+json;charset=utf-8');
    expect(res.headers.get('ratelimit-limit')).toBe('1200');
    const again = await owner.call('getStreamConnection', connPath('del-basic', 'kafka1'));
    expectError(again, 404, 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME');
  });

  it('answers Atlas 404s for a missing instance and a missing connection', async () => {
    const noTenant = await owner.call('deleteStreamConnection', connPath('nope', 'x'), { method: 'DELETE' });
    expectError(noTenant, 404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME', `Stream instance for project ${groupId} and name nope not found.`, [groupId, 'nope']);
    await createInstance(owner, groupId, 'del-404');
    const noConn = await owner.call('deleteStreamConnection', connPath('del-404', 'ghost'), { method: 'DELETE' });
    expectError(noConn, 404, 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME',
      `Stream connection with name ghost for project ${groupId} and name del-404 not found.`, ['ghost', groupId, 'del-404']);
    expect(noConn.text).toBe(JSON.stringify({
      detail: `Stream connection with name ghost for project ${groupId} and name del-404 not found.`, error: 404,
      errorCode: 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME', parameters: ['ghost', groupId, 'del-404'], reason: 'Not Found',
    }));
  });

  it('answers GROUP_NOT_FOUND and INVALID_GROUP_ID', async () => {
    const missing = await owner.call('deleteStreamConnection', `${streamsPath('0123456789abcdef01234567')}/t/connections/c`, { method: 'DELETE' });
    expectError(missing, 404, 'GROUP_NOT_FOUND', 'No group with ID 0123456789abcdef01234567 exists.', ['0123456789abcdef01234567']);
    const invalid = await owner.call('deleteStreamConnection', `${streamsPath('not-a-group')}/t/connections/c`, { method: 'DELETE' });
    expectError(invalid, 404, 'INVALID_GROUP_ID');
  });

  it('refuses 403 while a processor uses the connection anywhere (window, $merge, $lookup, $https, DLQ)', async () => {
    const tenant = 'del-inuse';
    await createInstance(owner, groupId, tenant, { sampleConnections: { solar: true } });
    for (const name of ['src', 'win', 'merge', 'lookup', 'https', 'dlq', 'free']) {
      const body = name === 'https' || name === 'win'
        ? { name, type: 'Https', url: 'https://example.com/api' }
        : { name, type: 'Cluster', clusterName: 'Cluster0', dbRoleToExecute: { role: 'atlasAdmin', type: 'BUILT_IN' } };
      await createConnection(owner, groupId, tenant, body);
    }
    await createProcessor(owner, groupId, tenant, {
      name: 'p1',
      pipeline: [
        { $source: { connectionName: 'src', db: 'd', coll: 'c' } },
        { $lookup: { from: { connectionName: 'lookup', db: 'd', coll: 'c' }, localField: 'a', foreignField: 'b', as: 'x' } },
        { $tumblingWindow: { interval: { size: 1, unit: 'second' }, pipeline: [{ $https: { connectionName: 'win', as: 'r' } }, { $group: { _id: null, n: { $sum: 1 } } }] } },
        { $https: { connectionName: 'https', as: 'y' } },
        { $merge: { into: { connectionName: 'merge', db: 'd', coll: 'c' } } },
      ],
      options: { dlq: { connectionName: 'dlq', db: 'd', coll: 'dead' } },
    });
    for (const name of ['src', 'win', 'merge', 'lookup', 'https', 'dlq']) {
      const res = await owner.call('deleteStreamConnection', connPath(tenant, name), { method: 'DELETE' });
      expectError(res, 403, 'STREAM_CONNECTION_HAS_STREAM_PROCESSORS', `Stream connection with name ${tenant} has active processors, and cannot be changed.`);
    }
    const free = await owner.call('deleteStreamConnection', connPath(tenant, 'free'), { method: 'DELETE' });
    expect(free.status).toBe(202);
    // Once the processor is gone, so is the hold.
    const drop = await owner.call('deleteStreamProcessor', streamsPath(groupId, `/${tenant}/processor/p1`), { method: 'DELETE', accept: ACCEPT.processors });
    expect(drop.status).toBe(204);
    expect((await owner.call('deleteStreamConnection', connPath(tenant, 'dlq'), { method: 'DELETE' })).status).toBe(202);
  });

  it('lets Project Owner, Project Stream Processing Owner and Org Owner delete; Read Only gets 401 USER_UNAUTHORIZED', async () => {
    await createInstance(owner, groupId, 'del-roles');
    const projectOwner = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_OWNER']));
    const spOwner = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_STREAM_PROCESSING_OWNER']));
    const readOnly = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_READ_ONLY']));
    const dataAdmin = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_DATA_ACCESS_ADMIN']));
    for (const [i, client] of [owner, projectOwner, spOwner].entries()) {
      await createConnection(owner, groupId, 'del-roles', { name: `c${i}`, type: 'Https', url: 'https://example.com' });
      const res = await client.call('deleteStreamConnection', connPath('del-roles', `c${i}`), { method: 'DELETE' });
      expect(res.status).toBe(202);
    }
    await createConnection(owner, groupId, 'del-roles', { name: 'kept', type: 'Https', url: 'https://example.com' });
    for (const client of [readOnly, dataAdmin]) {
      const res = await client.call('deleteStreamConnection', connPath('del-roles', 'kept'), { method: 'DELETE' });
      expectError(res, 401, 'USER_UNAUTHORIZED', 'Current user is not authorized to perform this action.');
    }
    expect((await readOnly.call('getStreamConnection', connPath('del-roles', 'kept'))).status).toBe(200);
  });

  it('renders envelope and pretty', async () => {
    await createInstance(owner, groupId, 'del-env');
    await createConnection(owner, groupId, 'del-env', { name: 'a', type: 'Https', url: 'https://example.com' });
    await createConnection(owner, groupId, 'del-env', { name: 'b', type: 'Https', url: 'https://example.com' });
    const env = await owner.call('deleteStreamConnection', `${connPath('del-env', 'a')}?envelope=true`, { method: 'DELETE' });
    expect(env.status).toBe(202);
    expect(env.json).toEqual({ content: {}, status: 202 });
    const pretty = await owner.call('deleteStreamConnection', `${connPath('del-env', 'b')}?pretty=true`, { method: 'DELETE' });
    expect(pretty.text).toBe('{ }');
    const prettyError = await owner.call('deleteStreamConnection', `${connPath('del-env', 'b')}?pretty=true`, { method: 'DELETE' });
    expect(prettyError.text).toContain('"errorCode" : "STREAM_CONNECTION_NOT_FOUND_FOR_NAME"');
  });

  it('lets exactly one of many simultaneous deletes win; nothing else changes', async () => {
    const tenant = 'del-race';
    await createInstance(owner, groupId, tenant);
    await createConnection(owner, groupId, tenant, { name: 'target', type: 'Https', url: 'https://example.com' });
    await createConnection(owner, groupId, tenant, { name: 'bystander', type: 'Https', url: 'https://example.com' });
    const before = await owner.call('getStreamConnection', connPath(tenant, 'bystander'));
    const results = await Promise.all(Array.from({ length: 20 }, () => owner.call('deleteStreamConnection', connPath(tenant, 'target'), { method: 'DELETE' })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 404)).toHaveLength(19);
    for (const r of results.filter((x) => x.status === 404)) expect(r.json.errorCode).toBe('STREAM_CONNECTION_NOT_FOUND_FOR_NAME');
    const list = await owner.call('listStreamConnections', connPath(tenant));
    expect(list.json.results.map((c: { name: string }) => c.name)).toEqual(['bystander']);
    expect((await owner.call('getStreamConnection', connPath(tenant, 'bystander'))).text).toBe(before.text);
  });
});

describe('stream instances', () => {
  it('creates with Atlas defaults and reads back', async () => {
    const created = await createInstance(owner, groupId, 'inst-a');
    expect(created).toMatchObject({ name: 'inst-a', groupId, dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, streamConfig: { tier: 'SP30' } });
    expect(created._id).toMatch(/^[a-f0-9]{24}$/);
    expect(created.hostnames).toHaveLength(1);
    expect(created.hostnames[0]).toMatch(new RegExp(`^atlas-stream-${created._id}-[a-z]{6}\\.virginia-usa\\.a\\.query\\.mongodb\\.net$`));
    const got = await owner.call('getStreamWorkspace', streamsPath(groupId, '/inst-a'));
    expect(got.json).toEqual(created);
  });

  it('keeps a tier given and answers 409 for a duplicate name (names are case-sensitive)', async () => {
    const created = await createInstance(owner, groupId, 'inst-b', { streamConfig: { tier: 'SP10' } });
    expect(created.streamConfig).toEqual({ tier: 'SP10' });
    const dup = await owner.call('createStreamWorkspace', streamsPath(groupId), {
      method: 'POST', body: { name: 'inst-b', dataProcessRegion: { cloudProvider: 'AWS', region: 'OHIO_USA' } },
    });
    expectError(dup, 409, 'STREAM_TENANT_NAME_ALREADY_EXISTS');
    await createInstance(owner, groupId, 'INST-B');
  });

  it('refuses bad names, regions of another provider and unknown fields', async () => {
    const post = (body: unknown) => owner.call('createStreamWorkspace', streamsPath(groupId), { method: 'POST', body });
    const region = { cloudProvider: 'AWS', region: 'VIRGINIA_USA' };
    expectError(await post({ name: 'bad_name', dataProcessRegion: region }), 400, 'VALIDATION_ERROR');
    expectError(await post({ name: 'x'.repeat(65), dataProcessRegion: region }), 400, 'VALIDATION_ERROR');
    expectError(await post({ dataProcessRegion: region }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ name: 'r1' }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ name: 'r1', dataProcessRegion: { cloudProvider: 'AWS', region: 'eastus' } }), 400, 'INVALID_ENUM_VALUE');
    expectError(await post({ name: 'r1', dataProcessRegion: { cloudProvider: 'AWS', region: 'MARS' } }), 400, 'INVALID_ENUM_VALUE');
    expectError(await post({ name: 'r1', dataProcessRegion: region, bogus: 1 }), 400, 'INVALID_ATTRIBUTE');
    expectError(await post({ name: 'r1', dataProcessRegion: region, streamConfig: { tier: 'SP99' } }), 400, 'INVALID_ENUM_VALUE');
    const azure = await post({ name: 'az', dataProcessRegion: { cloudProvider: 'AZURE', region: 'eastus2' } });
    expect(azure.status).toBe(200);
    expect(azure.json.hostnames[0]).toContain('.eastus2.a.query.mongodb.net');
  });

  it('lists with paging, includes connections on request, updates the region', async () => {
    const g = await createInstance(owner, groupId, 'inst-c', { sampleConnections: { solar: true } });
    const withConns = await owner.call('getStreamWorkspace', `${streamsPath(groupId, '/inst-c')}?includeConnections=true`);
    expect(withConns.json.connections).toEqual([{ id: expect.stringMatching(/^[a-f0-9]{24}$/), name: 'sample_stream_solar', region: 'VIRGINIA_USA', state: 'READY', type: 'Sample' }]);
    const list = await owner.call('listStreamWorkspaces', `${streamsPath(groupId)}?itemsPerPage=1&pageNum=2`);
    expect(list.status).toBe(200);
    expect(list.json.results).toHaveLength(1);
    expect(list.json.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'next', 'previous']);
    const updated = await owner.call('updateStreamWorkspace', streamsPath(groupId, '/inst-c'), {
      method: 'PATCH', body: { cloudProvider: 'AWS', region: 'DUBLIN_IRL' },
    });
    expect(updated.status).toBe(200);
    expect(updated.json.dataProcessRegion).toEqual({ cloudProvider: 'AWS', region: 'DUBLIN_IRL' });
    expect(updated.json.hostnames[0]).toBe(g.hostnames[0].replace('virginia-usa', 'dublin-irl'));
    const conn = await owner.call('getStreamConnection', connPath('inst-c', 'sample_stream_solar'));
    expect(conn.json.region).toBe('DUBLIN_IRL');
    expectError(await owner.call('updateStreamWorkspace', streamsPath(groupId, '/nope'), { method: 'PATCH', body: { cloudProvider: 'AWS', region: 'DUBLIN_IRL' } }),
      404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME');
    expectError(await owner.call('updateStreamWorkspace', streamsPath(groupId, '/inst-c'), { method: 'PATCH', body: { cloudProvider: 'GCP', region: 'DUBLIN_IRL' } }),
      400, 'INVALID_ENUM_VALUE');
  });

  it('creates with sample connections (2024-08-05)', async () => {
    const res = await owner.call('withStreamSampleConnections', streamsPath(groupId, ':withSampleConnections'), {
      method: 'POST', body: { name: 'inst-sample', dataProcessRegion: { cloudProvider: 'GCP', region: 'US_CENTRAL1' } },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2024-08-05+json;charset=utf-8');
    const conns = await owner.call('listStreamConnections', connPath('inst-sample'));
    expect(conns.json.results.map((c: { name: string }) => c.name)).toEqual(['sample_stream_solar']);
    const bad = await owner.call('withStreamSampleConnections', streamsPath(groupId, ':withSampleConnections'), {
      method: 'POST', body: { name: 'x', dataProcessRegion: { cloudProvider: 'GCP', region: 'US_CENTRAL1' }, nope: true },
    });
    expectError(bad, 400, 'INVALID_ATTRIBUTE');
    const old = await owner.call('withStreamSampleConnections', streamsPath(groupId, ':withSampleConnections'), {
      method: 'POST', accept: ACCEPT.streams, body: { name: 'y', dataProcessRegion: { cloudProvider: 'GCP', region: 'US_CENTRAL1' } },
    });
    expectError(old, 406, 'INVALID_VERSION_DATE');
  });

  it('deletes with 202 {}, taking the connections; refuses 403 while processors exist', async () => {
    await createInstance(owner, groupId, 'inst-d', { sampleConnections: { solar: true } });
    await createProcessor(owner, groupId, 'inst-d', { name: 'p', pipeline: samplePipeline() });
    const refused = await owner.call('deleteStreamWorkspace', streamsPath(groupId, '/inst-d'), { method: 'DELETE' });
    expectError(refused, 403, 'STREAM_TENANT_HAS_STREAM_PROCESSORS', 'Stream instance with name inst-d has active processors, and cannot be changed.');
    await owner.call('deleteStreamProcessor', streamsPath(groupId, '/inst-d/processor/p'), { method: 'DELETE' });
    const res = await owner.call('deleteStreamWorkspace', streamsPath(groupId, '/inst-d'), { method: 'DELETE' });
    expect(res.status).toBe(202);
    expect(res.text).toBe('{}');
    expectError(await owner.call('getStreamWorkspace', streamsPath(groupId, '/inst-d')), 404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME');
    // A new instance of the same name starts with no connections.
    await createInstance(owner, groupId, 'inst-d');
    expect((await owner.call('listStreamConnections', connPath('inst-d'))).json.totalCount).toBe(0);
  });

  it('lets Read Only read but not create; Data Access Admin may create', async () => {
    const readOnly = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_READ_ONLY']));
    const dataAdmin = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_DATA_ACCESS_ADMIN']));
    const body = { name: 'inst-roles', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } };
    expectError(await readOnly.call('createStreamWorkspace', streamsPath(groupId), { method: 'POST', body }), 401, 'USER_UNAUTHORIZED');
    expect((await dataAdmin.call('createStreamWorkspace', streamsPath(groupId), { method: 'POST', body })).status).toBe(200);
    expect((await readOnly.call('listStreamWorkspaces', streamsPath(groupId))).status).toBe(200);
  });
});

describe('stream connections', () => {
  const tenant = 'conn-main';
  beforeAll(async () => { await createInstance(owner, groupId, tenant); });

  it('creates every type with server-filled fields', async () => {
    const bodies: Record<string, unknown>[] = [
      { name: 'sample_stream_solar', type: 'Sample' },
      { name: 'cluster', type: 'Cluster', clusterName: 'Cluster0', dbRoleToExecute: { role: 'readWriteAnyDatabase', type: 'BUILT_IN' } },
      { name: 'https', type: 'Https', url: 'https://example.com/hook', headers: { 'X-B': '1', 'X-A': '2' } },
      { name: 'lambda', type: 'AWSLambda', aws: { roleArn: 'arn:aws:iam::123456789012:role/lambda' } },
      { name: 'kinesis', type: 'AWSKinesisDataStreams', aws: { roleArn: 'arn:aws:iam::123456789012:role/kinesis' } },
      // The base schema's `type` enum lacks S3; the discriminator's mapping names it.
      { name: 's3', type: 'S3', aws: { roleArn: 'arn:aws:iam::123456789012:role/s3', testBucket: 'b' } },
    ];
    for (const body of bodies) {
      const created = await createConnection(owner, groupId, tenant, body);
      expect(created).toMatchObject({ ...body, state: 'READY', region: 'VIRGINIA_USA' });
      expect(created.id).toMatch(/^[a-f0-9]{24}$/);
    }
    const https = await owner.call('getStreamConnection', connPath(tenant, 'https'));
    // The caller's header order is kept; the server's keys are sorted.
    expect(https.text).toContain('"headers":{"X-B":"1","X-A":"2"}');
  });

  it('fills Kafka networking, keeps config order and never returns secrets', async () => {
    const created = await createConnection(owner, groupId, tenant, kafkaConnection('kafka'));
    expect(created.networking).toEqual({ access: { type: 'PUBLIC' } });
    expect(created.authentication).toEqual({ mechanism: 'PLAIN', username: 'alice' });
    const got = await owner.call('getStreamConnection', connPath(tenant, 'kafka'));
    expect(got.text).toContain('"config":{"z.last":"1","a.first":"2"}');
    const updated = await owner.call('updateStreamConnection', connPath(tenant, 'kafka'), { method: 'PATCH', body: kafkaConnection('kafka') });
    expect(updated.status).toBe(200);
    await owner.call('listStreamConnections', connPath(tenant));
    await owner.call('getStreamWorkspace', `${streamsPath(groupId, `/${tenant}`)}?includeConnections=true`);
    for (const secret of [KAFKA_SECRET, SSL_KEY, SSL_KEY_PASSWORD]) {
      for (const text of owner.seen) expect(text).not.toContain(secret);
      for (const line of server.logs) expect(line).not.toContain(secret);
    }
    for (const text of owner.seen) {
      expect(text).not.toMatch(/"password"|"sslKey"|"sslKeyPassword"/);
    }
  });

  it('stores secrets sealed, not in the clear', async () => {
    const rows = server.app.store.transaction((tx) => tx.listAll<unknown>('streamConnection'));
    const text = JSON.stringify((await rows).items);
    expect(text).not.toContain(KAFKA_SECRET);
    expect(text).toContain('v1:');
  });

  it('replaces the whole definition on PATCH, renames, and refuses a taken name', async () => {
    await createConnection(owner, groupId, tenant, { name: 'patchme', type: 'Https', url: 'https://a.example.com', headers: { A: '1' } });
    const res = await owner.call('updateStreamConnection', connPath(tenant, 'patchme'), {
      method: 'PATCH', body: { name: 'patched', type: 'Https', url: 'https://b.example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ name: 'patched', url: 'https://b.example.com' });
    expect(res.json.headers).toBeUndefined();
    expectError(await owner.call('getStreamConnection', connPath(tenant, 'patchme')), 404, 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME');
    const clash = await owner.call('updateStreamConnection', connPath(tenant, 'patched'), {
      method: 'PATCH', body: { name: 'https', type: 'Https', url: 'https://b.example.com' },
    });
    expectError(clash, 409, 'STREAM_CONNECTION_NAME_ALREADY_EXISTS');
    expectError(await owner.call('updateStreamConnection', connPath(tenant, 'ghost'), { method: 'PATCH', body: { name: 'ghost', type: 'Sample' } }),
      404, 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME');
  });

  it('refuses PATCH with 403 while a processor uses the connection', async () => {
    const t = 'conn-held';
    await createInstance(owner, groupId, t, { sampleConnections: { solar: true } });
    await createProcessor(owner, groupId, t, { name: 'holder', pipeline: samplePipeline() });
    const res = await owner.call('updateStreamConnection', streamsPath(groupId, `/${t}/connections/sample_stream_solar`), {
      method: 'PATCH', body: { name: 'sample_stream_solar', type: 'Sample' },
    });
    expectError(res, 403, 'STREAM_CONNECTION_HAS_STREAM_PROCESSORS');
  });

  it('answers 409 for a duplicate name and 400 for invalid definitions', async () => {
    const post = (body: unknown) => owner.call('createStreamConnection', connPath(tenant), { method: 'POST', body });
    await createConnection(owner, groupId, tenant, { name: 'dup', type: 'Https', url: 'https://example.com' });
    expectError(await post({ name: 'dup', type: 'Https', url: 'https://example.com' }), 409, 'STREAM_CONNECTION_NAME_ALREADY_EXISTS');
    expectError(await post({ name: 'k', type: 'Kafka' }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ name: 'k', type: 'Kafka', bootstrapServers: 'no port' }), 400, 'VALIDATION_ERROR');
    expectError(await post({ name: 'k', type: 'Kafka', bootstrapServers: 'h:1', authentication: { mechanism: 'PLAIN', username: 'u' } }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ name: 'k', type: 'Kafka', bootstrapServers: 'h:1', networking: { access: { type: 'PRIVATE_LINK', connectionId: '0123456789abcdef01234567' } } }),
      404, 'STREAM_PRIVATE_LINK_NOT_FOUND');
    expectError(await post({ name: 'c', type: 'Cluster' }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ name: 'h', type: 'Https', url: 'ftp://x' }), 400, 'VALIDATION_ERROR');
    expectError(await post({ name: 'l', type: 'AWSLambda', aws: { roleArn: 'nope' } }), 400, 'VALIDATION_ERROR');
    expectError(await post({ name: 'other', type: 'Sample' }), 400, 'VALIDATION_ERROR');
    expectError(await post({ name: 'x', type: 'kafka' }), 400, 'INVALID_ENUM_VALUE');
    expectError(await post({ name: 'x', type: 'Https', url: 'https://e.com', bogus: 1 }), 400, 'INVALID_ATTRIBUTE');
    expectError(await post({ name: '__testLog', type: 'Https', url: 'https://e.com' }), 400, 'VALIDATION_ERROR');
    expectError(await post({ type: 'Https', url: 'https://e.com' }), 400, 'MISSING_ATTRIBUTE');
    const missing = await owner.call('createStreamConnection', streamsPath(groupId, '/nope/connections'), { method: 'POST', body: { name: 'a', type: 'Sample' } });
    expectError(missing, 404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME');
  });

  it('lists with paging and 404 under a missing instance', async () => {
    const page = await owner.call('listStreamConnections', `${connPath(tenant)}?itemsPerPage=2`);
    expect(page.json.results).toHaveLength(2);
    expect(page.json.totalCount).toBeGreaterThan(2);
    expectError(await owner.call('listStreamConnections', streamsPath(groupId, '/nope/connections')), 404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME');
  });

  it('lets Read Only get a connection but neither list (Data Access roles) nor create them', async () => {
    const readOnly = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_READ_ONLY']));
    const dataReader = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_DATA_ACCESS_READ_ONLY']));
    expect((await readOnly.call('getStreamConnection', connPath(tenant, 'dup'))).status).toBe(200);
    expectError(await readOnly.call('listStreamConnections', connPath(tenant)), 401, 'USER_UNAUTHORIZED');
    expect((await dataReader.call('listStreamConnections', connPath(tenant))).status).toBe(200);
    expectError(await readOnly.call('createStreamConnection', connPath(tenant), { method: 'POST', body: { name: 'ro', type: 'Https', url: 'https://e.com' } }),
      401, 'USER_UNAUTHORIZED');
  });
});
