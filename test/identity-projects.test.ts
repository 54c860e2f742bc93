import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, digestClient, startTestServer, type Client, type TestServer } from '../src/testing/harness.js';
import { createProject, expectError, V2 } from './identity-helpers.js';

let server: TestServer;
let owner: Client;
beforeAll(async () => {
  server = await startTestServer();
  owner = digestClient(server, server.owner);
});
afterAll(async () => { await server.close(); });

const OBJECT_ID = /^[a-f0-9]{24}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('projects', () => {
  it('creates a project: 200 and the Group shape', async () => {
    const res = await owner.call(`${V2}/groups`, {
      method: 'POST', accept: ACCEPT.identity,
      body: { name: 'alpha', orgId: server.orgId, tags: [{ key: 'env', value: 'dev' }], withDefaultAlertsSettings: false },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2023-01-01+json;charset=utf-8');
    expect(res.json).toEqual({
      clusterCount: 0,
      created: expect.stringMatching(ISO),
      id: expect.stringMatching(OBJECT_ID),
      links: [{ href: `${server.url}${V2}/groups/${res.json.id}`, rel: 'self' }],
      name: 'alpha',
      orgId: server.orgId,
      tags: [{ key: 'env', value: 'dev' }],
    });
    // Keys in alphabetical order on the wire.
    expect(Object.keys(JSON.parse(res.text))).toEqual(Object.keys(res.json).sort());
  });

  it('refuses a duplicate name with 409 GROUP_ALREADY_EXISTS', async () => {
    await createProject(owner, server.orgId, 'dup');
    const res = await owner.call(`${V2}/groups`, { method: 'POST', accept: ACCEPT.identity, body: { name: 'dup', orgId: server.orgId } });
    expectError(res, 409, 'GROUP_ALREADY_EXISTS');
    expect(res.json.parameters).toEqual(['dup']);
  });

  it('applies the Group name pattern', async () => {
    for (const name of ['has space', 'x'.repeat(65), 'semi;colon', '']) {
      const res = await owner.call(`${V2}/groups`, { method: 'POST', accept: ACCEPT.identity, body: { name, orgId: server.orgId } });
      expectError(res, 400, 'VALIDATION_ERROR');
    }
    const ok = await owner.call(`${V2}/groups`, { method: 'POST', accept: ACCEPT.identity, body: { name: "Ünïcode-1_(a),b:c&d@e+f'g.h", orgId: server.orgId } });
    expect(ok.status).toBe(200);
  });

  it('refuses another organization, missing fields, unknown and read-only fields', async () => {
    expectError(await owner.call(`${V2}/groups`, { method: 'POST', body: { name: 'other', orgId: 'a'.repeat(24) } }), 404, 'ORG_NOT_FOUND');
    expectError(await owner.call(`${V2}/groups`, { method: 'POST', body: { orgId: server.orgId } }), 400, 'MISSING_ATTRIBUTE');
    expectError(await owner.call(`${V2}/groups`, { method: 'POST', body: { name: 'n1', orgId: server.orgId, colour: 'red' } }), 400, 'INVALID_ATTRIBUTE');
    expectError(await owner.call(`${V2}/groups`, { method: 'POST', body: { name: 'n2', orgId: server.orgId, clusterCount: 3 } }), 400, 'ATTRIBUTE_READ_ONLY');
    expectError(await owner.call(`${V2}/groups`, { method: 'POST', body: { name: 'n3', orgId: server.orgId, regionUsageRestrictions: 'MARS' } }), 400, 'INVALID_ENUM_VALUE');
    // Atlas for Government only: commercial Atlas rejects the field even with a valid value.
    expectError(await owner.call(`${V2}/groups`, { method: 'POST', body: { name: 'n4', orgId: server.orgId, regionUsageRestrictions: 'GOV_REGIONS_ONLY' } }), 400, 'INVALID_ATTRIBUTE');
    const names = (await owner.call(`${V2}/groups?itemsPerPage=500`)).json.results.map((p: { name: string }) => p.name);
    expect(names).not.toEqual(expect.arrayContaining(['other']));
    expect(names.filter((n: string) => /^n\d$/.test(n))).toEqual([]);
  });

  it('lists, gets and finds projects by name', async () => {
    const id = await createProject(owner, server.orgId, 'findme');
    const list = await owner.call(`${V2}/groups`, { accept: ACCEPT.identity });
    expect(list.status).toBe(200);
    expect(list.json.results.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining([server.projectId, id]));
    expect(list.json.totalCount).toBe(list.json.results.length);

    const got = await owner.call(`${V2}/groups/${id}`, { accept: ACCEPT.identity });
    expect(got.status).toBe(200);
    expect(got.json.name).toBe('findme');

    const byName = await owner.call(`${V2}/groups/byName/findme`, { accept: ACCEPT.identity });
    expect(byName.status).toBe(200);
    expect(byName.json.id).toBe(id);
    const bootstrapProject = await owner.call(`${V2}/groups/byName/Local-Project`, { accept: ACCEPT.identity });
    expect(bootstrapProject.json.id).toBe(server.projectId);
    const missing = await owner.call(`${V2}/groups/byName/nope`, { accept: ACCEPT.identity });
    expectError(missing, 404, 'GROUP_NAME_NOT_FOUND');
    expect(missing.json.parameters).toEqual(['nope']);
  });

  it('lists an organization projects, filtered by a case-insensitive name prefix', async () => {
    await createProject(owner, server.orgId, 'Prefix-One');
    await createProject(owner, server.orgId, 'prefix-two');
    const res = await owner.call(`${V2}/orgs/${server.orgId}/groups?name=PREFIX`, { accept: ACCEPT.identity });
    expect(res.status).toBe(200);
    expect(res.json.results.map((p: { name: string }) => p.name)).toEqual(['Prefix-One', 'prefix-two']);
    expect(res.json.totalCount).toBe(2);
    const all = await owner.call(`${V2}/orgs/${server.orgId}/groups?itemsPerPage=1&pageNum=2`, { accept: ACCEPT.identity });
    expect(all.json.results).toHaveLength(1);
    expect(all.json.links.map((l: { rel: string }) => l.rel)).toEqual(['self', 'next', 'previous']);
  });

  it('answers 404 GROUP_NOT_FOUND to an org owner for a well-formed unknown id', async () => {
    const res = await owner.call(`${V2}/groups/${'0'.repeat(24)}`, { accept: ACCEPT.identity });
    expectError(res, 404, 'GROUP_NOT_FOUND');
  });

  it('renames and retags a project', async () => {
    const id = await createProject(owner, server.orgId, 'before');
    const res = await owner.call(`${V2}/groups/${id}`, { method: 'PATCH', accept: ACCEPT.identity, body: { name: 'after', tags: [{ key: 'team', value: 'streams' }] } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id, name: 'after', tags: [{ key: 'team', value: 'streams' }] });
    expect((await owner.call(`${V2}/groups/byName/after`)).json.id).toBe(id);
    expectError(await owner.call(`${V2}/groups/byName/before`), 404, 'GROUP_NAME_NOT_FOUND');

    // Only tags: the name stays.
    const tagsOnly = await owner.call(`${V2}/groups/${id}`, { method: 'PATCH', body: { tags: [] } });
    expect(tagsOnly.json).toMatchObject({ name: 'after', tags: [] });
  });

  it('refuses a rename onto another project name, or a bad name, leaving it unchanged', async () => {
    const id = await createProject(owner, server.orgId, 'keepname');
    await createProject(owner, server.orgId, 'taken');
    expectError(await owner.call(`${V2}/groups/${id}`, { method: 'PATCH', body: { name: 'taken' } }), 409, 'GROUP_ALREADY_EXISTS');
    expectError(await owner.call(`${V2}/groups/${id}`, { method: 'PATCH', body: { name: 'bad name!' } }), 400, 'VALIDATION_ERROR');
    expectError(await owner.call(`${V2}/groups/${id}`, { method: 'PATCH', body: { orgId: server.orgId } }), 400, 'INVALID_ATTRIBUTE');
    expect((await owner.call(`${V2}/groups/${id}`)).json.name).toBe('keepname');
  });

  it('deletes a project: 204, then 404', async () => {
    const id = await createProject(owner, server.orgId, 'doomed');
    const res = await owner.call(`${V2}/groups/${id}`, { method: 'DELETE', accept: ACCEPT.identity });
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expectError(await owner.call(`${V2}/groups/${id}`), 404, 'GROUP_NOT_FOUND');
    // The name is free again.
    expect((await owner.call(`${V2}/groups`, { method: 'POST', body: { name: 'doomed', orgId: server.orgId } })).status).toBe(200);
  });

  it('refuses to delete a project that has stream instances (409)', async () => {
    const id = await createProject(owner, server.orgId, 'streaming');
    // The Streams module stores instances under kind 'streamInstance' with the project as parent.
    await server.app.store.transaction((tx) => tx.insert('streamInstance', { id: `inst-${id}`, parentId: id, name: 'i1' }, { name: 'i1' }));
    const res = await owner.call(`${V2}/groups/${id}`, { method: 'DELETE' });
    expectError(res, 409, 'CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_STREAM_INSTANCES');
    expect((await owner.call(`${V2}/groups/${id}`)).status).toBe(200);
    await server.app.store.transaction((tx) => tx.delete('streamInstance', `inst-${id}`));
    expect((await owner.call(`${V2}/groups/${id}`, { method: 'DELETE' })).status).toBe(204);
  });
});
