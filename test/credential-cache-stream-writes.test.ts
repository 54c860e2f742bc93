// A caller's credential check is kept across writes of stream resources (a connection deleted
// and made again, in a loop), so that such a client is not checked afresh on every call
// (src/http/auth/principal-cache.ts, Store.identityGeneration). These tests show that every
// change to a credential is still seen on the very next request while connection writes go on:
// a revoked token, a deleted secret, a lowered role, a new access list, a removal from the
// project, a deleted API key.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ACCEPT, bearerClient, digestClient, fetchToken, startTestServer, type Client, type TestServer } from '../src/testing/harness.js';
import { basic, createProjectKey, expectError, oauth, recordingClient, V2, type CreatedKey } from './identity-helpers.js';
import { createConnection, createInstance, streamsClient, streamsPath } from './streams-fixtures.js';

let server: TestServer;
let owner: Client;
let groupId: string;
let tenants = 0;

beforeAll(async () => {
  server = await startTestServer();
  owner = recordingClient(server, server.owner, []);
  groupId = server.projectId;
  await createInstance(streamsClient(server), groupId, 'busy');
  await createConnection(streamsClient(server), groupId, 'busy', hook);
});
afterAll(async () => { await server.close(); });

const hook = { name: 'h', type: 'Https', url: 'https://example.com/seed' };
const connectionPath = (tenant: string) => streamsPath(groupId, `/${tenant}/connections/h`);

/** One seed operation: the connection deleted, then made again. */
async function seed(client: Client, tenant: string): Promise<void> {
  expect((await client.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(202);
  const made = await client.call(streamsPath(groupId, `/${tenant}/connections`), { method: 'POST', accept: ACCEPT.streams, body: hook });
  expect(made.status, made.text).toBe(200);
}

// Another client seeds its own workspace the whole time, so that connection writes land
// between the credential change and the caller's next request as they would under load.
let stopBusy = false;
let busy: Promise<void> = Promise.resolve();
beforeEach(() => {
  stopBusy = false;
  busy = (async () => { while (!stopBusy) await seed(owner, 'busy'); })();
});
afterEach(async () => {
  stopBusy = true;
  await busy;
});

/** A workspace with one connection that the caller seeds twice (its check is then cached). */
async function seededBy(caller: Client): Promise<string> {
  const tenant = `t${++tenants}`;
  await createInstance(streamsClient(server), groupId, tenant);
  await createConnection(streamsClient(server), groupId, tenant, hook);
  await seed(caller, tenant);
  await seed(caller, tenant);
  return tenant;
}

/** The refused call changed nothing: the connection is still there. */
async function expectConnectionKept(tenant: string): Promise<void> {
  expect((await owner.call(connectionPath(tenant), { accept: ACCEPT.streams })).status).toBe(200);
}

describe('a service account seeding connections', () => {
  let account: { clientId: string; secret: string; secretId: string };
  let token: string;
  let caller: Client;
  const accountPath = () => `${V2}/groups/${groupId}/serviceAccounts/${account.clientId}`;

  beforeEach(async () => {
    const made = await owner.call(`${V2}/groups/${groupId}/serviceAccounts`, {
      method: 'POST', accept: ACCEPT.serviceAccounts,
      body: { name: 'seeder', description: 'seeds connections', roles: ['GROUP_STREAM_PROCESSING_OWNER'], secretExpiresAfterHours: 24 },
    });
    expect(made.status).toBe(201);
    account = { clientId: made.json.clientId, secret: made.json.secrets[0].secret, secretId: made.json.secrets[0].id };
    token = await fetchToken(server.url, account.clientId, account.secret);
    caller = bearerClient(server, token);
  });

  it('is refused on its next call once its token is revoked', async () => {
    const tenant = await seededBy(caller);
    expect((await oauth(server, 'revoke', basic(account.clientId, account.secret), `token=${token}&token_type_hint=access_token`)).status).toBe(200);
    expect((await caller.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(401);
    await expectConnectionKept(tenant);
  });

  it('is refused on its next call once the secret its token came from is deleted', async () => {
    const tenant = await seededBy(caller);
    expect((await owner.call(`${accountPath()}/secrets/${account.secretId}`, { method: 'DELETE', accept: ACCEPT.serviceAccounts })).status).toBe(204);
    expect((await caller.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(401);
    await expectConnectionKept(tenant);
  });

  it('is refused on its next call once its role is lowered to read-only', async () => {
    const tenant = await seededBy(caller);
    expect((await owner.call(accountPath(), { method: 'PATCH', accept: ACCEPT.serviceAccounts, body: { roles: ['GROUP_READ_ONLY'] } })).status).toBe(200);
    expectError(await caller.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams }), 401, 'USER_UNAUTHORIZED');
    await expectConnectionKept(tenant);
  });

  it('is refused on its next call once an access list leaves its address out', async () => {
    const tenant = await seededBy(caller);
    expect((await owner.call(`${accountPath()}/accessList`, { method: 'POST', accept: ACCEPT.serviceAccounts, body: [{ ipAddress: '198.51.100.4' }] })).status).toBe(200);
    expectError(await caller.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams }), 403, 'IP_ADDRESS_NOT_ON_ACCESS_LIST');
    await expectConnectionKept(tenant);
  });

  it('is refused on its next call once it is removed from the project', async () => {
    const tenant = await seededBy(caller);
    expect((await owner.call(accountPath(), { method: 'DELETE', accept: ACCEPT.serviceAccounts })).status).toBe(204);
    expectError(await caller.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams }), 401, 'NOT_IN_GROUP');
    await expectConnectionKept(tenant);
  });
});

describe('an API key seeding connections', () => {
  let key: CreatedKey;
  let caller: Client;
  beforeEach(async () => {
    key = await createProjectKey(owner, groupId, ['GROUP_STREAM_PROCESSING_OWNER']);
    caller = digestClient(server, key);
  });

  it('is refused on its next call once it is deleted', async () => {
    const tenant = await seededBy(caller);
    expect((await owner.call(`${V2}/orgs/${server.orgId}/apiKeys/${key.id}`, { method: 'DELETE', accept: ACCEPT.identity })).status).toBe(204);
    expect((await caller.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(401);
    await expectConnectionKept(tenant);
  });

  it('is refused on its next call once its role is lowered to read-only', async () => {
    const tenant = await seededBy(caller);
    expect((await owner.call(`${V2}/groups/${groupId}/apiKeys/${key.id}`, { method: 'PATCH', accept: ACCEPT.identity, body: { roles: ['GROUP_READ_ONLY'] } })).status).toBe(200);
    expectError(await caller.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams }), 401, 'USER_UNAUTHORIZED');
    await expectConnectionKept(tenant);
  });

  it('is refused on its next call once an access list leaves its address out', async () => {
    const tenant = await seededBy(caller);
    expect((await owner.call(`${V2}/orgs/${server.orgId}/apiKeys/${key.id}/accessList`, { method: 'POST', accept: ACCEPT.identity, body: [{ ipAddress: '198.51.100.4' }] })).status).toBe(200);
    expectError(await caller.call(connectionPath(tenant), { method: 'DELETE', accept: ACCEPT.streams }), 403, 'IP_ADDRESS_NOT_ON_ACCESS_LIST');
    await expectConnectionKept(tenant);
  });
});
