// Database users in the web console: the login route checks the password against the stored
// SCRAM keys and answers a short-lived token; each action is the wire endpoint's command for
// that user, so its roles decide (readAnyDatabase reads, readWriteAnyDatabase changes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';
import { createInstance, createProcessor, samplePipeline, streamsClient, type StreamsClient } from '../streams-fixtures.js';
import { V2 } from '../identity-helpers.js';

let server: TestServer;
let api: StreamsClient;
const workspace = 'dbu';

interface Answer { status: number; json: any; text: string; headers: Headers }

async function call(path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<Answer> {
  const res = await fetch(`${server.url}/emulator/v1/console/${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.token ? { 'X-Console-Session': init.token } : {}), ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text, headers: res.headers };
}

async function createUser(target: TestServer, client: StreamsClient, username: string, password: string, roleName: string, scopes: unknown[] = []): Promise<void> {
  const res = await client.call('createDatabaseUser', `${V2}/groups/${target.projectId}/databaseUsers`, {
    method: 'POST', accept: 'application/vnd.atlas.2023-01-01+json',
    body: { databaseName: 'admin', groupId: target.projectId, username, password, roles: [{ roleName, databaseName: 'admin' }], scopes },
  });
  expect(res.status, res.text).toBe(201);
}

async function logIn(username: string, password: string, target = server): Promise<string> {
  const res = await fetch(`${target.url}/emulator/v1/console/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ groupId: target.projectId, username, password }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(JSON.stringify(body)).not.toContain(password);
  return body.token;
}

const base = () => `groups/${server.projectId}/streams`;

beforeAll(async () => {
  server = await startTestServer();
  api = streamsClient(server);
  await createInstance(api, server.projectId, workspace, { sampleConnections: { solar: true } });
  await createInstance(api, server.projectId, 'elsewhere', { sampleConnections: { solar: true } });
  await createProcessor(api, server.projectId, workspace, { name: 'existing', pipeline: samplePipeline() });
  await createUser(server, api, 'reader', 'reader-pa55word', 'readAnyDatabase');
  await createUser(server, api, 'writer', 'writer-pa55word', 'readWriteAnyDatabase');
  await createUser(server, api, 'scoped', 'scoped-pa55word', 'atlasAdmin', [{ name: workspace, type: 'STREAM' }]);
  await createUser(server, api, 'nobody', 'nobody-pa55word', 'read');
});
afterAll(async () => { await server.close(); });

describe('logging in', () => {
  it('refuses a wrong password, an unknown user and an unknown project alike, without saying which', async () => {
    const answers = await Promise.all([
      call('login', { method: 'POST', body: { groupId: server.projectId, username: 'reader', password: 'wrong' } }),
      call('login', { method: 'POST', body: { groupId: server.projectId, username: 'ghost', password: 'reader-pa55word' } }),
      call('login', { method: 'POST', body: { groupId: 'a'.repeat(24), username: 'reader', password: 'reader-pa55word' } }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual(answers[0]!.json);
      expect(answer.text).not.toMatch(/password|ghost|reader/i);
    }
    expect(answers[0]!.json.errorCode).toBe('USER_UNAUTHORIZED');
  });

  it('refuses a request without a token or with a made-up one', async () => {
    expect((await call(`${base()}/${workspace}/processors`)).status).toBe(401);
    expect((await call(`${base()}/${workspace}/processors`, { token: 'x'.repeat(43) })).status).toBe(401);
  });

  it('says what is missing from the login body', async () => {
    const res = await call('login', { method: 'POST', body: { groupId: server.projectId, username: 'reader' } });
    expect(res.status).toBe(400);
    expect(res.json.errorCode).toBe('MISSING_ATTRIBUTE');
    expect(res.json.parameters).toEqual(['password']);
  });
});

describe('what a database user may do is what the wire endpoint lets it do', () => {
  it('readAnyDatabase lists and reads processors but changes nothing', async () => {
    const token = await logIn('reader', 'reader-pa55word');
    const workspaces = await call(base(), { token });
    expect(workspaces.json.results.map((w: { name: string }) => w.name).sort()).toEqual(['dbu', 'elsewhere']);
    const listed = await call(`${base()}/${workspace}/processors`, { token });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.json.results).toEqual([expect.objectContaining({ name: 'existing', state: 'CREATED' })]);
    const one = await call(`${base()}/${workspace}/processor/existing`, { token });
    expect(one.status, one.text).toBe(200);
    expect(one.json).toMatchObject({ name: 'existing', stats: expect.any(Object) });
    const refusals: Array<[string, Answer]> = [
      ['startStreamProcessor', await call(`${base()}/${workspace}/processor/existing:start`, { method: 'POST', token })],
      ['modifyStreamProcessor', await call(`${base()}/${workspace}/processor/existing`, { method: 'PATCH', token, body: { pipeline: samplePipeline() } })],
      ['dropStreamProcessor', await call(`${base()}/${workspace}/processor/existing`, { method: 'DELETE', token })],
      ['createStreamProcessor', await call(`${base()}/${workspace}/processor`, { method: 'POST', token, body: { name: 'new', pipeline: samplePipeline() } })],
      ['processStreamProcessor', await call(`${base()}/${workspace}/process`, { method: 'POST', token, body: { pipeline: samplePipeline(), limit: 1 } })],
    ];
    for (const [action, refused] of refusals) {
      expect(refused.status, refused.text).toBe(401);
      expect(refused.json.errorCode).toBe('USER_UNAUTHORIZED');
      expect(refused.json.detail).toBe(`not authorized: missing privilege for action ${action} on stream workspace dbu`);
    }
    const after = await api.call('getStreamProcessor', `${V2}/groups/${server.projectId}/streams/${workspace}/processor/existing`);
    expect(after.json.state).toBe('CREATED');
  });

  it('readWriteAnyDatabase creates, starts, stops, drops and tries a pipeline, through the same rules as the Admin API', async () => {
    const token = await logIn('writer', 'writer-pa55word');
    const bad = await call(`${base()}/${workspace}/processor`, { method: 'POST', token, body: { name: 'bad', pipeline: [{ $source: { connectionName: 'nowhere' } }] } });
    expect(bad.status, bad.text).toBe(400);
    const created = await call(`${base()}/${workspace}/processor`, { method: 'POST', token, body: { name: 'mine', pipeline: samplePipeline() } });
    expect(created.status, created.text).toBe(200);
    const modified = await call(`${base()}/${workspace}/processor/mine`, {
      method: 'PATCH', token, body: { pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $match: { 'obs.watts': { $gte: 0 } } }, { $emit: { connectionName: '__testLog' } }] },
    });
    expect(modified.status, modified.text).toBe(200);
    expect((await call(`${base()}/${workspace}/processor/mine:start`, { method: 'POST', token })).status).toBe(200);
    const seen = await api.call('getStreamProcessor', `${V2}/groups/${server.projectId}/streams/${workspace}/processor/mine`);
    expect(seen.json.state).toBe('STARTED');
    expect(seen.json.pipeline[1]).toEqual({ $match: { 'obs.watts': { $gte: 0 } } });
    expect((await call(`${base()}/${workspace}/processor/mine:stop`, { method: 'POST', token })).status).toBe(200);
    expect((await call(`${base()}/${workspace}/processor/mine`, { method: 'DELETE', token })).status).toBe(200);
    const gone = await call(`${base()}/${workspace}/processor/mine`, { token });
    expect(gone.status).toBe(404);
    expect(gone.json.errorCode).toBe('STREAM_PROCESSOR_NOT_FOUND');
    const tried = await call(`${base()}/${workspace}/process`, {
      method: 'POST', token, body: { pipeline: [{ $source: { documents: [{ a: 1 }, { a: 2 }] } }, { $match: { a: 2 } }] },
    });
    expect(tried.status, tried.text).toBe(200);
    expect(tried.json.results).toEqual([expect.objectContaining({ a: 2 })]);
  });

  it('a user scoped to one workspace sees only that one; a user without stream roles is refused', async () => {
    const scoped = await logIn('scoped', 'scoped-pa55word');
    expect((await call(base(), { token: scoped })).json.results).toEqual([{ name: workspace }]);
    const outside = await call(`${base()}/elsewhere/processors`, { token: scoped });
    expect(outside.status).toBe(404);
    expect(outside.json.errorCode).toBe('STREAM_TENANT_NOT_FOUND_FOR_NAME');
    const nobody = await logIn('nobody', 'nobody-pa55word');
    const refused = await call(`${base()}/${workspace}/processors`, { token: nobody });
    expect(refused.status).toBe(401);
    expect(refused.json.errorCode).toBe('USER_UNAUTHORIZED');
  });

  it('a token is good for its own project only, and stops working once its user is deleted', async () => {
    await createUser(server, api, 'brief', 'brief-pa55word', 'atlasAdmin');
    const token = await logIn('brief', 'brief-pa55word');
    const other = await call(`groups/${'b'.repeat(24)}/streams`, { token });
    expect(other.status).toBe(401);
    expect(other.json.errorCode).toBe('NOT_IN_GROUP');
    expect((await call(base(), { token })).status).toBe(200);
    const deleted = await api.call('deleteDatabaseUser', `${V2}/groups/${server.projectId}/databaseUsers/admin/brief`, {
      method: 'DELETE', accept: 'application/vnd.atlas.2023-01-01+json',
    });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await call(base(), { token })).status).toBe(401);
  });
});

describe('session expiry', () => {
  it('refuses a token once its session has run out', async () => {
    const brief = await startTestServer({ consoleSessionMs: 5000 });
    try {
      const client = streamsClient(brief);
      await createUser(brief, client, 'short', 'short-pa55word', 'atlasAdmin');
      const token = await logIn('short', 'short-pa55word', brief);
      const path = `${brief.url}/emulator/v1/console/groups/${brief.projectId}/streams`;
      expect((await fetch(path, { headers: { 'X-Console-Session': token } })).status).toBe(200);
      await expect.poll(async () => (await fetch(path, { headers: { 'X-Console-Session': token } })).status, { timeout: 20_000, interval: 250 }).toBe(401);
      // A new login works again.
      const again = await logIn('short', 'short-pa55word', brief);
      expect(again).not.toBe(token);
    } finally {
      await brief.close();
    }
  });
});
