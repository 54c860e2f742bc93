// Project-level Streams resources (private links, VPC peering, account details) and the
// per-instance audit trail.
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestClient, startTestServer, type Client, type TestServer } from '../src/testing/harness.js';
import { createProjectKey } from './identity-helpers.js';
import { createConnection, createInstance, expectError, streamsClient, streamsPath, type StreamsClient } from './streams-fixtures.js';

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

describe('private link connections', () => {
  const plPath = (id = '') => streamsPath(groupId, `/privateLinkConnections${id ? `/${id}` : ''}`);

  it('creates (provider upper-cased), gets, lists and deletes', async () => {
    const body = { provider: 'aws', vendor: 'CONFLUENT', region: 'us-east-1', serviceEndpointId: 'com.amazonaws.vpce.us-east-1.vpce-svc-0123', dnsDomain: 'example.aws.confluent.cloud', dnsSubDomain: ['use1-az1'] };
    const created = await owner.call('createPrivateLinkConnection', plPath(), { method: 'POST', body });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ ...body, provider: 'AWS', state: 'DONE' });
    expect(created.json._id).toMatch(/^[a-f0-9]{24}$/);
    expect(created.json.interfaceEndpointId).toMatch(/^vpce-/);
    const got = await owner.call('getPrivateLinkConnection', plPath(created.json._id));
    expect(got.json).toEqual(created.json);
    // Usable from a Kafka connection's networking.
    await createInstance(owner, groupId, 'pl-user');
    await createConnection(owner, groupId, 'pl-user', { name: 'k', type: 'Kafka', bootstrapServers: 'b:9092', networking: { access: { type: 'PRIVATE_LINK', connectionId: created.json._id } } });
    const dup = await owner.call('createPrivateLinkConnection', plPath(), { method: 'POST', body });
    expectError(dup, 409, 'STREAM_PRIVATE_LINK_ALREADY_EXISTS');
    const msk = await owner.call('createPrivateLinkConnection', plPath(), { method: 'POST', body: { provider: 'AWS', vendor: 'MSK', arn: 'arn:aws:kafka:us-east-1:123456789012:cluster/c/1' } });
    expect(msk.status).toBe(200);
    const list = await owner.call('listPrivateLinkConnections', plPath());
    expect(list.json.totalCount).toBe(2);
    const del = await owner.call('deletePrivateLinkConnection', plPath(created.json._id), { method: 'DELETE' });
    expect(del.status).toBe(202);
    expect(del.text).toBe('{}');
    expectError(await owner.call('getPrivateLinkConnection', plPath(created.json._id)), 404, 'STREAM_PRIVATE_LINK_NOT_FOUND');
    expectError(await owner.call('deletePrivateLinkConnection', plPath(created.json._id), { method: 'DELETE' }), 404, 'STREAM_PRIVATE_LINK_NOT_FOUND');
  });

  it('refuses missing and invalid fields', async () => {
    const post = (body: unknown) => owner.call('createPrivateLinkConnection', plPath(), { method: 'POST', body });
    expectError(await post({ region: 'us-east-1' }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ provider: 'IBM', region: 'x' }), 400, 'VALIDATION_ERROR');
    expectError(await post({ provider: 'AWS', vendor: 'MSK' }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ provider: 'AZURE', region: 'eastus' }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ provider: 'AWS', vendor: 'MSK', arn: 'not-an-arn' }), 400, 'VALIDATION_ERROR');
    expectError(await post({ provider: 'AWS', state: 'DONE' }), 400, 'ATTRIBUTE_READ_ONLY');
  });

  it('lets Read Only get but not create', async () => {
    const readOnly = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_READ_ONLY']));
    expectError(await readOnly.call('createPrivateLinkConnection', plPath(), { method: 'POST', body: { provider: 'GCP', region: 'us-central1' } }), 401, 'USER_UNAUTHORIZED');
    const created = await owner.call('createPrivateLinkConnection', plPath(), { method: 'POST', body: { provider: 'gcp', region: 'us-central1' } });
    expect((await readOnly.call('getPrivateLinkConnection', plPath(created.json._id))).status).toBe(200);
  });
});

describe('VPC peering connections', () => {
  const seed = async (requesterAccountId: string, requesterVpcId: string) => {
    const res = await raw.call(`/emulator/v1/groups/${groupId}/streams/vpcPeeringConnections`, {
      method: 'POST', body: { requesterAccountId, requesterVpcId, requesterCidr: '10.0.0.0/16' },
    });
    expect(res.status, res.text).toBe(200);
    return res.json;
  };
  const vpcPath = (rest = '') => streamsPath(groupId, `/vpcPeeringConnections${rest}`);

  it('seeds through the emulator endpoint, lists by requester, accepts with the challenge, rejects, deletes', async () => {
    const a = await seed('111111111111', 'vpc-aaa');
    const b = await seed('111111111111', 'vpc-bbb');
    await seed('222222222222', 'vpc-ccc');
    expect(a).toMatchObject({ requesterAccountId: '111111111111', requesterVpcId: 'vpc-aaa', status: 'pending-acceptance', cloudProvider: 'AWS' });
    const listed = await owner.call('listVpcPeeringConnections', `${vpcPath()}?requesterAccountId=111111111111`);
    expect(listed.status).toBe(200);
    expect(listed.json.results.map((p: { _id: string }) => p._id)).toEqual([a._id, b._id]);
    expectError(await owner.call('listVpcPeeringConnections', vpcPath()), 400, 'MISSING_QUERY_PARAMETER');

    const wrong = await owner.call('acceptVpcPeeringConnection', vpcPath(`/${a._id}:accept`), { method: 'POST', body: { requesterAccountId: '111111111111', requesterVpcId: 'vpc-zzz' } });
    expectError(wrong, 400, 'STREAM_VPC_PEERING_CHALLENGE_FAILED');
    const accepted = await owner.call('acceptVpcPeeringConnection', vpcPath(`/${a._id}:accept`), { method: 'POST', body: { requesterAccountId: '111111111111', requesterVpcId: 'vpc-aaa' } });
    expect(accepted.status).toBe(202);
    const active = await owner.call('listActivePeeringConnections', streamsPath(groupId, '/activeVpcPeeringConnections'));
    expect(active.json.results.map((p: { _id: string; status: string }) => [p._id, p.status])).toEqual([[a._id, 'active']]);

    expect((await owner.call('rejectVpcPeeringConnection', vpcPath(`/${b._id}:reject`), { method: 'POST' })).status).toBe(202);
    const rejectActive = await owner.call('rejectVpcPeeringConnection', vpcPath(`/${a._id}:reject`), { method: 'POST' });
    expectError(rejectActive, 409, 'STREAM_VPC_PEERING_INVALID_STATE');
    expect((await owner.call('deleteVpcPeeringConnection', vpcPath(`/${a._id}`), { method: 'DELETE' })).status).toBe(202);
    expectError(await owner.call('deleteVpcPeeringConnection', vpcPath(`/${a._id}`), { method: 'DELETE' }), 404, 'STREAM_VPC_PEERING_CONNECTION_NOT_FOUND');
    expectError(await owner.call('acceptVpcPeeringConnection', vpcPath(`/${a._id}:accept`), { method: 'POST', body: {} }), 404, 'STREAM_VPC_PEERING_CONNECTION_NOT_FOUND');
  });

  it('refuses seeding to callers without the role and bad seeds', async () => {
    const readOnlyKey = await createProjectKey(raw, groupId, ['GROUP_READ_ONLY']);
    const res = await digestClient(server, readOnlyKey).call(`/emulator/v1/groups/${groupId}/streams/vpcPeeringConnections`, {
      method: 'POST', body: { requesterAccountId: '111111111111', requesterVpcId: 'vpc-x' },
    });
    expectError(res, 401, 'USER_UNAUTHORIZED');
    const bad = await raw.call(`/emulator/v1/groups/${groupId}/streams/vpcPeeringConnections`, { method: 'POST', body: { requesterAccountId: 'abc', requesterVpcId: 'vpc-x' } });
    expectError(bad, 400, 'VALIDATION_ERROR');
    const unknownRoute = await raw.call(`/emulator/v1/groups/${groupId}/nothing`);
    expectError(unknownRoute, 404, 'RESOURCE_NOT_FOUND');
  });
});

describe('account details', () => {
  it('answers deterministic AWS and Azure details per project and region', async () => {
    const path = (provider: string, region: string) => `${streamsPath(groupId, '/accountDetails')}?cloudProvider=${provider}&regionName=${region}`;
    const aws = await owner.call('getAccountDetails', path('aws', 'US_EAST_1'));
    expect(aws.status).toBe(200);
    expect(aws.headers.get('content-type')).toBe('application/vnd.atlas.2024-11-13+json;charset=utf-8');
    expect(aws.json).toEqual({ awsAccountId: expect.stringMatching(/^\d{12}$/), cidrBlock: expect.stringMatching(/^192\.168\.\d+\.0\/21$/), cloudProvider: 'aws', vpcId: expect.stringMatching(/^vpc-[a-f0-9]{17}$/) });
    expect((await owner.call('getAccountDetails', path('aws', 'US_EAST_1'))).json).toEqual(aws.json);
    const other = await owner.call('getAccountDetails', path('aws', 'EU_WEST_1'));
    expect(other.json.vpcId).not.toBe(aws.json.vpcId);
    const azure = await owner.call('getAccountDetails', path('azure', 'US_EAST_2'));
    expect(azure.json).toMatchObject({ cloudProvider: 'azure', azureSubscriptionId: expect.stringMatching(/^[a-f0-9]{8}-[a-f0-9]{4}-/) });
    expectError(await owner.call('getAccountDetails', path('gcp', 'US_EAST_1')), 400, 'INVALID_QUERY_PARAMETER');
    expectError(await owner.call('getAccountDetails', `${streamsPath(groupId, '/accountDetails')}?cloudProvider=aws`), 400, 'MISSING_QUERY_PARAMETER');
  });
});

describe('audit logs', () => {
  const download = (tenant: string, query = '') => owner.call('downloadAuditLogs', `${streamsPath(groupId, `/${tenant}/auditLogs`)}${query}`, {
    accept: 'application/vnd.atlas.2023-02-01+gzip',
  });

  /** The trail is written once each response is finished: read until the call shows up. */
  async function trailUntil(tenant: string, operationId: string): Promise<Array<Record<string, unknown>>> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const res = await fetchTrail(tenant);
      if (res.some((e) => e['operationId'] === operationId)) return res;
    }
    throw new Error(`${operationId} never appeared in the audit trail`);
  }

  async function fetchTrail(tenant: string): Promise<Array<Record<string, unknown>>> {
    const url = `${server.url}${streamsPath(groupId, `/${tenant}/auditLogs`)}`;
    const first = await fetch(url);
    const nonce = /nonce="([^"]+)"/.exec(first.headers.get('www-authenticate')!)![1]!;
    const { digestAuthorization } = await import('../src/testing/harness.js');
    const res = await fetch(url, { headers: { Accept: 'application/vnd.atlas.2023-02-01+gzip', Authorization: digestAuthorization(url, 'GET', server.owner, nonce) } });
    const text = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('serves a gzip trail of the calls on the instance with Atlas headers', async () => {
    await createInstance(owner, groupId, 'audited');
    await createConnection(owner, groupId, 'audited', { name: 'h', type: 'Https', url: 'https://example.com' });
    await owner.call('getStreamConnection', streamsPath(groupId, '/audited/connections/missing'));
    const trail = await trailUntil('audited', 'getStreamConnection');
    const create = trail.find((e) => e['operationId'] === 'createStreamConnection')!;
    expect(create).toMatchObject({ method: 'POST', path: streamsPath(groupId, '/audited/connections'), status: 200, principal: expect.any(String) });
    expect(Date.parse(create['at'] as string)).not.toBeNaN();
    expect(trail.find((e) => e['operationId'] === 'getStreamConnection')).toMatchObject({ status: 404 });
    // Unauthenticated challenge legs are not calls.
    expect(trail.every((e) => e['status'] !== 401 || e['principal'])).toBe(true);

    const res = await download('audited', '?startDate=1700000000&endDate=1700003600');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2023-02-01+gzip');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="audited_1700000000_1700003600_audit.log.gz"');
  });

  it('defaults to the last 30 days and refuses bad ranges, JSON and a missing instance', async () => {
    await createInstance(owner, groupId, 'audited2');
    const res = await download('audited2');
    expect(res.status).toBe(200);
    const [, start, end] = /_(\d+)_(\d+)_audit/.exec(res.headers.get('content-disposition')!)!;
    expect(Number(end) - Number(start)).toBe(30 * 24 * 3600);
    expectError(await download('audited2', '?startDate=1700003600&endDate=1700000000'), 400, 'INVALID_QUERY_PARAMETER');
    expectError(await download('audited2', '?startDate=yesterday'), 400, 'INVALID_QUERY_PARAMETER');
    expectError(await download('nope'), 404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME');
    const json = await owner.call('downloadAuditLogs', streamsPath(groupId, '/audited2/auditLogs'));
    expectError(json, 406, 'INVALID_VERSION_DATE');
  });
});

describe('every Streams operation', () => {
  it('answers GROUP_NOT_FOUND, INVALID_GROUP_ID and the Digest challenge the same way', async () => {
    const { operations } = await import('../src/protocol/generated/operations.js');
    const streamsOps = operations.filter((o) => o.tag === 'Streams');
    expect(streamsOps).toHaveLength(30);
    const fill = (path: string, group: string) => path.replace('{groupId}', group).replace(/\{[^}]+\}/g, 'x')
      .replace('/api/atlas/v2', '') + (path.includes('vpcPeeringConnections') && !path.includes('{id}') ? '?requesterAccountId=1' : '')
      + (path.endsWith('accountDetails') ? '?cloudProvider=aws&regionName=US_EAST_1' : '');
    for (const op of streamsOps) {
      const version = op.versions[op.versions.length - 1];
      const accept = `application/vnd.atlas.${version}+${op.format}`;
      const body = op.requestBody ? {} : undefined;
      const missing = await owner.call(op.operationId, `/api/atlas/v2${fill(op.path, '0123456789abcdef01234567')}`, { method: op.method, accept, body });
      expectError(missing, 404, 'GROUP_NOT_FOUND');
      const invalid = await owner.call(op.operationId, `/api/atlas/v2${fill(op.path, 'zz')}`, { method: op.method, accept, body });
      expectError(invalid, 404, 'INVALID_GROUP_ID');
      const anonymous = await fetch(`${server.url}/api/atlas/v2${fill(op.path, groupId)}`, { method: op.method, headers: { Accept: accept } });
      expect(anonymous.status, op.operationId).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain('Digest realm="MMS Public API"');
    }
  });
});
