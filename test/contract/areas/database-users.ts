// Database users of a project: the identities that log in to a workspace's wire endpoint.
import { expect } from 'vitest';
import { expectAtlasError, look, send, setupClient, V2, type Area, type OperationContract, type Target, type World } from '../framework.js';
import { operationById } from '../../../src/protocol/router.js';

const PASSWORD = 'db-user-pa55word-s3cr3t';
const users = (w: World) => `${V2}/groups/${w.groupId}/databaseUsers`;

const userBody = (w: World, username: string) => ({
  databaseName: 'admin', groupId: w.groupId, username, password: PASSWORD,
  roles: [{ roleName: 'readWriteAnyDatabase', databaseName: 'admin' }],
});

/** The schema asks an update for the user's databaseName, groupId and username besides what changes. */
const updateBody = (w: World, username: string) => ({
  databaseName: 'admin', groupId: w.groupId, username, roles: [{ roleName: 'readAnyDatabase', databaseName: 'admin' }],
});

async function withUser(w: World): Promise<Target> {
  const username = w.unique('dbuser');
  const res = await setupClient(w).call(users(w), { method: 'POST', body: userBody(w, username) });
  expect(res.status, res.text).toBe(201);
  return { params: { groupId: w.groupId, databaseName: 'admin', username } };
}

const MISSING_USER = { username: { value: 'no-such-user', status: 404, errorCode: 'DATABASE_USER_NOT_FOUND' }, databaseName: { value: 'nodb', status: 404, errorCode: 'DATABASE_USER_NOT_FOUND' } };

function expectNoPassword(text: string): void {
  expect(text).not.toContain(PASSWORD);
}

const contracts: OperationContract[] = [
  {
    operationId: 'listDatabaseUsers',
    async setup(w) {
      await withUser(w);
      return { params: { groupId: w.groupId } };
    },
    success(res) {
      expect(res.json.results.length).toBeGreaterThan(0);
      expectNoPassword(res.text);
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'createDatabaseUser',
    async setup(w) {
      return { params: { groupId: w.groupId }, body: userBody(w, w.unique('created')) };
    },
    sampleBody: { databaseName: 'admin', groupId: '0123456789abcdef01234567', username: 'sample', password: PASSWORD, roles: [{ roleName: 'readAnyDatabase', databaseName: 'admin' }] },
    async success(res, t, w) {
      const body = t.body as { username: string };
      expect(res.json).toMatchObject({ username: body.username, databaseName: 'admin', roles: [{ roleName: 'readWriteAnyDatabase', databaseName: 'admin' }] });
      expectNoPassword(res.text);
      const got = await setupClient(w).call(`${users(w)}/admin/${body.username}`);
      expect(got.status).toBe(200);
    },
    duplicate: { status: 409, errorCode: 'DATABASE_USER_ALREADY_EXISTS' },
    cases: [{
      name: '400 INVALID_ENUM_VALUE (a role that is no built-in role)',
      async run(w) {
        const t = { params: { groupId: w.groupId }, body: { ...userBody(w, w.unique('badrole')), roles: [{ roleName: 'notARole', databaseName: 'admin' }] } };
        expectAtlasError(await send(w, operationById('createDatabaseUser'), t), { status: 400, errorCode: 'INVALID_ENUM_VALUE' });
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
    differences: ['Database users'],
  },
  {
    operationId: 'getDatabaseUser',
    setup: (w) => withUser(w),
    success(res, t) {
      expect(res.json).toMatchObject({ username: t.params['username'], databaseName: 'admin' });
      expectNoPassword(res.text);
    },
    missing: MISSING_USER,
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'updateDatabaseUser',
    async setup(w) {
      const t = await withUser(w);
      return { ...t, body: updateBody(w, t.params['username']!) };
    },
    sampleBody: { databaseName: 'admin', groupId: '0123456789abcdef01234567', username: 'sample', roles: [{ roleName: 'readAnyDatabase', databaseName: 'admin' }] },
    async success(res, t, w) {
      expect(res.json.roles).toEqual([{ roleName: 'readAnyDatabase', databaseName: 'admin' }]);
      const got = await setupClient(w).call(`${users(w)}/admin/${t.params['username']}`);
      expect(got.json.roles).toEqual([{ roleName: 'readAnyDatabase', databaseName: 'admin' }]);
    },
    missing: MISSING_USER,
    cases: [{
      name: '400 ATTRIBUTE_READ_ONLY (renaming the user)',
      async run(w) {
        const t = await withUser(w);
        expectAtlasError(await send(w, operationById('updateDatabaseUser'), { ...t, body: updateBody(w, 'renamed') }), { status: 400, errorCode: 'ATTRIBUTE_READ_ONLY' });
      },
    }],
    notProvokable: { 409: 'a user is named by its path and cannot be renamed, so an update never collides with another user', 500: 'UNEXPECTED_ERROR' },
    differences: ['Database users'],
  },
  {
    operationId: 'deleteDatabaseUser',
    setup: (w) => withUser(w),
    async success(_res, t, w) {
      expect((await setupClient(w).call(`${users(w)}/admin/${t.params['username']}`)).status).toBe(404);
    },
    missing: MISSING_USER,
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
];

async function databaseUsersSnapshot(w: World): Promise<unknown> {
  return look(w, `${users(w)}?itemsPerPage=500`, 'listDatabaseUsers');
}

export const area: Area = { contracts, snapshot: databaseUsersSnapshot };
