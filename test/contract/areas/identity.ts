// The identity surface: root, organizations, projects, API keys, service accounts.
import { expect } from 'vitest';
import { expectAtlasError, look, send, setupClient, V2, type Area, type OperationContract, type Target, type World } from '../framework.js';
import { operationById } from '../../../src/protocol/router.js';

const HEX24 = /^[a-f0-9]{24}$/;

async function post(w: World, path: string, body: unknown, status = 200): Promise<any> {
  const res = await setupClient(w).call(path, { method: 'POST', body });
  expect(res.status, res.text).toBe(status);
  return res.json;
}

async function newProject(w: World): Promise<{ id: string; name: string }> {
  const name = w.unique('proj');
  const json = await post(w, `${V2}/groups`, { name, orgId: w.orgId });
  return { id: json.id, name };
}

async function newOrgKey(w: World, roles = ['ORG_MEMBER']): Promise<string> {
  return (await post(w, `${V2}/orgs/${w.orgId}/apiKeys`, { desc: w.unique('key'), roles })).id;
}

async function newProjectKey(w: World, groupId = w.groupId): Promise<string> {
  return (await post(w, `${V2}/groups/${groupId}/apiKeys`, { desc: w.unique('pkey'), roles: ['GROUP_READ_ONLY'] })).id;
}

async function newAccount(w: World): Promise<{ clientId: string; secretId: string }> {
  const json = await post(w, `${V2}/orgs/${w.orgId}/serviceAccounts`, { name: w.unique('sa'), description: 'contract', roles: ['ORG_MEMBER'], secretExpiresAfterHours: 24 }, 201);
  return { clientId: json.clientId, secretId: json.secrets[0].id };
}

async function newProjectAccount(w: World): Promise<{ clientId: string; secretId: string }> {
  const json = await post(w, `${V2}/groups/${w.groupId}/serviceAccounts`, { name: w.unique('psa'), description: 'contract', roles: ['GROUP_READ_ONLY'], secretExpiresAfterHours: 24 }, 201);
  return { clientId: json.clientId, secretId: json.secrets[0].id };
}

const valid = (v: string | undefined, pattern: RegExp) => (v && pattern.test(v) ? v : undefined);

/** Projects, keys, accounts and the access lists the target names, read with the owner key. */
async function identitySnapshot(w: World, t: Target): Promise<unknown> {
  const parts: unknown[] = [
    await look(w, `${V2}/groups?itemsPerPage=500`, 'listGroups'),
    await look(w, `${V2}/orgs/${w.orgId}/apiKeys?itemsPerPage=500`, 'listOrgApiKeys'),
    await look(w, `${V2}/orgs/${w.orgId}/serviceAccounts?itemsPerPage=500`, 'listOrgServiceAccounts'),
  ];
  const groupId = valid(t.params['groupId'], HEX24);
  if (groupId) {
    parts.push(await look(w, `${V2}/groups/${groupId}/apiKeys?itemsPerPage=500`, 'listGroupApiKeys'));
    parts.push(await look(w, `${V2}/groups/${groupId}/serviceAccounts?itemsPerPage=500`, 'listGroupServiceAccounts'));
  }
  const keyId = valid(t.params['apiUserId'], HEX24);
  if (keyId) parts.push(await look(w, `${V2}/orgs/${w.orgId}/apiKeys/${keyId}/accessList`, 'listOrgAccessEntries'));
  const clientId = valid(t.params['clientId'], /^mdb_sa_id_[a-fA-F\d]{24}$/);
  if (clientId) {
    parts.push(await look(w, `${V2}/orgs/${w.orgId}/serviceAccounts/${clientId}/accessList`, 'listOrgAccessList'));
    parts.push(await look(w, `${V2}/orgs/${w.orgId}/serviceAccounts/${clientId}/groups`, 'getServiceAccountGroups'));
  }
  return parts;
}

const E500 = { 500: 'UNEXPECTED_ERROR: no request makes the server fail' };
const KEY_BODY = { desc: 'contract key', roles: ['ORG_MEMBER'] };
const PROJECT_KEY_BODY = { desc: 'contract key', roles: ['GROUP_READ_ONLY'] };
const SA_BODY = { name: 'contract sa', description: 'contract', roles: ['ORG_MEMBER'], secretExpiresAfterHours: 24 };
const PSA_BODY = { name: 'contract psa', description: 'contract', roles: ['GROUP_READ_ONLY'], secretExpiresAfterHours: 24 };

// ---------------------------------------------------------------------------------------
// Root, organizations, projects

const projects: OperationContract[] = [
  {
    operationId: 'getSystemStatus',
    setup: async () => ({ params: {} }),
    success(res) {
      expect(res.json).toMatchObject({ apiKey: expect.anything() });
    },
    notProvokable: { 403: 'the root status answers every authenticated caller; the access-list 403 is covered on every other operation', ...E500 },
  },
  {
    operationId: 'listControlPlaneAddresses',
    setup: async () => ({ params: {} }),
    success(res) {
      expect(res.json).toMatchObject({ inbound: expect.any(Object), outbound: expect.any(Object) });
    },
    notProvokable: E500,
    differences: ['Control plane IP addresses'],
  },
  {
    operationId: 'listOrgs',
    setup: async () => ({ params: {} }),
    success(res, _t, w) {
      expect(res.json.results.map((o: { id: string }) => o.id)).toEqual([w.orgId]);
    },
    notProvokable: { 400: 'only paging parameters, covered by INVALID_QUERY_PARAMETER', 401: 'challenge covered; every key is in an organization', 403: 'covered by the access list case', 404: 'no parent to miss', 409: 'a read conflicts with nothing', ...E500 },
  },
  {
    operationId: 'getOrg',
    setup: async (w) => ({ params: { orgId: w.orgId } }),
    success(res, _t, w) {
      expect(res.json).toMatchObject({ id: w.orgId, isDeleted: false });
    },
    notProvokable: { 409: 'a read conflicts with nothing', ...E500 },
  },
  {
    operationId: 'getOrgGroups',
    setup: async (w) => ({ params: { orgId: w.orgId } }),
    success(res, _t, w) {
      expect(res.json.results.map((p: { id: string }) => p.id)).toContain(w.groupId);
    },
    notProvokable: E500,
  },
  {
    operationId: 'listGroups',
    setup: async () => ({ params: {} }),
    success(res, _t, w) {
      expect(res.json.results.map((p: { id: string }) => p.id)).toContain(w.groupId);
    },
    notProvokable: { 404: 'no parent to miss', ...E500 },
  },
  {
    operationId: 'createGroup',
    setup: async (w) => ({ params: {}, body: { name: w.unique('newproj'), orgId: w.orgId, tags: [{ key: 'env', value: 'test' }] } }),
    sampleBody: { name: 'x', orgId: 'aaaaaaaaaaaaaaaaaaaaaaaa', tags: [{ key: 'k', value: 'v' }], withDefaultAlertsSettings: true },
    success(res, t) {
      expect(res.json).toMatchObject({ name: (t.body as { name: string }).name, clusterCount: 0, id: expect.stringMatching(HEX24) });
    },
    duplicate: { status: 409, errorCode: 'GROUP_ALREADY_EXISTS' },
    bodyOverrides: {
      // clusterCount and created are read-only and required; the emulator accepts the first read-only it meets as ATTRIBUTE_READ_ONLY.
    },
    cases: [{
      name: '400 INVALID_ATTRIBUTE (regionUsageRestrictions, which commercial Atlas refuses)',
      async run(w) {
        const res = await send(w, operationById('createGroup'), { params: {}, body: { name: w.unique('gov'), orgId: w.orgId, regionUsageRestrictions: 'GOV_REGIONS_ONLY' } });
        expectAtlasError(res, { status: 400, errorCode: 'INVALID_ATTRIBUTE' });
      },
    }],
    notProvokable: { 404: 'no path parent to miss (the orgId is in the body, not the path)', ...E500 },
    differences: ['regionUsageRestrictions', 'projectOwnerId on createGroup', 'A project\'s creator'],
  },
  {
    operationId: 'getGroup',
    async setup(w) {
      return { params: { groupId: (await newProject(w)).id } };
    },
    success(res, t) {
      expect(res.json).toMatchObject({ id: t.params['groupId'], clusterCount: 0 });
    },
    notProvokable: { 400: 'the only parameter is groupId, whose malformed form Atlas answers 404 INVALID_GROUP_ID', ...E500 },
    differences: ['A project that does not exist'],
  },
  {
    operationId: 'getGroupByName',
    async setup(w) {
      return { params: { groupName: (await newProject(w)).name } };
    },
    success(res, t) {
      expect(res.json.name).toBe(t.params['groupName']);
    },
    missing: { groupName: { status: 404, errorCode: 'GROUP_NAME_NOT_FOUND' } },
    notProvokable: { 400: 'any 1..64 character name is well formed (longer ones: see below)', 409: 'names are unique', ...E500 },
    differences: ['getGroupByName for a project the caller cannot see'],
  },
  {
    operationId: 'updateGroup',
    async setup(w) {
      return { params: { groupId: (await newProject(w)).id }, body: { name: w.unique('renamed'), tags: [{ key: 'a', value: 'b' }] } };
    },
    sampleBody: { name: 'x', tags: [{ key: 'a', value: 'b' }] },
    success(res, t) {
      expect(res.json).toMatchObject(t.body as object);
    },
    notProvokable: E500,
  },
  {
    operationId: 'deleteGroup',
    async setup(w) {
      return { params: { groupId: (await newProject(w)).id } };
    },
    async success(_res, t, w) {
      expect((await setupClient(w).call(`${V2}/groups/${t.params['groupId']}`)).status).toBe(404);
    },
    cases: [{
      name: '409 CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_STREAM_INSTANCES (a project with a stream instance)',
      async run(w) {
        const { id } = await newProject(w);
        await post(w, `${V2}/groups/${id}/streams`, { name: 'keep', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } });
        const t = { params: { groupId: id } };
        const before = await identitySnapshot(w, t);
        expectAtlasError(await send(w, operationById('deleteGroup'), t), { status: 409, errorCode: 'CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_STREAM_INSTANCES' });
        expect(await identitySnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: { 400: 'the only parameter is groupId (404 INVALID_GROUP_ID)', ...E500 },
  },
];

// ---------------------------------------------------------------------------------------
// API keys

const apiKeys: OperationContract[] = [
  {
    operationId: 'listOrgApiKeys',
    setup: async (w) => ({ params: { orgId: w.orgId } }),
    success(res) {
      expect(res.json.totalCount).toBeGreaterThan(0);
      expect(res.text).not.toMatch(/privateKey":"[^*]/);
    },
    notProvokable: E500,
  },
  {
    operationId: 'createOrgApiKey',
    setup: async (w) => ({ params: { orgId: w.orgId }, body: { ...KEY_BODY, desc: w.unique('ck') } }),
    sampleBody: KEY_BODY,
    success(res) {
      expect(res.json).toMatchObject({ id: expect.stringMatching(HEX24), privateKey: expect.any(String), roles: [{ orgId: expect.any(String), roleName: 'ORG_MEMBER' }] });
    },
    notProvokable: E500,
  },
  {
    operationId: 'getOrgApiKey',
    setup: async (w) => ({ params: { orgId: w.orgId, apiUserId: await newOrgKey(w) } }),
    success(res, t) {
      expect(res.json.id).toBe(t.params['apiUserId']);
      expect(res.json.privateKey).toMatch(/\*/);
    },
    notProvokable: E500,
  },
  {
    operationId: 'updateOrgApiKey',
    setup: async (w) => ({ params: { orgId: w.orgId, apiUserId: await newOrgKey(w) }, body: { desc: 'renamed', roles: ['ORG_READ_ONLY'] } }),
    sampleBody: { desc: 'renamed', roles: ['ORG_READ_ONLY'] },
    success(res) {
      expect(res.json).toMatchObject({ desc: 'renamed', roles: [expect.objectContaining({ roleName: 'ORG_READ_ONLY' })] });
    },
    notProvokable: E500,
  },
  {
    operationId: 'deleteOrgApiKey',
    setup: async (w) => ({ params: { orgId: w.orgId, apiUserId: await newOrgKey(w) } }),
    async success(_res, t, w) {
      expect((await setupClient(w).call(`${V2}/orgs/${w.orgId}/apiKeys/${t.params['apiUserId']}`)).status).toBe(404);
    },
    notProvokable: E500,
  },
  {
    operationId: 'listOrgAccessEntries',
    async setup(w) {
      const id = await newOrgKey(w);
      await post(w, `${V2}/orgs/${w.orgId}/apiKeys/${id}/accessList`, [{ ipAddress: '192.0.2.1' }]);
      return { params: { orgId: w.orgId, apiUserId: id } };
    },
    success(res) {
      expect(res.json.results).toEqual([expect.objectContaining({ ipAddress: '192.0.2.1' })]);
    },
    notProvokable: E500,
  },
  {
    operationId: 'createOrgAccessEntry',
    setup: async (w) => ({ params: { orgId: w.orgId, apiUserId: await newOrgKey(w) }, body: [{ ipAddress: '192.0.2.7' }, { cidrBlock: '198.51.100.0/24' }] }),
    sampleBody: [{ ipAddress: '192.0.2.7' }],
    success(res) {
      expect(res.json.totalCount).toBe(2);
    },
    cases: [{
      name: '400 VALIDATION_ERROR (an ipAddress that is no address)',
      async run(w) {
        const t = { params: { orgId: w.orgId, apiUserId: await newOrgKey(w) }, body: [{ ipAddress: '300.1.1.1' }] };
        const before = await identitySnapshot(w, t);
        expectAtlasError(await send(w, operationById('createOrgAccessEntry'), t), { status: 400, errorCode: 'VALIDATION_ERROR' });
        expect(await identitySnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: { 409: 'adding an entry that exists is no change (see differences)', ...E500 },
    differences: ['Adding an access-list entry that exists'],
  },
  {
    operationId: 'getOrgAccessEntry',
    async setup(w) {
      const id = await newOrgKey(w);
      await post(w, `${V2}/orgs/${w.orgId}/apiKeys/${id}/accessList`, [{ ipAddress: '192.0.2.2' }]);
      return { params: { orgId: w.orgId, apiUserId: id, ipAddress: '192.0.2.2' } };
    },
    success(res) {
      expect(res.json).toMatchObject({ ipAddress: '192.0.2.2' });
    },
    notProvokable: E500,
  },
  {
    operationId: 'deleteAccessEntry',
    async setup(w) {
      const id = await newOrgKey(w);
      await post(w, `${V2}/orgs/${w.orgId}/apiKeys/${id}/accessList`, [{ cidrBlock: '10.1.0.0/16' }]);
      return { params: { orgId: w.orgId, apiUserId: id, ipAddress: '10.1.0.0/16' } };
    },
    async success(_res, t, w) {
      const list = await setupClient(w).call(`${V2}/orgs/${w.orgId}/apiKeys/${t.params['apiUserId']}/accessList`);
      expect(list.json.totalCount).toBe(0);
    },
    notProvokable: E500,
  },
  {
    operationId: 'listGroupApiKeys',
    async setup(w) {
      await newProjectKey(w);
      return { params: { groupId: w.groupId } };
    },
    success(res) {
      expect(res.json.totalCount).toBeGreaterThan(0);
    },
    notProvokable: E500,
  },
  {
    operationId: 'createGroupApiKey',
    setup: async (w) => ({ params: { groupId: w.groupId }, body: { ...PROJECT_KEY_BODY, desc: w.unique('cpk') } }),
    sampleBody: PROJECT_KEY_BODY,
    success(res, _t, w) {
      expect(res.json.roles).toEqual(expect.arrayContaining([{ groupId: w.groupId, roleName: 'GROUP_READ_ONLY' }]));
    },
    notProvokable: E500,
  },
  {
    operationId: 'addGroupApiKey',
    setup: async (w) => ({ params: { groupId: w.groupId, apiUserId: await newOrgKey(w) }, body: [{ roles: ['GROUP_READ_ONLY'] }] }),
    sampleBody: [{ roles: ['GROUP_READ_ONLY'] }],
    async success(res, t, w) {
      expect(res.text).toBe('');
      const list = await setupClient(w).call(`${V2}/groups/${w.groupId}/apiKeys?itemsPerPage=500`);
      expect(list.json.results.map((k: { id: string }) => k.id)).toContain(t.params['apiUserId']);
    },
    notProvokable: E500,
    differences: [':invite for an account already in the project'],
  },
  {
    operationId: 'updateApiKeyRoles',
    setup: async (w) => ({ params: { groupId: w.groupId, apiUserId: await newProjectKey(w) }, body: { desc: 'promoted', roles: ['GROUP_OWNER'] } }),
    sampleBody: { desc: 'promoted', roles: ['GROUP_OWNER'] },
    success(res, _t, w) {
      expect(res.json.roles).toEqual(expect.arrayContaining([{ groupId: w.groupId, roleName: 'GROUP_OWNER' }]));
    },
    cases: [{
      name: '404 API_KEY_NOT_IN_GROUP (a key without a role in the project)',
      async run(w) {
        const t = { params: { groupId: w.groupId, apiUserId: await newOrgKey(w) }, body: { roles: ['GROUP_OWNER'] } };
        const before = await identitySnapshot(w, t);
        expectAtlasError(await send(w, operationById('updateApiKeyRoles'), t), { status: 404, errorCode: 'API_KEY_NOT_IN_GROUP' });
        expect(await identitySnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: E500,
  },
  {
    operationId: 'removeGroupApiKey',
    setup: async (w) => ({ params: { groupId: w.groupId, apiUserId: await newProjectKey(w) } }),
    async success(_res, t, w) {
      const list = await setupClient(w).call(`${V2}/groups/${w.groupId}/apiKeys?itemsPerPage=500`);
      expect(list.json.results.map((k: { id: string }) => k.id)).not.toContain(t.params['apiUserId']);
    },
    notProvokable: { 400: 'both path ids are covered by their 404/400 codes', ...E500 },
  },
];

// ---------------------------------------------------------------------------------------
// Service accounts

const serviceAccounts: OperationContract[] = [
  {
    operationId: 'listOrgServiceAccounts',
    async setup(w) {
      await newAccount(w);
      return { params: { orgId: w.orgId } };
    },
    success(res) {
      expect(res.json.totalCount).toBeGreaterThan(0);
      expect(res.text).not.toMatch(/"secret":"mdb_sa_sk_[^.]/);
    },
    notProvokable: E500,
  },
  {
    operationId: 'createOrgServiceAccount',
    setup: async (w) => ({ params: { orgId: w.orgId }, body: { ...SA_BODY, name: w.unique('csa') } }),
    sampleBody: SA_BODY,
    success(res) {
      expect(res.json).toMatchObject({ clientId: expect.stringMatching(/^mdb_sa_id_[a-f0-9]{24}$/), secrets: [expect.objectContaining({ secret: expect.stringMatching(/^mdb_sa_sk_/) })] });
    },
    notProvokable: E500,
    differences: ['Service-account secrets', 'Service-account secret lifetime'],
  },
  {
    operationId: 'getOrgServiceAccount',
    setup: async (w) => ({ params: { orgId: w.orgId, clientId: (await newAccount(w)).clientId } }),
    success(res, t) {
      expect(res.json.clientId).toBe(t.params['clientId']);
    },
    notProvokable: E500,
  },
  {
    operationId: 'updateOrgServiceAccount',
    setup: async (w) => ({ params: { orgId: w.orgId, clientId: (await newAccount(w)).clientId }, body: { name: 'renamed', description: 'new', roles: ['ORG_READ_ONLY'] } }),
    sampleBody: { name: 'renamed', description: 'new', roles: ['ORG_READ_ONLY'] },
    success(res) {
      expect(res.json).toMatchObject({ name: 'renamed', description: 'new', roles: ['ORG_READ_ONLY'] });
    },
    notProvokable: E500,
  },
  {
    operationId: 'deleteOrgServiceAccount',
    setup: async (w) => ({ params: { orgId: w.orgId, clientId: (await newAccount(w)).clientId } }),
    async success(_res, t, w) {
      expect((await setupClient(w).call(`${V2}/orgs/${w.orgId}/serviceAccounts/${t.params['clientId']}`)).status).toBe(404);
    },
    notProvokable: E500,
  },
  {
    operationId: 'listOrgAccessList',
    async setup(w) {
      const { clientId } = await newAccount(w);
      await post(w, `${V2}/orgs/${w.orgId}/serviceAccounts/${clientId}/accessList`, [{ ipAddress: '192.0.2.3' }]);
      return { params: { orgId: w.orgId, clientId } };
    },
    success(res) {
      expect(res.json.results).toEqual([expect.objectContaining({ ipAddress: '192.0.2.3' })]);
    },
    notProvokable: E500,
  },
  {
    operationId: 'createOrgAccessList',
    setup: async (w) => ({ params: { orgId: w.orgId, clientId: (await newAccount(w)).clientId }, body: [{ ipAddress: '192.0.2.4' }, { cidrBlock: '10.0.0.0/8' }] }),
    sampleBody: [{ ipAddress: '192.0.2.4' }],
    success(res) {
      expect(res.json.totalCount).toBe(2);
    },
    notProvokable: { 409: 'adding an entry that exists is no change (see differences)', ...E500 },
    differences: ['Adding an access-list entry that exists'],
  },
  {
    operationId: 'deleteOrgAccessEntry',
    async setup(w) {
      const { clientId } = await newAccount(w);
      await post(w, `${V2}/orgs/${w.orgId}/serviceAccounts/${clientId}/accessList`, [{ ipAddress: '192.0.2.5' }]);
      return { params: { orgId: w.orgId, clientId, ipAddress: '192.0.2.5' } };
    },
    async success(_res, t, w) {
      expect((await setupClient(w).call(`${V2}/orgs/${w.orgId}/serviceAccounts/${t.params['clientId']}/accessList`)).json.totalCount).toBe(0);
    },
    notProvokable: E500,
  },
  {
    operationId: 'getServiceAccountGroups',
    async setup(w) {
      const { clientId } = await newProjectAccount(w);
      return { params: { orgId: w.orgId, clientId } };
    },
    success(res, _t, w) {
      expect(res.json.results.map((p: { groupId: string }) => p.groupId)).toEqual([w.groupId]);
    },
    notProvokable: E500,
  },
  {
    operationId: 'createOrgSecret',
    setup: async (w) => ({ params: { orgId: w.orgId, clientId: (await newAccount(w)).clientId }, body: { secretExpiresAfterHours: 8 } }),
    sampleBody: { secretExpiresAfterHours: 8 },
    success(res) {
      expect(res.json.secret).toMatch(/^mdb_sa_sk_/);
    },
    cases: [{
      name: '400 SERVICE_ACCOUNT_MAX_SECRETS (a third secret)',
      async run(w) {
        const { clientId } = await newAccount(w);
        await post(w, `${V2}/orgs/${w.orgId}/serviceAccounts/${clientId}/secrets`, { secretExpiresAfterHours: 8 }, 201);
        const t = { params: { orgId: w.orgId, clientId }, body: { secretExpiresAfterHours: 8 } };
        const before = await identitySnapshot(w, t);
        expectAtlasError(await send(w, operationById('createOrgSecret'), t), { status: 400, errorCode: 'SERVICE_ACCOUNT_MAX_SECRETS' });
        expect(await identitySnapshot(w, t)).toEqual(before);
      },
    }, {
      name: '400 VALIDATION_ERROR (secretExpiresAfterHours below 8)',
      async run(w) {
        const t = { params: { orgId: w.orgId, clientId: (await newAccount(w)).clientId }, body: { secretExpiresAfterHours: 1 } };
        expectAtlasError(await send(w, operationById('createOrgSecret'), t), { status: 400, errorCode: 'VALIDATION_ERROR' });
      },
    }],
    notProvokable: E500,
    differences: ['Service-account secret lifetime'],
  },
  {
    operationId: 'deleteOrgSecret',
    setup: async (w) => {
      const a = await newAccount(w);
      return { params: { orgId: w.orgId, clientId: a.clientId, secretId: a.secretId } };
    },
    notProvokable: E500,
  },
  // --- project side
  {
    operationId: 'listGroupServiceAccounts',
    async setup(w) {
      await newProjectAccount(w);
      return { params: { groupId: w.groupId } };
    },
    success(res) {
      expect(res.json.totalCount).toBeGreaterThan(0);
    },
    notProvokable: E500,
  },
  {
    operationId: 'createGroupServiceAccount',
    setup: async (w) => ({ params: { groupId: w.groupId }, body: { ...PSA_BODY, name: w.unique('cpsa') } }),
    sampleBody: PSA_BODY,
    success(res) {
      expect(res.json).toMatchObject({ roles: ['GROUP_READ_ONLY'], secrets: [expect.objectContaining({ secret: expect.stringMatching(/^mdb_sa_sk_/) })] });
    },
    notProvokable: E500,
  },
  {
    operationId: 'getGroupServiceAccount',
    setup: async (w) => ({ params: { groupId: w.groupId, clientId: (await newProjectAccount(w)).clientId } }),
    success(res, t) {
      expect(res.json).toMatchObject({ clientId: t.params['clientId'], roles: ['GROUP_READ_ONLY'] });
    },
    cases: [notInGroup('getGroupServiceAccount')],
    notProvokable: E500,
  },
  {
    operationId: 'updateGroupServiceAccount',
    setup: async (w) => ({ params: { groupId: w.groupId, clientId: (await newProjectAccount(w)).clientId }, body: { name: 'p-renamed', description: 'd', roles: ['GROUP_OWNER'] } }),
    sampleBody: { name: 'p-renamed', description: 'd', roles: ['GROUP_OWNER'] },
    success(res) {
      expect(res.json).toMatchObject({ name: 'p-renamed', roles: ['GROUP_OWNER'] });
    },
    notProvokable: E500,
  },
  {
    operationId: 'deleteGroupServiceAccount',
    setup: async (w) => ({ params: { groupId: w.groupId, clientId: (await newProjectAccount(w)).clientId } }),
    async success(_res, t, w) {
      expect((await setupClient(w).call(`${V2}/groups/${w.groupId}/serviceAccounts/${t.params['clientId']}`)).status).toBe(404);
    },
    cases: [notInGroup('deleteGroupServiceAccount')],
    notProvokable: E500,
  },
  {
    operationId: 'inviteGroupServiceAccount',
    setup: async (w) => ({ params: { groupId: w.groupId, clientId: (await newAccount(w)).clientId }, body: { roles: ['GROUP_READ_ONLY'] } }),
    sampleBody: { roles: ['GROUP_READ_ONLY'] },
    success(res, t) {
      expect(res.json).toMatchObject({ clientId: t.params['clientId'], roles: ['GROUP_READ_ONLY'] });
    },
    notProvokable: E500,
    differences: [':invite for an account already in the project'],
  },
  {
    operationId: 'listAccessList',
    setup: async (w) => ({ params: { groupId: w.groupId, clientId: (await newProjectAccount(w)).clientId } }),
    success(res) {
      expect(res.json).toMatchObject({ results: [], totalCount: 0 });
    },
    notProvokable: E500,
  },
  {
    operationId: 'createAccessList',
    setup: async (w) => ({ params: { groupId: w.groupId, clientId: (await newProjectAccount(w)).clientId }, body: [{ ipAddress: '192.0.2.9' }] }),
    sampleBody: [{ ipAddress: '192.0.2.9' }],
    success(res) {
      expect(res.json.totalCount).toBe(1);
    },
    notProvokable: { 409: 'adding an entry that exists is no change (see differences)', ...E500 },
    differences: ['Adding an access-list entry that exists'],
  },
  {
    operationId: 'deleteGroupAccessEntry',
    async setup(w) {
      const { clientId } = await newProjectAccount(w);
      await post(w, `${V2}/groups/${w.groupId}/serviceAccounts/${clientId}/accessList`, [{ ipAddress: '192.0.2.10' }]);
      return { params: { groupId: w.groupId, clientId, ipAddress: '192.0.2.10' } };
    },
    notProvokable: { 400: 'the address is covered by INVALID_PATH_PARAMETER', ...E500 },
  },
  {
    operationId: 'createGroupSecret',
    setup: async (w) => ({ params: { groupId: w.groupId, clientId: (await newProjectAccount(w)).clientId }, body: { secretExpiresAfterHours: 8 } }),
    sampleBody: { secretExpiresAfterHours: 8 },
    success(res) {
      expect(res.json.secret).toMatch(/^mdb_sa_sk_/);
    },
    notProvokable: E500,
  },
  {
    operationId: 'deleteGroupSecret',
    setup: async (w) => {
      const a = await newProjectAccount(w);
      return { params: { groupId: w.groupId, clientId: a.clientId, secretId: a.secretId } };
    },
    notProvokable: E500,
  },
];

function notInGroup(operationId: string): NonNullable<OperationContract['cases']>[number] {
  return {
    name: '404 SERVICE_ACCOUNT_NOT_IN_GROUP (an organization account not assigned to the project)',
    async run(w) {
      const t = { params: { groupId: w.groupId, clientId: (await newAccount(w)).clientId } };
      const before = await identitySnapshot(w, t);
      expectAtlasError(await send(w, operationById(operationId), t), { status: 404, errorCode: 'SERVICE_ACCOUNT_NOT_IN_GROUP' });
      expect(await identitySnapshot(w, t)).toEqual(before);
    },
  };
}

export const projectsArea: Area = { contracts: projects, snapshot: identitySnapshot };
export const apiKeysArea: Area = { contracts: apiKeys, snapshot: identitySnapshot };
export const serviceAccountsArea: Area = { contracts: serviceAccounts, snapshot: identitySnapshot };
