// The wire endpoint through the MongoDB Node driver: every command with
// db.admin().command(...), both SCRAM mechanisms, the same processors as the Admin API,
// roles, and Atlas-shaped errors.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Long, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestClient } from '../../src/testing/harness.js';
import { V2, createConnection, createProcessor, streamsPath } from '../streams-fixtures.js';
import {
  connect, createDatabaseUser, createWorkspace, DB_PASSWORD, DB_USER, solarPipeline, startWireServer, type WireServer,
} from './wire-fixtures.js';

let w: WireServer;
let uri: string;
const clients: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  w = await startWireServer();
  ({ uri } = await createWorkspace(w, 'wsdriver'));
});

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await w.close();
});

async function admin(username = DB_USER, password = DB_PASSWORD, mechanism?: 'SCRAM-SHA-1' | 'SCRAM-SHA-256') {
  const { client, admin: db } = await connect(uri, username, password, mechanism);
  clients.push(client);
  return db;
}

async function refusal(promise: Promise<unknown>): Promise<MongoServerError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(MongoServerError);
  return error as MongoServerError;
}

describe('the handshake and authentication', () => {
  it('logs in with SCRAM-SHA-256 and with SCRAM-SHA-1', async () => {
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-1'] as const) {
      const db = await admin(DB_USER, DB_PASSWORD, mechanism);
      const status = await db.command({ connectionStatus: 1 });
      expect(status['authInfo'].authenticatedUsers).toEqual([{ user: DB_USER, db: 'admin' }]);
    }
  });

  it('answers hello as a standalone without authentication', async () => {
    const db = await admin();
    const hello = await db.command({ hello: 1 });
    expect(hello).toMatchObject({ ok: 1, isWritablePrimary: true, helloOk: true, minWireVersion: 0, maxWireVersion: 21, maxBsonObjectSize: 16777216 });
    expect(hello['setName']).toBeUndefined();
  });

  it('refuses a wrong password with AuthenticationFailed', async () => {
    const error = await refusal(connect(uri, DB_USER, 'not-the-password'));
    expect(error.codeName).toBe('AuthenticationFailed');
    expect(error.message).toBe('Authentication failed.');
  });

  it('refuses an unknown user the same way', async () => {
    const error = await refusal(connect(uri, 'nobody', 'whatever-password'));
    expect(error.message).toBe('Authentication failed.');
  });

  it('answers the start-up commands mongosh sends', async () => {
    const db = await admin();
    expect((await db.command({ ping: 1 })).ok).toBe(1);
    expect((await db.command({ buildInfo: 1 })).version).toMatch(/^7\./);
    expect((await db.command({ buildInfo: 1 }))['ferretdb']).toBeUndefined();
    expect((await db.command({ getLog: 'startupWarnings' })).log).toEqual([]);
    expect((await db.command({ listDatabases: 1 })).databases).toEqual([]);
    expect((await db.command({ getParameter: 1, featureCompatibilityVersion: 1 })).ok).toBe(1);
    expect((await db.command({ atlasVersion: 1 })).ok).toBe(1);
    expect((await db.command({ endSessions: [] })).ok).toBe(1);
    const count = await (await admin()).command({ count: 'atlascli', query: {} });
    expect(count).toMatchObject({ ok: 1, n: 0 });
  });

  it('answers an unknown command with CommandNotFound (59)', async () => {
    const error = await refusal((await admin()).command({ frobnicate: 1 }));
    expect({ code: error.code, codeName: error.codeName }).toEqual({ code: 59, codeName: 'CommandNotFound' });
  });
});

describe('stream processors through both doors', () => {
  it('creates over the wire what the Admin API lists, and the other way round', async () => {
    const db = await admin();
    expect(await db.command({ createStreamProcessor: 'fromWire', pipeline: solarPipeline() })).toEqual({ ok: 1 });
    const listed = await w.api.call('getStreamProcessors', streamsPath(w.server.projectId, '/wsdriver/processors'));
    expect(listed.json.results.map((p: { name: string }) => p.name)).toContain('fromWire');

    await createProcessor(w.api, w.server.projectId, 'wsdriver', { name: 'fromApi', pipeline: solarPipeline() });
    const { streamProcessors } = await db.command({ listStreamProcessors: 1, filter: { name: 'fromApi' } });
    expect(streamProcessors).toHaveLength(1);
    expect(streamProcessors[0]).toMatchObject({ name: 'fromApi', state: 'CREATED', pipeline: solarPipeline() });
    const one = await db.command({ getStreamProcessor: 'fromApi' });
    expect(one).toMatchObject({ ok: 1, name: 'fromApi', state: 'CREATED', hasStarted: false });
  });

  it('refuses a taken name and an unknown one with the Admin API messages', async () => {
    const db = await admin();
    await db.command({ createStreamProcessor: 'dup', pipeline: solarPipeline() });
    const taken = await refusal(db.command({ createStreamProcessor: 'dup', pipeline: solarPipeline() }));
    expect({ codeName: taken.codeName, message: taken.message }).toEqual({ codeName: 'CommandFailed', message: 'A Stream processor with the name dup already exists.' });
    const unknown = await refusal(db.command({ startStreamProcessor: 'ghost' }));
    expect(unknown.message).toBe('Stream processor with name ghost for stream workspace wsdriver not found.');
    const bad = await refusal(db.command({ createStreamProcessor: 'bad', pipeline: [{ $match: {} }] }));
    expect(bad.message).toContain('the first stage must be $source');
  });

  it('runs the whole life cycle: stats in every state, start, stop, modify, drop', async () => {
    const db = await admin();
    await db.command({ createStreamProcessor: 'life', pipeline: solarPipeline() });
    // Decoded as mongosh decodes replies: counts stay Int64, ok stays a plain 1.
    const created = await db.command({ getStreamProcessorStats: 'life' }, { promoteLongs: false });
    expect(created).toMatchObject({ ok: 1, ns: `${w.server.projectId}.wsdriver.life`, name: 'life', state: 'CREATED', pipeline: solarPipeline() });
    expect(created['stats'].outputMessageCount).toEqual(Long.fromNumber(0));
    expect(created['stats'].operatorStats).toBeUndefined();

    expect(await db.command({ startStreamProcessor: 'life' })).toEqual({ ok: 1 });
    let stats: Record<string, any> = {};
    for (let i = 0; i < 100; i++) {
      stats = (await db.command({ getStreamProcessorStats: 'life', verbose: true, scale: 1024 }))['stats'];
      if (Number(stats['outputMessageCount']) > 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(Number(stats['outputMessageCount'])).toBeGreaterThan(0);
    expect(stats['scaleFactor']).toBe(1024);
    expect(stats['operatorStats'].map((o: { name: string }) => o.name)).toEqual(['$source', '$emit']);
    const bytes = Number((await db.command({ getStreamProcessorStats: 'life' }))['stats'].outputMessageSize);
    expect(Number(stats['outputMessageSize'])).toBeLessThan(Math.max(bytes, 1024));

    const running = await refusal(db.command({ modifyStreamProcessor: 'life', pipeline: solarPipeline() }));
    expect(running.message).toContain('a running stream processor cannot be modified; stop it first');
    expect(await db.command({ stopStreamProcessor: 'life' })).toEqual({ ok: 1 });
    expect((await db.command({ getStreamProcessorStats: 'life' }))['state']).toBe('STOPPED');

    const modified = [{ $source: { connectionName: 'sample_stream_solar' } }, { $addFields: { tagged: true } }, { $emit: { connectionName: '__testLog' } }];
    expect(await db.command({ modifyStreamProcessor: 'life', pipeline: modified })).toEqual({ ok: 1 });
    const api = await w.api.call('getStreamProcessor', streamsPath(w.server.projectId, '/wsdriver/processor/life'));
    expect(api.json.pipeline).toEqual(modified);

    expect(await db.command({ dropStreamProcessor: 'life' })).toEqual({ ok: 1 });
    const gone = await w.api.call('getStreamProcessor', streamsPath(w.server.projectId, '/wsdriver/processor/life'));
    expect(gone.status).toBe(404);
  });

  it('samples a running processor until told to stop', async () => {
    const db = await admin();
    await db.command({ createStreamProcessor: 'sampled', pipeline: solarPipeline() });
    await db.command({ startStreamProcessor: 'sampled' });
    const { cursorId } = await db.command({ startSampleStreamProcessor: 'sampled', limit: 3 });
    expect(typeof cursorId).toBe('number');
    const seen: unknown[] = [];
    let id = cursorId;
    while (id !== 0) {
      const batch = await db.command({ getMoreSampleStreamProcessor: 'sampled', cursorId: id });
      expect(Array.isArray(batch['messages'])).toBe(true);
      seen.push(...batch['messages']);
      id = batch['cursorId'];
    }
    expect(seen).toHaveLength(3);
    expect(seen[0]).toHaveProperty('_stream_meta');
    await db.command({ dropStreamProcessor: 'sampled' });
  });

  it('runs sp.process on a documents source to the end, unlisted, and drops it', async () => {
    const db = await admin();
    const documents = Array.from({ length: 25 }, (_, i) => ({ n: i }));
    const started = await db.command({ processStreamProcessor: [{ $source: { documents } }, { $match: { n: { $gte: 5 } } }] });
    expect(started).toMatchObject({ ok: 1 });
    const { streamProcessors } = await db.command({ listStreamProcessors: 1 });
    expect(streamProcessors.map((p: { name: string }) => p.name)).not.toContain(started['name']);
    const out: Array<{ n: number }> = [];
    let id = started['cursorId'];
    while (id !== 0) {
      const batch = await db.command({ getMoreSampleStreamProcessor: started['name'], cursorID: id });
      out.push(...batch['messages']);
      id = batch['cursorId'];
    }
    expect(out.map((d) => d.n)).toEqual(Array.from({ length: 20 }, (_, i) => i + 5));
    expect(await db.command({ dropStreamProcessor: started['name'] })).toEqual({ ok: 1 });
  });

  it('lists connections with a filter, and the workspace defaults', async () => {
    const db = await admin();
    expect((await db.command({ listStreamConnections: 1, filter: { type: 'inmemory' } }))['connections'])
      .toEqual([{ name: 'sample_stream_solar', type: 'inmemory' }]);
    expect((await db.command({ listStreamConnections: 1, filter: { type: 'kafka' } }))['connections']).toEqual([]);
    expect(await db.command({ listWorkspaceDefaults: 1 })).toMatchObject({ ok: 1, defaultTierSize: 'SP30' });
  });
});

describe('roles', () => {
  it('lets readAnyDatabase read and refuses it every change with Unauthorized (13)', async () => {
    await createDatabaseUser(w, 'reader', 'reader-pa55word', 'readAnyDatabase');
    const db = await admin('reader', 'reader-pa55word');
    expect((await db.command({ listStreamProcessors: 1 })).ok).toBe(1);
    expect((await db.command({ listStreamConnections: 1 })).ok).toBe(1);
    const refused = await refusal(db.command({ createStreamProcessor: 'nope', pipeline: solarPipeline() }));
    expect({ code: refused.code, codeName: refused.codeName }).toEqual({ code: 13, codeName: 'Unauthorized' });
    expect(refused.message).toBe('not authorized: missing privilege for action createStreamProcessor on stream workspace wsdriver');
  });

  it('lets readWriteAnyDatabase do everything', async () => {
    await createDatabaseUser(w, 'writer', 'writer-pa55word', 'readWriteAnyDatabase');
    const db = await admin('writer', 'writer-pa55word', 'SCRAM-SHA-1');
    expect(await db.command({ createStreamProcessor: 'byWriter', pipeline: solarPipeline() })).toEqual({ ok: 1 });
    expect(await db.command({ dropStreamProcessor: 'byWriter' })).toEqual({ ok: 1 });
  });
});

describe('database users over the Admin API', () => {
  it('creates (201), refuses a taken name (409), never shows the password, and a deleted user can no longer log in', async () => {
    const path = `${V2}/groups/${w.server.projectId}/databaseUsers`;
    await createDatabaseUser(w, 'temp', 'temp-pa55word', 'atlasAdmin');
    const again = await w.api.call('createDatabaseUser', path, {
      method: 'POST', accept: 'application/vnd.atlas.2023-01-01+json',
      body: { databaseName: 'admin', groupId: w.server.projectId, username: 'temp', password: 'other-pa55word', roles: [{ roleName: 'atlasAdmin', databaseName: 'admin' }] },
    });
    expect(again.status).toBe(409);
    expect(again.json.errorCode).toBe('DATABASE_USER_ALREADY_EXISTS');
    const one = await w.api.call('getDatabaseUser', `${path}/admin/temp`, { accept: 'application/vnd.atlas.2023-01-01+json' });
    expect(one.json).toMatchObject({ username: 'temp', databaseName: 'admin', roles: [{ roleName: 'atlasAdmin', databaseName: 'admin' }] });
    expect(one.text).not.toContain('pa55word');
    expect((await admin('temp', 'temp-pa55word')).databaseName).toBe('admin');

    const badRole = await w.api.call('createDatabaseUser', path, {
      method: 'POST', accept: 'application/vnd.atlas.2023-01-01+json',
      body: { databaseName: 'admin', groupId: w.server.projectId, username: 'x', password: 'x-pa55word', roles: [{ roleName: 'readAnyDatabase', databaseName: 'sales' }] },
    });
    expect(badRole.status).toBe(400);

    const deleted = await w.api.call('deleteDatabaseUser', `${path}/admin/temp`, { method: 'DELETE', accept: 'application/vnd.atlas.2023-01-01+json' });
    expect(deleted.status).toBe(204);
    await refusal(connect(uri, 'temp', 'temp-pa55word'));
    for (const line of w.server.logs) expect(line).not.toContain('pa55word');
  });
});

describe('workspaces come and go', () => {
  it('opens an endpoint for a new workspace and closes it when the workspace is deleted', async () => {
    const { uri: second } = await createWorkspace(w, 'wsshort');
    const { client, admin: db } = await connect(second);
    expect((await db.command({ listStreamProcessors: 1 }))['streamProcessors']).toEqual([]);
    await client.close();
    const res = await w.api.call('deleteStreamWorkspace', streamsPath(w.server.projectId, '/wsshort'), { method: 'DELETE' });
    expect(res.status).toBe(202);
    const route = await digestClient(w.server, w.server.owner).call(`/emulator/v1/groups/${w.server.projectId}/streams/wsshort`);
    expect(route.status).toBe(404);
    const error = await connect(second).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
  });
});

describe('a database user changed while connected', () => {
  it('is held to its roles as they are now', async () => {
    await createDatabaseUser(w, 'demoted', 'demoted-pa55word', 'atlasAdmin');
    const db = await admin('demoted', 'demoted-pa55word');
    expect(await db.command({ createStreamProcessor: 'beforeDemotion', pipeline: solarPipeline() })).toEqual({ ok: 1 });
    const res = await w.api.call('updateDatabaseUser', `${V2}/groups/${w.server.projectId}/databaseUsers/admin/demoted`, {
      method: 'PATCH', accept: 'application/vnd.atlas.2023-01-01+json',
      body: { databaseName: 'admin', groupId: w.server.projectId, username: 'demoted', roles: [{ roleName: 'readAnyDatabase', databaseName: 'admin' }] },
    });
    expect(res.status, res.text).toBe(200);
    const refused = await refusal(db.command({ dropStreamProcessor: 'beforeDemotion' }));
    expect(refused.codeName).toBe('Unauthorized');
    expect((await db.command({ listStreamProcessors: 1 })).ok).toBe(1);
  });
});

describe('a processor that fails', () => {
  it('answers stats as FAILED, with the reason', async () => {
    // A web hook that answers 404: with onError "fail" the first document fails the processor.
    const hook = createServer((_req, res) => { res.writeHead(404); res.end('no'); });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
      await createConnection(w.api, w.server.projectId, 'wsdriver', { name: 'hook', type: 'Https', url });
      const db = await admin();
      await db.command({ createStreamProcessor: 'failing', pipeline: [
        { $source: { connectionName: 'sample_stream_solar' } }, { $https: { connectionName: 'hook', as: 'reply', onError: 'fail' } },
        { $emit: { connectionName: '__testLog' } }] });
      await db.command({ startStreamProcessor: 'failing' });
      let reply: Record<string, any> = {};
      for (let i = 0; i < 150 && reply['state'] !== 'FAILED'; i++) {
        reply = await db.command({ getStreamProcessorStats: 'failing' });
        if (reply['state'] !== 'FAILED') await new Promise((r) => setTimeout(r, 200));
      }
      expect(reply).toMatchObject({ ok: 1, state: 'FAILED', stats: { status: 'error' } });
      expect(reply['stats'].errorMsg).toContain('Request failed with HTTP status 404');
      expect((await db.command({ getStreamProcessor: 'failing' }))['errorMsg']).toContain('404');
      await db.command({ dropStreamProcessor: 'failing' });
    } finally {
      hook.close();
    }
  });
});

describe('a reset', () => {
  it('closes the endpoints of the workspaces it removes and keeps the bootstrap database user', async () => {
    await w.server.app.reset(w.server.projectId);
    const gone = await connect(uri).then(() => undefined, (e: unknown) => e);
    expect(gone).toBeInstanceOf(Error);
    const { uri: fresh } = await createWorkspace(w, 'wsafterreset');
    const { client, admin: db } = await connect(fresh);
    expect((await db.command({ listStreamProcessors: 1 }))['streamProcessors']).toEqual([]);
    await client.close();
  });
});
