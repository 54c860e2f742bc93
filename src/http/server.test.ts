import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, callAnonymous, callDigest, digestAuthorization, startTestServer, type TestServer } from '../testing/harness.js';
import { digestAuthorizationHeader } from './auth/digest.js';

let server: TestServer;
beforeAll(async () => { server = await startTestServer(); });
afterAll(async () => { await server.close(); });

describe('Digest challenge', () => {
  it('answers an unauthenticated call with Atlas challenge, byte for byte', async () => {
    const res = await callAnonymous(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Digest realm="MMS Public API", domain="", nonce="[A-Za-z0-9+/]{32}", algorithm=MD5, qop="auth", stale=false$/);
    expect(res.text).toBe('{\n  "error" : 401,\n  "reason" : "Unauthorized",\n  "detail" : "You are not authorized for this resource.",\n  "errorCode" : "UNEXPECTED_ERROR"\n}');
  });

  it('accepts MD5 and SHA-256 responses', async () => {
    for (const algorithm of ['MD5', 'SHA-256'] as const) {
      const res = await callDigest(`${server.url}/api/atlas/v2/orgs/${server.orgId}`, server.owner, { accept: ACCEPT.identity }, algorithm);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2023-01-01+json;charset=utf-8');
      expect(res.json).toEqual({ id: server.orgId, isDeleted: false, name: 'Local-Organization', skipDefaultAlertsSettings: false });
    }
  });

  it('refuses a replayed nonce and count', async () => {
    const url = `${server.url}/api/atlas/v2/orgs/${server.orgId}`;
    const first = await callAnonymous(url);
    const nonce = /nonce="([^"]+)"/.exec(first.headers.get('www-authenticate')!)![1]!;
    const authorization = digestAuthorization(url, 'GET', server.owner, nonce);
    const once = await fetch(url, { headers: { Accept: ACCEPT.identity, Authorization: authorization } });
    expect(once.status).toBe(200);
    const again = await fetch(url, { headers: { Accept: ACCEPT.identity, Authorization: authorization } });
    expect(again.status).toBe(401);
  });

  it('refuses a wrong private key', async () => {
    const res = await callDigest(`${server.url}/api/atlas/v2/orgs/${server.orgId}`, { ...server.owner, privateKey: 'wrong' }, { accept: ACCEPT.identity });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('Digest realm="MMS Public API"');
  });
});

describe('wire rules', () => {
  const org = () => `${server.url}/api/atlas/v2/orgs/${server.orgId}`;

  it('answers 406 INVALID_VERSION_DATE without a versioned Accept', async () => {
    for (const accept of ['application/json', '*/*', 'application/vnd.atlas.2023-13-45+json', 'application/vnd.atlas.2022-01-01+json']) {
      const res = await callDigest(org(), server.owner, { accept });
      expect(res.status).toBe(406);
      expect(res.text).toBe('{"detail":"Invalid accept header or version date.","error":406,"errorCode":"INVALID_VERSION_DATE","parameters":[],"reason":"Not Acceptable"}');
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('x-error-code')).toBe('INVALID_VERSION_DATE');
      expect(res.headers.get('x-emulator-supported-versions')).toBe('application/vnd.atlas.2023-01-01+json');
    }
  });

  it('serves the latest version on or before the requested date', async () => {
    const res = await callDigest(org(), server.owner, { accept: 'application/vnd.atlas.2099-01-01+json' });
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2023-01-01+json;charset=utf-8');
  });

  it('pretty-prints in Jackson style and wraps in an envelope', async () => {
    const res = await callDigest(`${org()}?pretty=true&envelope=true`, server.owner, { accept: ACCEPT.identity });
    expect(res.text).toBe(`{\n  "content" : {\n    "id" : "${server.orgId}",\n    "isDeleted" : false,\n    "name" : "Local-Organization",\n    "skipDefaultAlertsSettings" : false\n  },\n  "status" : 200\n}`);
  });

  it('pages lists with absolute links', async () => {
    const res = await callDigest(`${server.url}/api/atlas/v2/orgs?itemsPerPage=1`, server.owner, { accept: ACCEPT.identity });
    expect(res.status).toBe(200);
    expect(res.json.links).toEqual([{ href: `${server.url}/api/atlas/v2/orgs?itemsPerPage=1&pageNum=1`, rel: 'self' }]);
    expect(res.json.totalCount).toBe(1);
    expect(res.headers.get('ratelimit-limit')).toBe('1200');
  });

  it('rejects out-of-range paging with INVALID_QUERY_PARAMETER', async () => {
    const res = await callDigest(`${server.url}/api/atlas/v2/orgs?itemsPerPage=501`, server.owner, { accept: ACCEPT.identity });
    expect(res.status).toBe(400);
    expect(res.json.errorCode).toBe('INVALID_QUERY_PARAMETER');
  });

  it('answers unknown routes 404 and wrong methods 405', async () => {
    const missing = await callDigest(`${server.url}/api/atlas/v2/nothing/here`, server.owner);
    expect(missing.status).toBe(404);
    expect(missing.json.errorCode).toBe('RESOURCE_NOT_FOUND');
    const wrong = await callDigest(org(), server.owner, { method: 'PUT', accept: ACCEPT.identity });
    expect(wrong.status).toBe(405);
  });

  it('answers a malformed group id with INVALID_GROUP_ID', async () => {
    const res = await callDigest(`${server.url}/api/atlas/v2/groups/nothex/streams`, server.owner, { accept: ACCEPT.streams });
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ errorCode: 'INVALID_GROUP_ID', parameters: ['nothex'] });
  });
});

describe('paths', () => {
  it('reads repeated slashes as one, as a base URL ending in "/" produces', async () => {
    const res = await callDigest(`${server.url}//api/atlas/v2//orgs/${server.orgId}`, server.owner, { accept: ACCEPT.identity });
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(server.orgId);
  });

  it('reads dot segments and escapes in the target as a URL parser does, query included', async () => {
    const org = `{\n  "id" : "${server.orgId}",\n  "isDeleted" : false,\n  "name" : "Local-Organization",\n  "skipDefaultAlertsSettings" : false\n}`;
    for (const target of [`/api/atlas/v2/orgs/./${server.orgId}?pretty=true`, `/api/atlas/v2/groups/../orgs/${server.orgId}?pretty=true`,
      `/api/atlas/v2/orgs/%${server.orgId.charCodeAt(0).toString(16)}${server.orgId.slice(1)}?pretty=%74rue`]) {
      const res = await digestGetOfRawTarget(target);
      expect({ target, status: res.status, text: res.text }).toEqual({ target, status: 200, text: org });
    }
    // A trailing dot segment leaves a trailing slash: no route has one.
    for (const target of [`/api/atlas/v2/orgs/${server.orgId}/.`, `/api/atlas/v2/orgs/${server.orgId}/x/..`]) {
      const res = await digestGetOfRawTarget(target);
      expect({ target, status: res.status, parameters: JSON.parse(res.text).parameters }).toEqual({ target, status: 404, parameters: [`/api/atlas/v2/orgs/${server.orgId}/`] });
    }
  });
});

/** GET of a target sent as it is (fetch would resolve its dot segments first), with Digest's two legs. */
async function digestGetOfRawTarget(target: string): Promise<{ status: number; text: string }> {
  const get = (authorization?: string) => new Promise<{ status: number; text: string; challenge?: string }>((resolve, reject) => {
    const headers: Record<string, string> = { Accept: ACCEPT.identity, ...(authorization ? { Authorization: authorization } : {}) };
    const req = request(`${server.url}/`, { path: target, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode!, text, challenge: res.headers['www-authenticate'] }));
    });
    req.on('error', reject);
    req.end();
  });
  const nonce = /nonce="([^"]+)"/.exec((await get()).challenge ?? '')![1]!;
  return get(digestAuthorizationHeader({ method: 'GET', uri: target, username: server.owner.publicKey, password: server.owner.privateKey, nonce, algorithm: 'MD5', nc: '00000001' }));
}

describe('Digest uri', () => {
  it('refuses an answer computed for another path', async () => {
    const url = `${server.url}/api/atlas/v2/orgs/${server.orgId}`;
    const first = await callAnonymous(url);
    const nonce = /nonce="([^"]+)"/.exec(first.headers.get('www-authenticate')!)![1]!;
    const forOther = digestAuthorization(`${server.url}/api/atlas/v2/orgs`, 'GET', server.owner, nonce);
    const res = await fetch(url, { headers: { Accept: ACCEPT.identity, Authorization: forOther } });
    expect(res.status).toBe(401);
  });
});

describe('refusals', () => {
  it('are logged with the role that was missing and the roles held', async () => {
    const project = `${server.url}/api/atlas/v2/groups/${server.projectId}`;
    const created = await callDigest(`${project}/apiKeys`, server.owner, {
      method: 'POST', accept: ACCEPT.identity, body: { desc: 'reader', roles: ['GROUP_READ_ONLY'] },
    });
    expect(created.status).toBe(200);
    const reader = { publicKey: created.json.publicKey, privateKey: created.json.privateKey };
    const refused = await callDigest(`${project}/streams/any/connections/any`, reader, { method: 'DELETE', accept: ACCEPT.streams });
    expect(refused.status).toBe(401);
    expect(refused.json.errorCode).toBe('USER_UNAUTHORIZED');
    const line = server.logs.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith('refused') && l.operationId === 'deleteStreamConnection');
    expect(line).toMatchObject({ principal: reader.publicKey, requiredOneOf: ['ORG_STREAM_PROCESSING_ADMIN', 'GROUP_STREAM_PROCESSING_OWNER'] });
    expect(line.held).toContain('GROUP_READ_ONLY');
  });
});
