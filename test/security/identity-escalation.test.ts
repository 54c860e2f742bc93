// Item 2 of issue 8: no caller reaches the rights of an organization-level identity through
// a project-level route or a lesser organization role, and no caller grants roles it lacks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, bearerClient, digestClient, fetchToken, startTestServer, type Client, type TestServer } from '../../src/testing/harness.js';
import { createOrgKey, createProject, createProjectKey, createServiceAccount, expectError, V2, type CreatedAccount } from '../identity-helpers.js';

let server: TestServer;
let owner: Client;
let groupId: string;
/** A key that is Project Owner of `groupId` and nothing more in the organization. */
let projectOwner: Client;
/** An Organization Owner service account the org owner invited into the project (read only there). */
let orgOwnerAccount: CreatedAccount;

beforeAll(async () => {
  server = await startTestServer();
  owner = digestClient(server, server.owner);
  groupId = await createProject(owner, server.orgId, 'escalation');
  projectOwner = digestClient(server, await createProjectKey(owner, groupId, ['GROUP_OWNER']));
  orgOwnerAccount = await createServiceAccount(owner, server.orgId, ['ORG_OWNER'], 'org owner account');
  const invite = await owner.call(`${V2}/groups/${groupId}/serviceAccounts/${orgOwnerAccount.clientId}:invite`,
    { method: 'POST', accept: ACCEPT.serviceAccounts, body: { roles: ['GROUP_READ_ONLY'] } });
  expect(invite.status).toBe(200);
});
afterAll(async () => { await server.close(); });

const sa = (clientId: string) => `${V2}/groups/${groupId}/serviceAccounts/${clientId}`;

describe('a Project Owner and an organization-level service account', () => {
  it('cannot list the organization\'s accounts nor invite one into its project', async () => {
    expectError(await projectOwner.call(`${V2}/orgs/${server.orgId}/serviceAccounts`, { accept: ACCEPT.serviceAccounts }), 401, 'USER_UNAUTHORIZED');
    const other = await createServiceAccount(owner, server.orgId, ['ORG_OWNER'], 'not invited');
    expectError(await projectOwner.call(`${sa(other.clientId)}:invite`, { method: 'POST', accept: ACCEPT.serviceAccounts, body: { roles: ['GROUP_OWNER'] } }),
      401, 'USER_UNAUTHORIZED');
    const groups = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${other.clientId}/groups`, { accept: ACCEPT.serviceAccounts });
    expect(groups.json.results).toEqual([]);
  });

  it('cannot mint a secret for it, so cannot take its token', async () => {
    const res = await projectOwner.call(`${sa(orgOwnerAccount.clientId)}/secrets`,
      { method: 'POST', accept: ACCEPT.serviceAccounts, body: { secretExpiresAfterHours: 24 } });
    expectError(res, 401, 'USER_UNAUTHORIZED');
    expect(res.text).not.toContain('mdb_sa_sk_');
    const account = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${orgOwnerAccount.clientId}`, { accept: ACCEPT.serviceAccounts });
    expect(account.json.secrets).toHaveLength(1);
  });

  it('cannot delete its secret nor change its access list', async () => {
    expectError(await projectOwner.call(`${sa(orgOwnerAccount.clientId)}/secrets/${orgOwnerAccount.secretId}`, { method: 'DELETE', accept: ACCEPT.serviceAccounts }),
      401, 'USER_UNAUTHORIZED');
    expectError(await projectOwner.call(`${sa(orgOwnerAccount.clientId)}/accessList`,
      { method: 'POST', accept: ACCEPT.serviceAccounts, body: [{ ipAddress: '192.0.2.1' }] }), 401, 'USER_UNAUTHORIZED');
    await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${orgOwnerAccount.clientId}/accessList`,
      { method: 'POST', accept: ACCEPT.serviceAccounts, body: [{ cidrBlock: '127.0.0.0/8' }] });
    expectError(await projectOwner.call(`${sa(orgOwnerAccount.clientId)}/accessList/127.0.0.0%2F8`, { method: 'DELETE', accept: ACCEPT.serviceAccounts }),
      401, 'USER_UNAUTHORIZED');
    const list = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${orgOwnerAccount.clientId}/accessList`, { accept: ACCEPT.serviceAccounts });
    expect(list.json.results.map((e: { cidrBlock?: string; ipAddress?: string }) => e.cidrBlock ?? e.ipAddress)).toEqual(['127.0.0.0/8']);
    // The account still works: nothing the project owner tried took effect.
    const token = await fetchToken(server.url, orgOwnerAccount.clientId, orgOwnerAccount.secret);
    expect((await bearerClient(server, token).call(`${V2}/orgs/${server.orgId}`)).status).toBe(200);
  });

  it('changes only the project\'s assignment: not the account\'s name or description', async () => {
    expectError(await projectOwner.call(sa(orgOwnerAccount.clientId), { method: 'PATCH', accept: ACCEPT.serviceAccounts, body: { name: 'mine now' } }),
      401, 'USER_UNAUTHORIZED');
    const roles = await projectOwner.call(sa(orgOwnerAccount.clientId), { method: 'PATCH', accept: ACCEPT.serviceAccounts, body: { roles: ['GROUP_STREAM_PROCESSING_OWNER'] } });
    expect(roles.status).toBe(200);
    expect(roles.json).toMatchObject({ name: 'org owner account', roles: ['GROUP_STREAM_PROCESSING_OWNER'] });
    const account = await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts/${orgOwnerAccount.clientId}`, { accept: ACCEPT.serviceAccounts });
    expect(account.json).toMatchObject({ name: 'org owner account', roles: ['ORG_OWNER'] });
  });

  it('still manages the credentials of an account that lives only in its project', async () => {
    const created = await projectOwner.call(`${V2}/groups/${groupId}/serviceAccounts`, {
      method: 'POST', accept: ACCEPT.serviceAccounts,
      body: { name: 'project bot', description: 'project only', roles: ['GROUP_READ_ONLY'], secretExpiresAfterHours: 24 },
    });
    expect(created.status).toBe(201);
    const clientId = created.json.clientId as string;
    const secret = await projectOwner.call(`${sa(clientId)}/secrets`, { method: 'POST', accept: ACCEPT.serviceAccounts, body: { secretExpiresAfterHours: 24 } });
    expect(secret.status).toBe(201);
    const entry = await projectOwner.call(`${sa(clientId)}/accessList`, { method: 'POST', accept: ACCEPT.serviceAccounts, body: [{ ipAddress: '127.0.0.1' }] });
    expect(entry.status).toBe(200);
    expect((await projectOwner.call(`${sa(clientId)}/secrets/${secret.json.id}`, { method: 'DELETE', accept: ACCEPT.serviceAccounts })).status).toBe(204);
    const renamed = await projectOwner.call(sa(clientId), { method: 'PATCH', accept: ACCEPT.serviceAccounts, body: { name: 'project bot 2' } });
    expect(renamed.status).toBe(200);
  });

  it('cannot take over an account assigned to a project it does not own', async () => {
    const elsewhere = await createProject(owner, server.orgId, 'elsewhere');
    const created = await projectOwner.call(`${V2}/groups/${groupId}/serviceAccounts`, {
      method: 'POST', accept: ACCEPT.serviceAccounts,
      body: { name: 'shared bot', description: 'in two projects', roles: ['GROUP_READ_ONLY'], secretExpiresAfterHours: 24 },
    });
    const clientId = created.json.clientId as string;
    const invite = await owner.call(`${V2}/groups/${elsewhere}/serviceAccounts/${clientId}:invite`,
      { method: 'POST', accept: ACCEPT.serviceAccounts, body: { roles: ['GROUP_OWNER'] } });
    expect(invite.status).toBe(200);
    expectError(await projectOwner.call(`${sa(clientId)}/secrets`, { method: 'POST', accept: ACCEPT.serviceAccounts, body: { secretExpiresAfterHours: 24 } }),
      401, 'USER_UNAUTHORIZED');
  });
});

describe('lesser organization roles and API keys', () => {
  it('an Organization Project Creator cannot edit the org owner key\'s access list', async () => {
    const creator = digestClient(server, await createOrgKey(owner, server.orgId, ['ORG_GROUP_CREATOR']));
    const ownerKeyId = (await owner.call(`${V2}/orgs/${server.orgId}/apiKeys`)).json.results
      .find((k: { publicKey: string }) => k.publicKey === server.owner.publicKey).id as string;
    const path = `${V2}/orgs/${server.orgId}/apiKeys/${ownerKeyId}/accessList`;
    expectError(await creator.call(path, { method: 'POST', accept: ACCEPT.identity, body: [{ ipAddress: '192.0.2.7' }] }), 401, 'USER_UNAUTHORIZED');
    await owner.call(path, { method: 'POST', accept: ACCEPT.identity, body: [{ cidrBlock: '127.0.0.0/8' }] });
    expectError(await creator.call(`${path}/127.0.0.0%2F8`, { method: 'DELETE', accept: ACCEPT.identity }), 401, 'USER_UNAUTHORIZED');
    const list = await owner.call(path, { accept: ACCEPT.identity });
    expect(list.json.results.map((e: { cidrBlock?: string; ipAddress?: string }) => e.cidrBlock ?? e.ipAddress)).toEqual(['127.0.0.0/8']);
    await owner.call(`${path}/127.0.0.0%2F8`, { method: 'DELETE', accept: ACCEPT.identity });
  });

  it('a project owner cannot give a key roles in a project it does not own', async () => {
    const elsewhere = await createProject(owner, server.orgId, 'not-theirs');
    const helper = await createProjectKey(owner, groupId, ['GROUP_READ_ONLY'], 'helper');
    expectError(await projectOwner.call(`${V2}/groups/${elsewhere}/apiKeys/${helper.id}`,
      { method: 'POST', accept: ACCEPT.identity, body: [{ roles: ['GROUP_OWNER'] }] }), 401, 'NOT_IN_GROUP');
    expectError(await projectOwner.call(`${V2}/orgs/${server.orgId}/apiKeys/${helper.id}`,
      { method: 'PATCH', accept: ACCEPT.identity, body: { roles: ['ORG_OWNER'] } }), 401, 'USER_UNAUTHORIZED');
  });

  it('a project owner changes the org owner key\'s roles in its project only, not the key itself', async () => {
    const keys = (await owner.call(`${V2}/orgs/${server.orgId}/apiKeys`)).json.results as Array<{ id: string; publicKey: string; desc: string }>;
    const ownerKey = keys.find((k) => k.publicKey === server.owner.publicKey)!;
    expect((await owner.call(`${V2}/groups/${groupId}/apiKeys/${ownerKey.id}`, { method: 'POST', accept: ACCEPT.identity, body: [{ roles: ['GROUP_READ_ONLY'] }] })).status).toBe(204);
    expectError(await projectOwner.call(`${V2}/groups/${groupId}/apiKeys/${ownerKey.id}`, { method: 'PATCH', accept: ACCEPT.identity, body: { desc: 'hijacked' } }),
      401, 'USER_UNAUTHORIZED');
    const roles = await projectOwner.call(`${V2}/groups/${groupId}/apiKeys/${ownerKey.id}`, { method: 'PATCH', accept: ACCEPT.identity, body: { roles: ['GROUP_OWNER'] } });
    expect(roles.status).toBe(200);
    const after = await owner.call(`${V2}/orgs/${server.orgId}/apiKeys/${ownerKey.id}`);
    expect(after.json.desc).toBe(ownerKey.desc);
  });
});
