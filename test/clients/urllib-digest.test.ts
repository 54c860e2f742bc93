// urllib's own HTTP Digest implementation (digestAuth: 'public:private'), independent of
// ours and of Atlas's clients: it parses the challenge by splitting on "," (not ", "),
// answers with MD5 and qop=auth, sends no algorithm= in its answer, and counts nc
// across every request the process makes. The first leg of a POST carries the body too.
import type { IncomingMessage } from 'node:http';
import { request, type RequestOptions } from 'urllib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, startTestServer, type ApiKeyCredentials, type TestServer } from '../../src/testing/harness.js';

let server: TestServer;
/** Every Authorization header the server received, to show what urllib sends. */
const authorizations: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
  server.app.server.prependListener('request', (req: IncomingMessage) => {
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
  });
});
afterAll(async () => { await server.close(); });

const V2 = '/api/atlas/v2';

async function call(path: string, credentials: ApiKeyCredentials, options: RequestOptions & { accept?: string } = {}) {
  const { accept, ...rest } = options;
  const response = await request(`${server.url}${path}`, {
    method: 'GET',
    digestAuth: `${credentials.publicKey}:${credentials.privateKey}`,
    timeout: 15_000,
    dataType: 'text',
    ...rest,
    headers: { Accept: accept ?? ACCEPT.latest, ...(rest.headers ?? {}) },
  });
  const text = String(response.data ?? '');
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

function post(path: string, credentials: ApiKeyCredentials, body: unknown, accept?: string) {
  return call(path, credentials, { method: 'POST', content: JSON.stringify(body), contentType: 'application/json', accept });
}

describe('urllib Digest (MD5) against identity paths', () => {
  it('reads the organization and pages a list with a query string in the digest uri', async () => {
    const org = await call(`${V2}/orgs/${server.orgId}`, server.owner, { accept: ACCEPT.identity });
    expect(org.status).toBe(200);
    expect(org.json).toEqual({ id: server.orgId, isDeleted: false, name: 'Local-Organization', skipDefaultAlertsSettings: false });

    const list = await call(`${V2}/orgs?itemsPerPage=1&pageNum=1`, server.owner, { accept: ACCEPT.identity });
    expect(list.status).toBe(200);
    expect(list.json.totalCount).toBe(1);

    // What urllib answers with: MD5 implied (no algorithm=), qop=auth, its own nc count.
    const last = authorizations.at(-1)!;
    expect(last).toMatch(/^Digest username="[^"]+", realm="MMS Public API", nonce="[^"]+", uri="\/api\/atlas\/v2\/orgs\?itemsPerPage=1&pageNum=1", response="[0-9a-f]{32}", qop=auth, nc=\d{8}, cnonce="[0-9a-f]{16}"$/);
    expect(last).not.toContain('algorithm=');
  });

  it('creates an API key with POST, uses it, deletes it with DELETE, and then it is refused', async () => {
    const created = await post(`${V2}/orgs/${server.orgId}/apiKeys`, server.owner, { desc: 'urllib key', roles: ['ORG_READ_ONLY'] }, ACCEPT.identity);
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ desc: 'urllib key', roles: [{ orgId: server.orgId, roleName: 'ORG_READ_ONLY' }] });
    const key: ApiKeyCredentials = { publicKey: created.json.publicKey, privateKey: created.json.privateKey };

    // Exactly one key was made although urllib sent the body on both legs.
    const keys = await call(`${V2}/orgs/${server.orgId}/apiKeys`, server.owner, { accept: ACCEPT.identity });
    expect(keys.json.results.filter((k: { desc: string }) => k.desc === 'urllib key')).toHaveLength(1);

    const asKey = await call(`${V2}/orgs/${server.orgId}`, key, { accept: ACCEPT.identity });
    expect(asKey.status).toBe(200);

    const deleted = await call(`${V2}/orgs/${server.orgId}/apiKeys/${created.json.id}`, server.owner, { method: 'DELETE', accept: ACCEPT.identity });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');

    const refused = await call(`${V2}/orgs/${server.orgId}`, key, { accept: ACCEPT.identity });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Digest realm="MMS Public API"/);
  });

  it('is refused with a wrong private key', async () => {
    const res = await call(`${V2}/orgs/${server.orgId}`, { ...server.owner, privateKey: 'not-the-key' }, { accept: ACCEPT.identity });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 401, errorCode: 'UNEXPECTED_ERROR' });
  });
});

describe('urllib Digest (MD5) against streams paths', () => {
  const streams = () => `${V2}/groups/${server.projectId}/streams`;

  it('creates an instance with POST exactly once, adds and deletes a connection, deletes the instance', async () => {
    const before = await call(streams(), server.owner, { accept: ACCEPT.streams });
    expect(before.status).toBe(200);
    expect(before.json.totalCount).toBe(0);

    const created = await post(streams(), server.owner, {
      name: 'urllib-instance', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, streamConfig: { tier: 'SP10' },
    }, ACCEPT.streams);
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ name: 'urllib-instance', groupId: server.projectId, streamConfig: { tier: 'SP10' } });

    const after = await call(streams(), server.owner, { accept: ACCEPT.streams });
    expect(after.json.totalCount).toBe(1);

    const connection = await post(`${streams()}/urllib-instance/connections`, server.owner, { name: 'sample_stream_solar', type: 'Sample' }, ACCEPT.streams);
    expect(connection.status).toBe(200);
    expect(connection.json).toMatchObject({ name: 'sample_stream_solar', type: 'Sample' });

    const processor = await post(`${streams()}/urllib-instance/processor`, server.owner, {
      name: 'urllib-processor', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }],
    }, ACCEPT.processors);
    expect(processor.status).toBe(200);
    expect(processor.json).toMatchObject({ name: 'urllib-processor' });
    const stored = await call(`${streams()}/urllib-instance/processor/urllib-processor`, server.owner, { accept: ACCEPT.processors });
    expect(stored.json).toMatchObject({ name: 'urllib-processor', state: 'CREATED' });

    const processorGone = await call(`${streams()}/urllib-instance/processor/urllib-processor`, server.owner, { method: 'DELETE', accept: ACCEPT.processors });
    expect(processorGone.status).toBe(204);

    const connectionGone = await call(`${streams()}/urllib-instance/connections/sample_stream_solar`, server.owner, { method: 'DELETE', accept: ACCEPT.streams });
    expect(connectionGone.status).toBe(202);
    expect(connectionGone.json).toEqual({});

    const instanceGone = await call(`${streams()}/urllib-instance`, server.owner, { method: 'DELETE', accept: ACCEPT.streams });
    expect(instanceGone.status).toBe(202);
    expect(instanceGone.json).toEqual({});

    const missing = await call(`${streams()}/urllib-instance`, server.owner, { accept: ACCEPT.streams });
    expect(missing.status).toBe(404);
    expect(missing.json.errorCode).toBe('STREAM_TENANT_NOT_FOUND_FOR_NAME');
  });
});
