// A client polling one connection is answered from the serialized answer of an earlier read
// while nothing has changed (src/http/response-cache.ts). These tests show that every change a
// caller could make or suffer is seen on the very next read: an edit, a deletion, a lost role,
// a revoked token; and that per-call headers stay per call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, callBearer, fetchToken, startTestServer, type TestServer } from '../src/testing/harness.js';
import { basic, expectError, oauth, V2 } from './identity-helpers.js';
import { createConnection, createInstance, streamsClient, streamsPath, type StreamsClient } from './streams-fixtures.js';

let server: TestServer;
let owner: StreamsClient;
let groupId: string;
let account: { clientId: string; secret: string };

beforeAll(async () => {
  server = await startTestServer();
  owner = streamsClient(server);
  groupId = server.projectId;
  const made = await owner.call('createGroupServiceAccount', `${V2}/groups/${groupId}/serviceAccounts`, {
    method: 'POST', accept: ACCEPT.serviceAccounts,
    body: { name: 'poller', description: 'polls a connection', roles: ['GROUP_STREAM_PROCESSING_OWNER'], secretExpiresAfterHours: 24 },
  });
  expect(made.status).toBe(201);
  account = { clientId: made.json.clientId, secret: made.json.secrets[0].secret };
});
afterAll(async () => { await server.close(); });

const connectionUrl = (tenant: string, name: string, query = '') => `${server.url}${streamsPath(groupId, `/${tenant}/connections/${name}`)}${query}`;
const hook = (name: string, url: string) => ({ name, type: 'Https', url });

describe('repeated reads of a connection', () => {
  it('answer alike, with rate-limit headers counted per call and each presentation its own', async () => {
    await createInstance(owner, groupId, 'reuse-same');
    await createConnection(owner, groupId, 'reuse-same', hook('h', 'https://example.com/one'));
    const token = await fetchToken(server.url, account.clientId, account.secret);
    const first = await callBearer(connectionUrl('reuse-same', 'h'), token, { accept: ACCEPT.streams });
    const second = await callBearer(connectionUrl('reuse-same', 'h'), token, { accept: ACCEPT.streams });
    expect(first.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(first.json).toMatchObject({ name: 'h', type: 'Https', url: 'https://example.com/one' });
    expect(second.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(Number(second.headers.get('ratelimit-remaining'))).toBe(Number(first.headers.get('ratelimit-remaining')) - 1);

    const pretty = await callBearer(connectionUrl('reuse-same', 'h', '?pretty=true'), token, { accept: ACCEPT.streams });
    expect(pretty.text).toContain('"name" : "h"');
    const envelope = await callBearer(connectionUrl('reuse-same', 'h', '?envelope=true'), token, { accept: ACCEPT.streams });
    expect(envelope.json).toEqual({ content: first.json, status: 200 });
    expect((await callBearer(connectionUrl('reuse-same', 'h'), token, { accept: ACCEPT.streams })).text).toBe(first.text);
  });

  it('show an edit and a deletion at once', async () => {
    await createInstance(owner, groupId, 'reuse-edit');
    await createConnection(owner, groupId, 'reuse-edit', hook('h', 'https://example.com/before'));
    const token = await fetchToken(server.url, account.clientId, account.secret);
    expect((await callBearer(connectionUrl('reuse-edit', 'h'), token, { accept: ACCEPT.streams })).json.url).toBe('https://example.com/before');
    const edit = await owner.call('updateStreamConnection', streamsPath(groupId, '/reuse-edit/connections/h'), {
      method: 'PATCH', accept: ACCEPT.streams, body: hook('h', 'https://example.com/after'),
    });
    expect(edit.status).toBe(200);
    expect((await callBearer(connectionUrl('reuse-edit', 'h'), token, { accept: ACCEPT.streams })).json.url).toBe('https://example.com/after');
    const list = await callBearer(`${server.url}${streamsPath(groupId, '/reuse-edit/connections')}`, token, { accept: ACCEPT.streams });
    expect(list.json.results.map((c: { url: string }) => c.url)).toEqual(['https://example.com/after']);

    expect((await owner.call('deleteStreamConnection', streamsPath(groupId, '/reuse-edit/connections/h'), { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(202);
    expectError(await callBearer(connectionUrl('reuse-edit', 'h'), token, { accept: ACCEPT.streams }), 404, 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME');
    const emptied = await callBearer(`${server.url}${streamsPath(groupId, '/reuse-edit/connections')}`, token, { accept: ACCEPT.streams });
    expect(emptied.json.results).toEqual([]);
  });

  it('stop at once when the caller loses its role or its token', async () => {
    await createInstance(owner, groupId, 'reuse-auth');
    await createConnection(owner, groupId, 'reuse-auth', hook('h', 'https://example.com/x'));
    const kept = await fetchToken(server.url, account.clientId, account.secret);
    const revoked = await fetchToken(server.url, account.clientId, account.secret);
    for (const token of [kept, revoked]) expect((await callBearer(connectionUrl('reuse-auth', 'h'), token, { accept: ACCEPT.streams })).status).toBe(200);
    expect((await oauth(server, 'revoke', basic(account.clientId, account.secret), `token=${revoked}&token_type_hint=access_token`)).status).toBe(200);
    expect((await callBearer(connectionUrl('reuse-auth', 'h'), revoked, { accept: ACCEPT.streams })).status).toBe(401);
    expect((await callBearer(connectionUrl('reuse-auth', 'h'), kept, { accept: ACCEPT.streams })).status).toBe(200);

    const readOnly = await owner.call('updateGroupServiceAccount', `${V2}/groups/${groupId}/serviceAccounts/${account.clientId}`, {
      method: 'PATCH', accept: ACCEPT.serviceAccounts, body: { roles: ['GROUP_READ_ONLY'] },
    });
    expect(readOnly.status).toBe(200);
    expect((await callBearer(connectionUrl('reuse-auth', 'h'), kept, { accept: ACCEPT.streams })).status).toBe(200);
    const removed = await owner.call('deleteGroupServiceAccount', `${V2}/groups/${groupId}/serviceAccounts/${account.clientId}`, { method: 'DELETE', accept: ACCEPT.serviceAccounts });
    expect(removed.status).toBe(204);
    expectError(await callBearer(connectionUrl('reuse-auth', 'h'), kept, { accept: ACCEPT.streams }), 401, 'NOT_IN_GROUP');
  });
});
