import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, bearerClient, callBearer, fetchToken, startTestServer, type Client, type TestServer } from '../src/testing/harness.js';
import { basic, createProject, createServiceAccount, expectError, oauth, recordingClient, V2 } from './identity-helpers.js';

let server: TestServer;
let owner: Client;
const seen: string[] = [];
beforeAll(async () => {
  server = await startTestServer();
  owner = recordingClient(server, server.owner, seen);
});
afterAll(async () => { await server.close(); });

const OBJECT_ID = /^[a-f0-9]{24}$/;
const CLIENT_ID = /^mdb_sa_id_[a-f0-9]{24}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HOUR = 3600 * 1000;

describe('organization service accounts', () => {
  it('creates an account: 201, the secret once in secrets[0].secret', async () => {
    const res = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts`, {
      method: 'POST', accept: ACCEPT.serviceAccounts,
      body: { name: 'deployer', description: 'Deploys things', roles: ['ORG_MEMBER'], secretExpiresAfterHours: 48 },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2024-08-05+json;charset=utf-8');
    expect(res.json).toEqual({
      clientId: expect.stringMatching(CLIENT_ID),
      createdAt: expect.stringMatching(ISO),
      description: 'Deploys things',
      name: 'deployer',
      roles: ['ORG_MEMBER'],
      secrets: [{
        createdAt: expect.stringMatching(ISO),
        expiresAt: expect.stringMatching(ISO),
        id: expect.stringMatching(OBJECT_ID),
        maskedSecretValue: expect.stringMatching(/^mdb_sa_sk_\.\.\..{4}$/),
        secret: expect.stringMatching(/^mdb_sa_sk_/),
      }],
    });
    const [secret] = res.json.secrets;
    expect(Date.parse(secret.expiresAt) - Date.parse(secret.createdAt)).toBe(48 * HOUR);
    expect(secret.maskedSecretValue.slice(-4)).toBe(secret.secret.slice(-4));

    const got = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${res.json.clientId}`, { accept: ACCEPT.serviceAccounts });
    expect(got.status).toBe(200);
    const { secret: _plain, ...masked } = secret;
    expect(got.json).toEqual({ ...res.json, secrets: [masked] });
    const list = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts`, { accept: ACCEPT.serviceAccounts });
    expect(list.json.results.find((a: { clientId: string }) => a.clientId === res.json.clientId)).toEqual(got.json);
    expect(list.text).not.toContain(secret.secret);
  });

  it('validates the request', async () => {
    const path = `${V2}/orgs/${server.orgId}/serviceAccounts`;
    const good = { name: 'n', description: 'd', roles: ['ORG_MEMBER'], secretExpiresAfterHours: 24 };
    expectError(await owner.call(path, { method: 'POST', body: { ...good, roles: ['GROUP_OWNER'] } }), 400, 'INVALID_ENUM_VALUE');
    expectError(await owner.call(path, { method: 'POST', body: { ...good, description: undefined } }), 400, 'MISSING_ATTRIBUTE');
    expectError(await owner.call(path, { method: 'POST', body: { ...good, name: 'bad<name>' } }), 400, 'VALIDATION_ERROR');
    expectError(await owner.call(path, { method: 'POST', body: { ...good, secretExpiresAfterHours: 1 } }), 400, 'VALIDATION_ERROR');
    expectError(await owner.call(path, { method: 'POST', body: { ...good, secretExpiresAfterHours: '24' } }), 400, 'INVALID_JSON_ATTRIBUTE');
    expectError(await owner.call(path, { method: 'POST', body: { ...good, clientId: 'mdb_sa_id_' + 'a'.repeat(24) } }), 400, 'INVALID_ATTRIBUTE');
    // The 2026 schema says minItems: 1, so the spec's own check answers.
    expectError(await owner.call(path, { method: 'POST', body: { ...good, roles: [] } }), 400, 'VALIDATION_ERROR');
    const names = (await owner.call(path)).json.results.map((a: { name: string }) => a.name);
    expect(names).not.toContain('n');
  });

  it('updates name, description and roles', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_MEMBER']);
    const res = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${account.clientId}`, {
      method: 'PATCH', accept: ACCEPT.serviceAccounts, body: { name: 'renamed', description: 'new words', roles: ['ORG_READ_ONLY'] },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ clientId: account.clientId, name: 'renamed', description: 'new words', roles: ['ORG_READ_ONLY'] });
    expect(res.json.secrets[0].secret).toBeUndefined();
    expectError(await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/mdb_sa_id_${'0'.repeat(24)}`, { method: 'PATCH', body: { name: 'x' } }), 404, 'SERVICE_ACCOUNT_NOT_FOUND');
    expectError(await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/not-a-client-id`), 400, 'INVALID_PATH_PARAMETER');
  });

  it('adds and deletes secrets, at most two', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_MEMBER']);
    const base = `${V2}/orgs/${server.orgId}/serviceAccounts/${account.clientId}/secrets`;
    const res = await owner.call(base, { method: 'POST', accept: ACCEPT.serviceAccounts, body: { secretExpiresAfterHours: 8 } });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      createdAt: expect.stringMatching(ISO), expiresAt: expect.stringMatching(ISO), id: expect.stringMatching(OBJECT_ID),
      maskedSecretValue: expect.stringMatching(/^mdb_sa_sk_\.\.\./), secret: expect.stringMatching(/^mdb_sa_sk_/),
    });
    const third = await owner.call(base, { method: 'POST', body: { secretExpiresAfterHours: 8 } });
    expectError(third, 400, 'SERVICE_ACCOUNT_MAX_SECRETS');
    expectError(await owner.call(base, { method: 'POST', body: {} }), 400, 'MISSING_ATTRIBUTE');

    const token = await fetchToken(server.url, account.clientId, res.json.secret);
    expect((await owner.call(`${base}/${res.json.id}`, { method: 'DELETE', accept: ACCEPT.serviceAccounts })).status).toBe(204);
    // The token made with that secret stops at once; the other secret still works.
    expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, token, { accept: ACCEPT.identity })).status).toBe(401);
    expect(await fetchToken(server.url, account.clientId, account.secret)).toBeTruthy();
    await expect(fetchToken(server.url, account.clientId, res.json.secret)).rejects.toThrow(/400/);
    expectError(await owner.call(`${base}/${res.json.id}`, { method: 'DELETE' }), 404, 'SERVICE_ACCOUNT_SECRET_NOT_FOUND');
  });

  it('deletes an account: its tokens and secrets stop at once', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_OWNER']);
    const token = await fetchToken(server.url, account.clientId, account.secret);
    expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, token, { accept: ACCEPT.identity })).status).toBe(200);
    const res = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${account.clientId}`, { method: 'DELETE', accept: ACCEPT.serviceAccounts });
    expect(res.status).toBe(204);
    expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, token, { accept: ACCEPT.identity })).status).toBe(401);
    const again = await oauth(server, 'token', basic(account.clientId, account.secret), 'grant_type=client_credentials');
    expect(again).toEqual({ status: 400, json: { error: 'invalid_request', error_description: 'The provided credentials are not valid.' } });
    expectError(await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${account.clientId}`), 404, 'SERVICE_ACCOUNT_NOT_FOUND');
  });

  it('manages the access list and enforces it on tokens', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_MEMBER']);
    const base = `${V2}/orgs/${server.orgId}/serviceAccounts/${account.clientId}/accessList`;
    expect((await owner.call(base, { accept: ACCEPT.serviceAccounts })).json).toMatchObject({ results: [], totalCount: 0 });
    const token = await fetchToken(server.url, account.clientId, account.secret);

    const add = await owner.call(base, { method: 'POST', accept: ACCEPT.serviceAccounts, body: [{ ipAddress: '198.51.100.4' }, { cidrBlock: '10.0.0.0/8' }] });
    expect(add.status).toBe(200);
    expect(add.json.results).toEqual([
      { createdAt: expect.stringMatching(ISO), ipAddress: '198.51.100.4', requestCount: 0 },
      { cidrBlock: '10.0.0.0/8', createdAt: expect.stringMatching(ISO), requestCount: 0 },
    ]);
    // Neither a new token nor the one already issued gets in from 127.0.0.1.
    const denied = await oauth(server, 'token', basic(account.clientId, account.secret), 'grant_type=client_credentials');
    expect(denied).toEqual({ status: 403, json: { error: 'access_denied', error_description: 'IP access list validation failed for the service account.' } });
    expectError(await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, token, { accept: ACCEPT.identity }), 403, 'IP_ADDRESS_NOT_ON_ACCESS_LIST');

    expect((await owner.call(base, { method: 'POST', body: [{ cidrBlock: '127.0.0.0/8' }] })).status).toBe(200);
    expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, token, { accept: ACCEPT.identity })).status).toBe(200);
    const listed = await owner.call(base);
    expect(listed.json.results[2]).toMatchObject({ cidrBlock: '127.0.0.0/8', requestCount: 1, lastUsedAddress: '127.0.0.1', lastUsedAt: expect.stringMatching(ISO) });

    expect((await owner.call(`${base}/10.0.0.0%2F8`, { method: 'DELETE', accept: ACCEPT.serviceAccounts })).status).toBe(204);
    expectError(await owner.call(`${base}/10.0.0.0%2F8`, { method: 'DELETE' }), 404, 'SERVICE_ACCOUNT_ACCESS_LIST_ENTRY_NOT_FOUND');
    expectError(await owner.call(base, { method: 'POST', body: [{ ipAddress: '300.1.1.1' }] }), 400, 'VALIDATION_ERROR');
    expectError(await owner.call(base, { method: 'POST', body: [{ cidrBlock: '1.2.3.4/40' }] }), 400, 'ACCESS_LIST_ENTRY_INVALID');
    expect((await owner.call(base)).json.totalCount).toBe(2);
  });

  it('lists the projects an account is in', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_MEMBER']);
    const path = `${V2}/orgs/${server.orgId}/serviceAccounts/${account.clientId}/groups`;
    expect((await owner.call(path, { accept: ACCEPT.serviceAccounts })).json).toMatchObject({ results: [], totalCount: 0 });
    const invite = await owner.call(`${V2}/groups/${server.projectId}/serviceAccounts/${account.clientId}:invite`, { method: 'POST', body: { roles: ['GROUP_READ_ONLY'] } });
    expect(invite.status).toBe(200);
    const res = await owner.call(path, { accept: ACCEPT.serviceAccounts });
    expect(res.status).toBe(200);
    expect(res.json.results).toEqual([{ groupId: server.projectId }]);
    expect(res.json.totalCount).toBe(1);
  });
});

describe('project service accounts', () => {
  it('creates an account in a project: 201, project roles, org member', async () => {
    const groupId = await createProject(owner, server.orgId, 'sa-project');
    const res = await owner.call(`${V2}/groups/${groupId}/serviceAccounts`, {
      method: 'POST', accept: ACCEPT.serviceAccounts,
      body: { name: 'streams bot', description: 'Runs processors', roles: ['GROUP_STREAM_PROCESSING_OWNER'], secretExpiresAfterHours: 24 },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      clientId: expect.stringMatching(CLIENT_ID), name: 'streams bot', description: 'Runs processors', roles: ['GROUP_STREAM_PROCESSING_OWNER'],
      secrets: [expect.objectContaining({ secret: expect.stringMatching(/^mdb_sa_sk_/) })],
    });
    const { clientId } = res.json;
    const org = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${clientId}`);
    expect(org.json.roles).toEqual(['ORG_MEMBER']);

    const got = await owner.call(`${V2}/groups/${groupId}/serviceAccounts/${clientId}`, { accept: ACCEPT.serviceAccounts });
    expect(got.status).toBe(200);
    expect(got.json.roles).toEqual(['GROUP_STREAM_PROCESSING_OWNER']);
    expect(got.json.secrets[0].secret).toBeUndefined();
    const list = await owner.call(`${V2}/groups/${groupId}/serviceAccounts`, { accept: ACCEPT.serviceAccounts });
    expect(list.json.results).toEqual([got.json]);
    expectError(await owner.call(`${V2}/groups/${groupId}/serviceAccounts`, { method: 'POST', body: { name: 'x', description: 'x', roles: ['ORG_OWNER'], secretExpiresAfterHours: 24 } }), 400, 'INVALID_ROLE_FOR_GROUP');

    // Its token acts in the project with the project role only.
    const token = await fetchToken(server.url, clientId, res.json.secrets[0].secret);
    const bot = bearerClient(server, token);
    expect((await bot.call(`${V2}/groups/${groupId}`, { accept: ACCEPT.identity })).status).toBe(200);
    expectError(await bot.call(`${V2}/groups/${groupId}`, { method: 'PATCH', accept: ACCEPT.identity, body: { tags: [] } }), 401, 'USER_UNAUTHORIZED');
    expectError(await bot.call(`${V2}/groups/${server.projectId}`, { accept: ACCEPT.identity }), 401, 'NOT_IN_GROUP');
  });

  it('updates roles, invites to another project, removes from a project', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_MEMBER']);
    const groupId = await createProject(owner, server.orgId, 'sa-invite');
    const path = `${V2}/groups/${groupId}/serviceAccounts/${account.clientId}`;
    expectError(await owner.call(path), 404, 'SERVICE_ACCOUNT_NOT_IN_GROUP');

    const invite = await owner.call(`${path}:invite`, { method: 'POST', accept: ACCEPT.serviceAccounts, body: { roles: ['GROUP_READ_ONLY'] } });
    expect(invite.status).toBe(200);
    expect(invite.json).toMatchObject({ clientId: account.clientId, roles: ['GROUP_READ_ONLY'] });
    expect(invite.json.secrets[0].secret).toBeUndefined();

    const update = await owner.call(path, { method: 'PATCH', accept: ACCEPT.serviceAccounts, body: { roles: ['GROUP_OWNER'], name: 'promoted' } });
    expect(update.status).toBe(200);
    expect(update.json).toMatchObject({ name: 'promoted', roles: ['GROUP_OWNER'] });
    // Org roles untouched.
    expect((await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${account.clientId}`)).json.roles).toEqual(['ORG_MEMBER']);

    const token = await fetchToken(server.url, account.clientId, account.secret);
    expect((await callBearer(`${server.url}${V2}/groups/${groupId}`, token, { method: 'PATCH', accept: ACCEPT.identity, body: { tags: [] } })).status).toBe(200);

    expect((await owner.call(path, { method: 'DELETE', accept: ACCEPT.serviceAccounts })).status).toBe(204);
    expectError(await callBearer(`${server.url}${V2}/groups/${groupId}`, token, { accept: ACCEPT.identity }), 401, 'NOT_IN_GROUP');
    // Still in the organization, credentials alive.
    expect((await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${account.clientId}`)).status).toBe(200);
    expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, token, { accept: ACCEPT.identity })).status).toBe(200);
    expectError(await owner.call(path, { method: 'DELETE' }), 404, 'SERVICE_ACCOUNT_NOT_IN_GROUP');
    expectError(await owner.call(`${V2}/groups/${groupId}/serviceAccounts/mdb_sa_id_${'1'.repeat(24)}:invite`, { method: 'POST', body: { roles: ['GROUP_OWNER'] } }), 404, 'SERVICE_ACCOUNT_NOT_FOUND');
  });

  it('manages secrets and access lists through the project', async () => {
    const groupId = await createProject(owner, server.orgId, 'sa-project-creds');
    const created = await owner.call(`${V2}/groups/${groupId}/serviceAccounts`, {
      method: 'POST', body: { name: 'creds', description: 'creds', roles: ['GROUP_READ_ONLY'], secretExpiresAfterHours: 24 },
    });
    const { clientId } = created.json;
    const base = `${V2}/groups/${groupId}/serviceAccounts/${clientId}`;
    const secret = await owner.call(`${base}/secrets`, { method: 'POST', accept: ACCEPT.serviceAccounts, body: { secretExpiresAfterHours: 10 } });
    expect(secret.status).toBe(201);
    expect(secret.json.secret).toMatch(/^mdb_sa_sk_/);
    expect((await owner.call(`${base}/secrets/${secret.json.id}`, { method: 'DELETE', accept: ACCEPT.serviceAccounts })).status).toBe(204);
    expectError(await owner.call(`${base}/secrets/${secret.json.id}`, { method: 'DELETE' }), 404, 'SERVICE_ACCOUNT_SECRET_NOT_FOUND');

    const add = await owner.call(`${base}/accessList`, { method: 'POST', accept: ACCEPT.serviceAccounts, body: [{ ipAddress: '127.0.0.1' }] });
    expect(add.status).toBe(200);
    expect(add.json.results).toEqual([{ createdAt: expect.any(String), ipAddress: '127.0.0.1', requestCount: 0 }]);
    expect((await owner.call(`${base}/accessList`, { accept: ACCEPT.serviceAccounts })).json.totalCount).toBe(1);
    expect(await fetchToken(server.url, clientId, created.json.secrets[0].secret)).toBeTruthy();
    expect((await owner.call(`${base}/accessList/127.0.0.1`, { method: 'DELETE', accept: ACCEPT.serviceAccounts })).status).toBe(204);
    expect((await owner.call(`${base}/accessList`)).json.totalCount).toBe(0);

    // Another project's path does not reach it.
    expectError(await owner.call(`${V2}/groups/${server.projectId}/serviceAccounts/${clientId}/accessList`), 404, 'SERVICE_ACCOUNT_NOT_IN_GROUP');
  });

  it('drops a deleted project from every account', async () => {
    const groupId = await createProject(owner, server.orgId, 'sa-cascade');
    const created = await owner.call(`${V2}/groups/${groupId}/serviceAccounts`, {
      method: 'POST', body: { name: 'gone', description: 'gone', roles: ['GROUP_OWNER'], secretExpiresAfterHours: 24 },
    });
    expect((await owner.call(`${V2}/groups/${groupId}`, { method: 'DELETE' })).status).toBe(204);
    const groups = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${created.json.clientId}/groups`);
    expect(groups.json.totalCount).toBe(0);
  });
});

describe('OAuth', () => {
  it('issues tokens for raw and URL-encoded Basic credentials', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_MEMBER']);
    for (const encoded of [false, true]) {
      const res = await oauth(server, 'token', basic(account.clientId, account.secret, encoded), 'grant_type=client_credentials');
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), expires_in: 3600, token_type: 'Bearer' });
      expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, res.json.access_token, { accept: ACCEPT.identity })).status).toBe(200);
    }
  });

  it('answers token errors as Atlas does', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_MEMBER']);
    const wrong = await oauth(server, 'token', basic(account.clientId, 'mdb_sa_sk_wrong'), 'grant_type=client_credentials');
    expect(wrong).toEqual({ status: 400, json: { error: 'invalid_request', error_description: 'The provided credentials are not valid.' } });
    const none = await oauth(server, 'token', '', 'grant_type=client_credentials');
    expect(none.status).toBe(400);
    const grant = await oauth(server, 'token', basic(account.clientId, account.secret), 'grant_type=password');
    expect(grant).toEqual({ status: 400, json: { error: 'unsupported_grant_type', error_description: 'Invalid grant type.' } });
  });

  it('revokes a token: it stops working at once, others keep working', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_MEMBER']);
    const first = await fetchToken(server.url, account.clientId, account.secret);
    const second = await fetchToken(server.url, account.clientId, account.secret);
    const revoke = await oauth(server, 'revoke', basic(account.clientId, account.secret), `token=${first}&token_type_hint=access_token`);
    expect(revoke.status).toBe(200);
    expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, first, { accept: ACCEPT.identity })).status).toBe(401);
    expect((await callBearer(`${server.url}${V2}/orgs/${server.orgId}`, second, { accept: ACCEPT.identity })).status).toBe(200);
  });
});

describe('secrets', () => {
  it('never shows a service account secret after its creation response, nor in logs', () => {
    const secrets = seen.flatMap((text) => [...text.matchAll(/"secret":"(mdb_sa_sk_[^"]+)"/g)].map((m) => m[1]!));
    expect(secrets.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(seen.filter((text) => text.includes(secret))).toHaveLength(1);
      expect(server.logs.some((line) => line.includes(secret))).toBe(false);
    }
  });
});
