// Two API nodes, separate processes, on one PostgreSQL database: whichever node a client
// reaches, it gets the same answer. A Digest challenge from one node is answered at the other
// and cannot be replayed at either; a token from one is honoured, and once revoked refused,
// by both; rate-limit counts are shared; racing deletes end with one winner; an answer a node
// reuses (src/http/response-cache.ts) shows the next call what the other node wrote.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, callAnonymous, callBearer, callDigest, digestAuthorization, fetchToken, type CallOptions } from '../src/testing/harness.js';
import { clusterEnvironment, startNodes, stopNodes, type ClusterEnvironment } from '../src/testing/cluster.js';
import { createTestSchema, SKIP_MESSAGE, testDatabaseUrl, type TestSchema } from '../src/testing/postgres.js';
import type { ServerProcess } from '../src/testing/server-process.js';
import { expectError, V2 } from './streams-fixtures.js';

const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);

describe.skipIf(!serverUrl)('two API nodes on one PostgreSQL database', () => {
  let schema: TestSchema;
  let cluster: ClusterEnvironment;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    schema = await createTestSchema(serverUrl!);
    cluster = clusterEnvironment(schema.url);
    [a, b] = await startNodes(cluster, [['--enforce-rate-limits'], ['--enforce-rate-limits']]) as [ServerProcess, ServerProcess];
  }, 60_000);

  afterAll(async () => {
    await stopNodes([a, b]);
    await schema?.drop();
  });

  const digest = (node: ServerProcess, path: string, options: CallOptions = {}) => callDigest(`${node.url}${path}`, cluster.owner, options);

  it('both nodes bootstrapped the same organization and project', () => {
    expect(b.orgId).toBe(a.orgId);
    expect(b.projectId).toBe(a.projectId);
  });

  it("answers a Digest challenge from one node at the other, and refuses its replay at either", async () => {
    const path = `${V2}/groups/${a.projectId}`;
    const challenge = await callAnonymous(`${a.url}${path}`, { accept: ACCEPT.identity });
    expect(challenge.status).toBe(401);
    const nonce = /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate')!)![1]!;
    const authorization = digestAuthorization(`${b.url}${path}`, 'GET', cluster.owner, nonce);
    const answered = await callAnonymous(`${b.url}${path}`, { accept: ACCEPT.identity, headers: { Authorization: authorization } });
    expect(answered.status).toBe(200);
    expect(answered.json.id).toBe(a.projectId);
    for (const node of [a, b]) {
      const replay = await callAnonymous(`${node.url}${path}`, { accept: ACCEPT.identity, headers: { Authorization: authorization } });
      expect(replay.status).toBe(401);
    }
  });

  it('honours a token issued by one node at the other, and refuses it everywhere once revoked', async () => {
    const token = await fetchToken(a.url, cluster.clientId, cluster.clientSecret);
    const path = `${V2}/groups/${a.projectId}`;
    // Twice at each: the second call is answered from what the node remembers of the token.
    for (const node of [a, b, a, b]) expect((await callBearer(`${node.url}${path}`, token, { accept: ACCEPT.identity })).status).toBe(200);
    const revoke = await fetch(`${b.url}/api/oauth/revoke`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${cluster.clientId}:${cluster.clientSecret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(revoke.status).toBe(200);
    for (const node of [a, b]) expect((await callBearer(`${node.url}${path}`, token, { accept: ACCEPT.identity })).status).toBe(401);
  });

  it('counts one rate-limit window across both nodes', async () => {
    const path = `${V2}/groups/${a.projectId}/streams`;
    const first = await digest(a, path, { accept: ACCEPT.streams });
    const second = await digest(b, path, { accept: ACCEPT.streams });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const remaining = (res: typeof first) => Number(res.headers.get('ratelimit-remaining'));
    // Other tests' calls may land in between, never fewer than this one.
    expect(remaining(second)).toBeLessThan(remaining(first));
  });

  it('gives each of many calls at once its own count', async () => {
    const token = await fetchToken(a.url, cluster.clientId, cluster.clientSecret);
    const path = `${V2}/groups/${a.projectId}/streams`;
    const calls = await Promise.all(Array.from({ length: 12 }, (_, i) => callBearer(`${(i % 3 === 0 ? b : a).url}${path}`, token, { accept: ACCEPT.streams })));
    for (const call of calls) expect(call.status).toBe(200);
    const remaining = calls.map((c) => Number(c.headers.get('ratelimit-remaining'))).sort((x, y) => x - y);
    // Other tests' calls may land in between: distinct counts, none shared.
    expect(new Set(remaining).size).toBe(calls.length);
  });

  it('shows a read one node answered before an edit and a deletion made through the other', async () => {
    const instances = `${V2}/groups/${a.projectId}/streams`;
    expect((await digest(a, instances, { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'reused', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } })).status).toBe(200);
    const connections = `${instances}/reused/connections`;
    expect((await digest(a, connections, { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'hook', type: 'Https', url: 'https://example.com/before' } })).status).toBe(200);
    const token = await fetchToken(b.url, cluster.clientId, cluster.clientSecret);
    const read = () => callBearer(`${b.url}${connections}/hook`, token, { accept: ACCEPT.streams });
    for (let i = 0; i < 3; i++) expect((await read()).json.url).toBe('https://example.com/before');
    expect((await digest(a, `${connections}/hook`, { method: 'PATCH', accept: ACCEPT.streams,
      body: { name: 'hook', type: 'Https', url: 'https://example.com/after' } })).status).toBe(200);
    expect((await read()).json.url).toBe('https://example.com/after');
    expect((await digest(a, `${connections}/hook`, { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(202);
    expectError(await read(), 404, 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME');
  });

  it('sees on one node what was written through the other', async () => {
    const instances = `${V2}/groups/${a.projectId}/streams`;
    const created = await digest(a, instances, { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'shared', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } });
    expect(created.status).toBe(200);
    const seen = await digest(b, `${instances}/shared`, { accept: ACCEPT.streams });
    expect(seen.status).toBe(200);
    expect(seen.json.name).toBe('shared');
    const duplicate = await digest(b, instances, { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'shared', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } });
    expect(duplicate.status).toBe(409);
  });

  it('20 concurrent DELETEs of one connection across two nodes: one 202, the rest 404', async () => {
    const connections = `${V2}/groups/${a.projectId}/streams/shared/connections`;
    const created = await digest(b, connections, { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'contested', type: 'Kafka', bootstrapServers: '127.0.0.1:9', security: { protocol: 'PLAINTEXT' } } });
    expect(created.status).toBe(200);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      digest(i % 2 === 0 ? a : b, `${connections}/contested`, { method: 'DELETE', accept: ACCEPT.streams })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([202, ...Array<number>(19).fill(404)]);
    for (const res of results.filter((r) => r.status === 404)) expectError(res, 404, 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME');
    for (const node of [a, b]) expect((await digest(node, `${connections}/contested`, { accept: ACCEPT.streams })).status).toBe(404);
  });
});
