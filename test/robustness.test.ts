// Bad input of every kind, sent to every operation of the spec: the answer is always an
// Atlas-shaped error (never a crash or a 500) and stored state does not change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../src/protocol/generated/operations.js';
import { ACCEPT, callDigest, startTestServer, type TestServer } from '../src/testing/harness.js';

let server: TestServer;
beforeAll(async () => { server = await startTestServer({ logLevel: 'warn' }); });
afterAll(async () => { await server.close(); });

const KINDS = ['org', 'project', 'apiKey', 'apiKeyAccess', 'serviceAccount', 'serviceAccountSecret', 'serviceAccountAccess',
  'streamInstance', 'streamConnection', 'streamProcessor', 'streamPrivateLink', 'streamVpcPeering', 'checkpoint'];

async function snapshot(): Promise<string> {
  return server.app.store.transaction(async (tx) => {
    const all: Record<string, unknown> = {};
    for (const kind of KINDS) all[kind] = (await tx.listAll(kind)).items;
    return JSON.stringify(all);
  });
}

function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function deepObject(depth: number, key: string): string {
  return `{"${key}":`.repeat(depth) + '1' + '}'.repeat(depth);
}

const BAD_BODIES: string[] = [
  '', '{', '}', 'null', '[]', '"text"', '42', 'true', '{"name": }', '\u0000',
  '{"name":{"$gt":""}}', '{"name":["x"]}', '{"name":1e309}', deepArray(5000), deepObject(5000, 'name'),
  JSON.stringify({ name: 'x'.repeat(100_000), type: 'Kafka', pipeline: 'nope', roles: 'ORG_OWNER', desc: 5 }),
  '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"type":"constructor"}',
];

const BAD_SEGMENTS = ['%00', '%E0%A4%A', '..%2F..%2Fetc', 'x'.repeat(3000), '%F0%9F%92%A9', "'; DROP TABLE entities; --"];

function fillPath(template: string, value: (name: string) => string): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => value(name));
}

function expectAtlasError(res: { status: number; json: any; headers: Headers }, context: string): void {
  expect(res.status, context).toBeGreaterThanOrEqual(400);
  expect(res.status, context).toBeLessThan(500);
  if (res.status === 401 && res.headers.get('www-authenticate')) return;
  expect(res.headers.get('content-type'), context).toBe('application/json');
  expect(res.json, context).toMatchObject({ error: res.status, errorCode: expect.any(String), detail: expect.any(String), parameters: expect.any(Array) });
  expect(res.headers.get('x-error-code'), context).toBe(res.json.errorCode);
}

describe('bad input never crashes and never changes state', () => {
  it('sends malformed bodies to every operation that takes one', async () => {
    const before = await snapshot();
    const ids = (name: string) => (name === 'orgId' ? server.orgId : name === 'groupId' ? server.projectId : 'missing-name');
    for (const op of operations.filter((o) => o.requestBody)) {
      const path = fillPath(op.path, ids);
      const accept = `application/vnd.atlas.${op.versions[op.versions.length - 1]}+json`;
      for (const body of BAD_BODIES) {
        const res = await callDigest(`${server.url}${path}`, server.owner, { method: op.method, body, accept });
        if (res.status < 400) continue; // a body the operation tolerates (e.g. `{}` for an optional body)
        expectAtlasError(res, `${op.operationId} ${body.slice(0, 40)}`);
      }
    }
    expect(await snapshot()).toBe(before);
  }, 120_000);

  it('sends malformed path segments and query values to every operation', async () => {
    const before = await snapshot();
    for (const op of operations) {
      for (const segment of BAD_SEGMENTS) {
        const path = fillPath(op.path, () => segment);
        const query = op.parameters.filter((p) => p.in === 'query').map((p) => `${p.name}=%FF%FE`).join('&');
        const res = await callDigest(`${server.url}${path}${query ? `?${query}` : ''}`, server.owner, { method: op.method, accept: ACCEPT.latest });
        expectAtlasError(res, `${op.operationId} ${segment.slice(0, 20)}`);
      }
    }
    expect(await snapshot()).toBe(before);
  }, 120_000);

  it('answers malformed credentials with the challenge, never a 500', async () => {
    const url = `${server.url}/api/atlas/v2/groups/${server.projectId}/streams`;
    for (const authorization of ['Digest', 'Digest username=', 'Digest username="x", nonce="%%%"', 'Bearer', 'Bearer a.b.c', 'Bearer ' + 'x'.repeat(10_000), 'Basic Og==', '\u00ff']) {
      const res = await fetch(url, { headers: { Accept: ACCEPT.streams, Authorization: authorization } }).catch(() => undefined);
      if (!res) continue; // fetch itself refuses some header values
      expect(res.status, authorization.slice(0, 30)).toBe(401);
    }
  });
});
