// Who may do what (the role matrix), the Digest flow as curl speaks it, restarts, and bad input.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, digestClient, fetchToken, bearerClient, startTestServer, type Client, type TestServer } from '../src/testing/harness.js';
import { createOrgKey, createProject, createProjectKey, createServiceAccount, expectError, V2, type CreatedKey } from './identity-helpers.js';

const run = promisify(execFile);

let server: TestServer;
let owner: Client;
beforeAll(async () => {
  server = await startTestServer();
  owner = digestClient(server, server.owner);
});
afterAll(async () => { await server.close(); });

describe('role matrix', () => {
  let groupId: string;
  const callers: Record<string, Client> = {};
  let outsiderKey: CreatedKey;

  beforeAll(async () => {
    groupId = await createProject(owner, server.orgId, 'matrix');
    callers['orgOwner'] = owner;
    callers['projectOwner'] = digestClient(server, await createProjectKey(owner, groupId, ['GROUP_OWNER']));
    callers['streamOwner'] = digestClient(server, await createProjectKey(owner, groupId, ['GROUP_STREAM_PROCESSING_OWNER']));
    callers['readOnly'] = digestClient(server, await createProjectKey(owner, groupId, ['GROUP_READ_ONLY']));
    outsiderKey = await createOrgKey(owner, server.orgId, ['ORG_MEMBER']);
    callers['outsider'] = digestClient(server, outsiderKey);
  });

  type Expectation = number | string;
  // status, or the errorCode of a refusal.
  const matrix: Array<{ op: string; call: () => [string, { method?: string; body?: unknown }]; expect: Record<string, Expectation> }> = [
    {
      op: 'getGroup', call: () => [`${V2}/groups/${groupId}`, {}],
      expect: { orgOwner: 200, projectOwner: 200, streamOwner: 200, readOnly: 200, outsider: 'NOT_IN_GROUP' },
    },
    {
      op: 'updateGroup', call: () => [`${V2}/groups/${groupId}`, { method: 'PATCH', body: { tags: [] } }],
      expect: { orgOwner: 200, projectOwner: 200, streamOwner: 'USER_UNAUTHORIZED', readOnly: 'USER_UNAUTHORIZED', outsider: 'NOT_IN_GROUP' },
    },
    {
      op: 'listGroupApiKeys', call: () => [`${V2}/groups/${groupId}/apiKeys`, {}],
      expect: { orgOwner: 200, projectOwner: 200, streamOwner: 200, readOnly: 200, outsider: 'NOT_IN_GROUP' },
    },
    {
      op: 'listGroupServiceAccounts', call: () => [`${V2}/groups/${groupId}/serviceAccounts`, {}],
      expect: { orgOwner: 200, projectOwner: 200, streamOwner: 200, readOnly: 200, outsider: 'NOT_IN_GROUP' },
    },
    {
      op: 'createGroupServiceAccount',
      call: () => [`${V2}/groups/${groupId}/serviceAccounts`, { method: 'POST', body: { name: 'm', description: 'm', roles: ['GROUP_READ_ONLY'], secretExpiresAfterHours: 8 } }],
      expect: { orgOwner: 201, projectOwner: 201, streamOwner: 'USER_UNAUTHORIZED', readOnly: 'USER_UNAUTHORIZED', outsider: 'NOT_IN_GROUP' },
    },
    {
      op: 'getGroupByName', call: () => [`${V2}/groups/byName/matrix`, {}],
      expect: { orgOwner: 200, projectOwner: 200, streamOwner: 200, readOnly: 200, outsider: 'USER_UNAUTHORIZED' },
    },
    {
      op: 'listOrgApiKeys', call: () => [`${V2}/orgs/${server.orgId}/apiKeys`, {}],
      expect: { orgOwner: 200, projectOwner: 200, streamOwner: 200, readOnly: 200, outsider: 200 },
    },
    {
      op: 'createOrgApiKey', call: () => [`${V2}/orgs/${server.orgId}/apiKeys`, { method: 'POST', body: { desc: 'm', roles: ['ORG_MEMBER'] } }],
      expect: { orgOwner: 200, projectOwner: 'USER_UNAUTHORIZED', streamOwner: 'USER_UNAUTHORIZED', readOnly: 'USER_UNAUTHORIZED', outsider: 'USER_UNAUTHORIZED' },
    },
    {
      op: 'createOrgServiceAccount',
      call: () => [`${V2}/orgs/${server.orgId}/serviceAccounts`, { method: 'POST', body: { name: 'm', description: 'm', roles: ['ORG_MEMBER'], secretExpiresAfterHours: 8 } }],
      expect: { orgOwner: 201, projectOwner: 'USER_UNAUTHORIZED', readOnly: 'USER_UNAUTHORIZED', outsider: 'USER_UNAUTHORIZED' },
    },
    {
      op: 'deleteGroup', call: () => [`${V2}/groups/${groupId}`, { method: 'DELETE' }],
      expect: { streamOwner: 'USER_UNAUTHORIZED', readOnly: 'USER_UNAUTHORIZED', outsider: 'NOT_IN_GROUP' },
    },
  ];

  for (const row of matrix) {
    it(row.op, async () => {
      for (const [who, expected] of Object.entries(row.expect)) {
        const [path, options] = row.call();
        const res = await callers[who]!.call(path, { accept: ACCEPT.latest, ...options });
        if (typeof expected === 'number') expect({ who, status: res.status }).toEqual({ who, status: expected });
        else expect({ who, status: res.status, errorCode: res.json?.errorCode }).toEqual({ who, status: 401, errorCode: expected });
      }
    });
  }

  it('answers GROUP_NOT_FOUND only to those who could see every project', async () => {
    const unknown = `${V2}/groups/${'f'.repeat(24)}`;
    expectError(await owner.call(unknown, { accept: ACCEPT.identity }), 404, 'GROUP_NOT_FOUND');
    expectError(await callers['projectOwner']!.call(unknown, { accept: ACCEPT.identity }), 401, 'NOT_IN_GROUP');
  });

  it('lets a project creator own the project it creates', async () => {
    const creator = await createOrgKey(owner, server.orgId, ['ORG_GROUP_CREATOR']);
    const client = digestClient(server, creator);
    const id = await createProject(client, server.orgId, 'made-by-creator');
    expect((await client.call(`${V2}/groups/${id}`, { method: 'PATCH', accept: ACCEPT.identity, body: { tags: [] } })).status).toBe(200);
    const key = await owner.call(`${V2}/orgs/${server.orgId}/apiKeys/${creator.id}`, { accept: ACCEPT.identity });
    expect(key.json.roles).toContainEqual({ groupId: id, roleName: 'GROUP_OWNER' });
    expectError(await digestClient(server, outsiderKey).call(`${V2}/groups`, { method: 'POST', accept: ACCEPT.identity, body: { name: 'nope', orgId: server.orgId } }), 401, 'USER_UNAUTHORIZED');
  });

  it('lists only the projects a caller can see', async () => {
    const res = await callers['readOnly']!.call(`${V2}/orgs/${server.orgId}/groups`, { accept: ACCEPT.identity });
    expect(res.status).toBe(200);
    expect(res.json.results.map((p: { id: string }) => p.id)).toEqual([groupId]);
    const all = await owner.call(`${V2}/orgs/${server.orgId}/groups`, { accept: ACCEPT.identity });
    expect(all.json.totalCount).toBeGreaterThan(1);
  });

  it('gives a service account with ORG_OWNER every project', async () => {
    const account = await createServiceAccount(owner, server.orgId, ['ORG_OWNER']);
    const bot = bearerClient(server, await fetchToken(server.url, account.clientId, account.secret));
    expect((await bot.call(`${V2}/groups/${groupId}`, { accept: ACCEPT.identity })).status).toBe(200);
    expect((await bot.call(`${V2}/groups`, { accept: ACCEPT.identity })).json.totalCount).toBeGreaterThan(1);
  });
});

describe('curl --digest', () => {
  const curl = async (args: string[]) => {
    const { stdout } = await run('curl', ['-s', '--digest', '--user', `${server.owner.publicKey}:${server.owner.privateKey}`,
      '-H', `Accept: ${ACCEPT.identity}`, '-w', '\n%{http_code}', ...args]);
    const lines = stdout.split('\n');
    return { status: Number(lines.pop()), json: JSON.parse(lines.join('\n') || 'null') };
  };

  it('GETs with Digest', async () => {
    const res = await curl([`${server.url}${V2}/groups/${server.projectId}`]);
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(server.projectId);
  });

  it('POSTs once: the unauthenticated first leg has no effect', async () => {
    const res = await curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-d', JSON.stringify({ name: 'via-curl', orgId: server.orgId }),
      `${server.url}${V2}/groups`]);
    expect(res.status).toBe(200);
    const list = await owner.call(`${V2}/orgs/${server.orgId}/groups?name=via-curl`, { accept: ACCEPT.identity });
    expect(list.json.results.map((p: { name: string }) => p.name)).toEqual(['via-curl']);

    const key = await curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"desc":"curl key","roles":["ORG_MEMBER"]}',
      `${server.url}${V2}/orgs/${server.orgId}/apiKeys`]);
    expect(key.status).toBe(200);
    const keys = (await owner.call(`${V2}/orgs/${server.orgId}/apiKeys?itemsPerPage=500`, { accept: ACCEPT.identity })).json.results;
    expect(keys.filter((k: { desc: string }) => k.desc === 'curl key')).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('never answers 500 and changes nothing', async () => {
    // One at a time: concurrent Digest calls may draw the same nonce (see the report on digest.ts).
    const snapshot = async () => [
      (await owner.call(`${V2}/groups?itemsPerPage=500`)).text,
      (await owner.call(`${V2}/orgs/${server.orgId}/apiKeys?itemsPerPage=500`)).text,
      (await owner.call(`${V2}/orgs/${server.orgId}/serviceAccounts?itemsPerPage=500`)).text,
    ];
    const before = await snapshot();
    const key = `${'a'.repeat(24)}`;
    const attempts: Array<[string, string, unknown]> = [
      ['POST', `${V2}/groups`, '{'],
      ['POST', `${V2}/groups`, '[]'],
      ['POST', `${V2}/groups`, 'null'],
      ['POST', `${V2}/groups`, { name: ['x'], orgId: server.orgId }],
      ['POST', `${V2}/groups`, { name: 'x', orgId: 'nothex' }],
      ['POST', `${V2}/groups`, { name: 'x', orgId: server.orgId, tags: [{ key: '' }] }],
      ['POST', `${V2}/groups`, { name: 'x', orgId: server.orgId, tags: 'a' }],
      ['PATCH', `${V2}/groups/${server.projectId}`, { name: null }],
      ['PATCH', `${V2}/groups/${server.projectId}`, { name: '' }],
      ['PATCH', `${V2}/groups/${server.projectId}`, 'x'],
      ['POST', `${V2}/orgs/${server.orgId}/apiKeys`, { desc: 'x'.repeat(251), roles: ['ORG_MEMBER'] }],
      ['POST', `${V2}/orgs/${server.orgId}/apiKeys`, { desc: 'x', roles: 'ORG_MEMBER' }],
      ['POST', `${V2}/orgs/${server.orgId}/apiKeys`, { desc: 'x', roles: [null] }],
      ['PATCH', `${V2}/orgs/${server.orgId}/apiKeys/${key}`, { desc: 'x' }],
      ['POST', `${V2}/orgs/${server.orgId}/apiKeys/${key}/accessList`, [{ ipAddress: '1.2.3.4' }]],
      ['GET', `${V2}/orgs/${server.orgId}/apiKeys/${key}/accessList/not-an-ip`, undefined],
      ['GET', `${V2}/orgs/${server.orgId}/apiKeys/${key}/accessList/%E0%A4%A`, undefined],
      ['POST', `${V2}/groups/${server.projectId}/apiKeys`, { desc: 'x', roles: ['GROUP_OWNER', 'ORG_OWNER'] }],
      ['POST', `${V2}/groups/${server.projectId}/apiKeys/${key}`, [{ roles: ['GROUP_OWNER'], userId: key }]],
      ['POST', `${V2}/orgs/${server.orgId}/serviceAccounts`, { name: 'x', description: 'x', roles: ['ORG_MEMBER'], secretExpiresAfterHours: 1e12 }],
      ['POST', `${V2}/orgs/${server.orgId}/serviceAccounts`, { name: 'x', description: 'x', roles: ['ORG_MEMBER'], secretExpiresAfterHours: -5 }],
      ['POST', `${V2}/orgs/${server.orgId}/serviceAccounts`, { name: 'x', description: 'x', roles: ['ORG_MEMBER'], secretExpiresAfterHours: 2.5 }],
      ['POST', `${V2}/orgs/${server.orgId}/serviceAccounts/mdb_sa_id_${key}/secrets`, { secretExpiresAfterHours: 8 }],
      ['POST', `${V2}/orgs/${server.orgId}/serviceAccounts/mdb_sa_id_${key}/accessList`, [{ ipAddress: '1.2.3.4' }]],
      ['DELETE', `${V2}/orgs/${server.orgId}/serviceAccounts/mdb_sa_id_${key}/secrets/${key}`, undefined],
      ['POST', `${V2}/groups/${server.projectId}/serviceAccounts/mdb_sa_id_${key}:invite`, { roles: 'GROUP_OWNER' }],
      ['GET', `${V2}/groups/byName/${'n'.repeat(65)}`, undefined],
    ];
    for (const [method, path, body] of attempts) {
      const res = await owner.call(path, { method, body, accept: ACCEPT.latest });
      expect({ method, path, status: res.status < 500 && res.status >= 400 }).toEqual({ method, path, status: true });
      expect(res.json?.errorCode).toBeTruthy();
    }
    expect(await snapshot()).toEqual(before);
    expect(server.logs.some((l) => l.includes('request failed unexpectedly'))).toBe(false);
  });
});

describe('restart', () => {
  it('keeps projects, keys and service accounts, and the old key still authenticates', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'identity-restart-'));
    try {
      const first = await startTestServer({ inMemory: false, dataDir });
      const bootOwner = first.owner;
      const c1 = digestClient(first, bootOwner);
      const groupId = await createProject(c1, first.orgId, 'survives');
      const key = await createProjectKey(c1, groupId, ['GROUP_READ_ONLY']);
      const account = await createServiceAccount(c1, first.orgId, ['ORG_MEMBER']);
      expect((await c1.call(`${V2}/orgs/${first.orgId}/apiKeys/${key.id}/accessList`, { method: 'POST', accept: ACCEPT.identity, body: [{ ipAddress: '127.0.0.1' }] })).status).toBe(200);
      await first.close();

      const second = await startTestServer({ inMemory: false, dataDir });
      try {
        expect(second.orgId).toBe(first.orgId);
        const c2 = digestClient(second, bootOwner);
        const project = await c2.call(`${V2}/groups/byName/survives`, { accept: ACCEPT.identity });
        expect(project.status).toBe(200);
        expect(project.json.id).toBe(groupId);
        expect((await digestClient(second, key).call(`${V2}/groups/${groupId}`, { accept: ACCEPT.identity })).status).toBe(200);
        const token = await fetchToken(second.url, account.clientId, account.secret);
        expect((await bearerClient(second, token).call(`${V2}/orgs/${second.orgId}`, { accept: ACCEPT.identity })).status).toBe(200);
        const entry = await c2.call(`${V2}/orgs/${second.orgId}/apiKeys/${key.id}/accessList/127.0.0.1`, { accept: ACCEPT.identity });
        expect(entry.json).toMatchObject({ ipAddress: '127.0.0.1', count: 1 });
        for (const line of [...first.logs, ...second.logs]) {
          expect(line).not.toContain(key.privateKey);
          expect(line).not.toContain(account.secret);
        }
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
