// Who may call the Streams operations: each operation's x-rolesRequirements, read through
// the one role table, and the organization role Atlas added for Stream Processing
// (ORG_STREAM_PROCESSING_ADMIN: every workspace of every project, private links and VPC
// peering; read-only at the organization).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations } from '../src/protocol/generated/operations.js';
import { ORG_ROLES, requiredRoles } from '../src/model/roles.js';
import { digestClient, startTestServer, type Client, type TestServer } from '../src/testing/harness.js';
import { createOrgKey, createProject, createProjectKey, createServiceAccount, expectError, V2 } from './identity-helpers.js';

let server: TestServer;
let owner: Client;
let groupId: string;
beforeAll(async () => {
  server = await startTestServer({ logLevel: 'warn' });
  owner = digestClient(server, server.owner);
  groupId = await createProject(owner, server.orgId, 'roles');
});
afterAll(async () => { await server.close(); });

const streamsOps = operations.filter((o) => o.tag === 'Streams');

/** A path for the operation in the project, with names that exist nowhere: past authorization it is a 404 or a 400. */
function fill(path: string): string {
  const query = path.includes('/vpcPeeringConnections') && !path.includes('{id}') ? '?requesterAccountId=111111111111'
    : path.endsWith('/accountDetails') ? '?cloudProvider=aws&regionName=US_EAST_1' : '';
  return path.replace('{groupId}', groupId).replace(/\{[^}]+\}/g, 'nothing-here') + query;
}

async function callAs(client: Client, op: (typeof streamsOps)[number]) {
  const accept = `application/vnd.atlas.${op.versions[op.versions.length - 1]}+${op.format}`;
  return client.call(fill(op.path), { method: op.method, accept, ...(op.requestBody ? { body: {} } : {}) });
}

describe('x-rolesRequirements of every Streams operation', () => {
  it('lets each required role through, alone', async () => {
    const clients = new Map<string, Client>();
    for (const op of streamsOps) {
      for (const role of requiredRoles(op)) {
        if (!clients.has(role)) {
          const key = ORG_ROLES.includes(role)
            ? await createOrgKey(owner, server.orgId, [role], role)
            : await createProjectKey(owner, groupId, [role], role);
          clients.set(role, digestClient(server, key));
        }
        const res = await callAs(clients.get(role)!, op);
        expect(res.json?.errorCode, `${op.operationId} as ${role}: ${res.text.slice(0, 200)}`).not.toBe('USER_UNAUTHORIZED');
        expect(res.status, `${op.operationId} as ${role}`).not.toBe(401);
      }
    }
  });

  it('refuses a project role that grants none of them with 401 USER_UNAUTHORIZED', async () => {
    const searchEditor = digestClient(server, await createProjectKey(owner, groupId, ['GROUP_SEARCH_INDEX_EDITOR']));
    for (const op of streamsOps) {
      const res = await callAs(searchEditor, op);
      if (requiredRoles(op).includes('GROUP_READ_ONLY')) {
        expect(res.status, `${op.operationId}: every project role reads`).not.toBe(401);
      } else {
        expectError(res, 401, 'USER_UNAUTHORIZED');
      }
    }
  });
});

describe('Organization Stream Processing Admin', () => {
  let admin: Client;
  beforeAll(async () => {
    admin = digestClient(server, await createOrgKey(owner, server.orgId, ['ORG_STREAM_PROCESSING_ADMIN'], 'stream admin'));
  });

  it('runs workspaces, connections and processors in a project it was never given', async () => {
    const other = await createProject(owner, server.orgId, 'roles-other');
    const streams = `${V2}/groups/${other}/streams`;
    const created = await admin.call(streams, { method: 'POST', body: { name: 'ws', dataProcessRegion: { cloudProvider: 'GCP', region: 'US_CENTRAL1' } } });
    expect(created.status, created.text).toBe(200);
    expect(created.json.dataProcessRegion).toEqual({ cloudProvider: 'GCP', region: 'US_CENTRAL1' });
    const conn = await admin.call(`${streams}/ws/connections`, { method: 'POST', body: { name: 'sample_stream_solar', type: 'Sample' } });
    expect(conn.status, conn.text).toBe(200);
    const processor = await admin.call(`${streams}/ws/processor`, {
      method: 'POST', accept: 'application/vnd.atlas.2024-05-30+json',
      body: { name: 'p', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] },
    });
    expect(processor.status, processor.text).toBe(200);
    expect((await admin.call(`${streams}/ws/processor/p`, { method: 'DELETE', accept: 'application/vnd.atlas.2024-05-30+json' })).status).toBe(204);
    expect((await admin.call(`${streams}/ws`, { method: 'DELETE' })).status).toBe(202);
  });

  it('manages private links and VPC peering of any project', async () => {
    const link = await admin.call(`${V2}/groups/${groupId}/streams/privateLinkConnections`, { method: 'POST', body: { provider: 'GCP', region: 'us-central1' } });
    expect(link.status, link.text).toBe(200);
    const patched = await admin.call(`${V2}/groups/${groupId}/streams/privateLinkConnections/${link.json._id}`, {
      method: 'PATCH', accept: 'application/vnd.atlas.2025-03-12+json', body: { dnsDomain: 'gcp.example.com' },
    });
    expect(patched.status, patched.text).toBe(200);
    expect((await admin.call(`${V2}/groups/${groupId}/streams/vpcPeeringConnections?requesterAccountId=111111111111`)).status).toBe(200);
    expect((await admin.call(`${V2}/groups/${groupId}/streams/privateLinkConnections/${link.json._id}`, { method: 'DELETE' })).status).toBe(202);
  });

  it('reads the organization and its projects but changes nothing else in them', async () => {
    expect((await admin.call(`${V2}/orgs/${server.orgId}`)).status).toBe(200);
    expect((await admin.call(`${V2}/groups/${groupId}`)).status).toBe(200);
    expectError(await admin.call(`${V2}/groups/${groupId}`, { method: 'PATCH', body: { tags: [] } }), 401, 'USER_UNAUTHORIZED');
    expectError(await admin.call(`${V2}/groups`, { method: 'POST', body: { name: 'nope', orgId: server.orgId } }), 401, 'USER_UNAUTHORIZED');
    expectError(await admin.call(`${V2}/orgs/${server.orgId}/apiKeys`, { method: 'POST', body: { desc: 'x', roles: ['ORG_MEMBER'] } }), 401, 'USER_UNAUTHORIZED');
    expectError(await admin.call(`${V2}/groups/${groupId}/apiKeys`, { method: 'POST', body: { desc: 'x', roles: ['GROUP_READ_ONLY'] } }), 401, 'USER_UNAUTHORIZED');
  });

  it('is a valid role for organization keys and service accounts only, from the one role table', async () => {
    await createServiceAccount(owner, server.orgId, ['ORG_STREAM_PROCESSING_ADMIN'], 'stream admin account');
    expectError(await owner.call(`${V2}/groups/${groupId}/apiKeys`, { method: 'POST', body: { desc: 'x', roles: ['ORG_STREAM_PROCESSING_ADMIN'] } }),
      400, 'INVALID_ROLE_FOR_GROUP');
    // The organization key schema enumerates its roles, so the spec's own check answers first.
    expectError(await owner.call(`${V2}/orgs/${server.orgId}/apiKeys`, { method: 'POST', body: { desc: 'x', roles: ['GROUP_STREAM_PROCESSING_OWNER'] } }),
      400, 'INVALID_ENUM_VALUE');
    const key = await createOrgKey(owner, server.orgId, ['ORG_STREAM_PROCESSING_ADMIN', 'ORG_READ_ONLY'], 'two roles');
    const shown = await owner.call(`${V2}/orgs/${server.orgId}/apiKeys/${key.id}`);
    expect(shown.json.roles.map((r: { roleName: string }) => r.roleName).sort()).toEqual(['ORG_READ_ONLY', 'ORG_STREAM_PROCESSING_ADMIN']);
  });
});
