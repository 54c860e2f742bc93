// Controllable lifecycles: immediate by default; with a rule, connections, private links and
// processors pass through Atlas's intermediate states for some reads or some seconds, and
// deletions drain (readable, name taken) before the resource goes. Set through the library,
// the admin API and seed files.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/library.js';
import { ACCEPT, callDigest, digestClient, type Client } from '../src/testing/harness.js';

const V2 = '/api/atlas/v2';
const PIPELINE = [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }];

let emulator: Emulator;
let owner: Client;
let streams: string;

beforeAll(async () => {
  emulator = await startEmulator({ sampleRatePerSecond: 0 });
  owner = digestClient({ url: emulator.baseUrl }, emulator.credentials);
  streams = `${V2}/groups/${emulator.credentials.projectId}/streams`;
});
afterAll(async () => { await emulator?.close(); });
afterEach(async () => {
  await emulator.clearLifecycles();
  await emulator.reset();
});

async function workspace(name = 'ws'): Promise<void> {
  await emulator.seed({ projects: [{ name: 'Local-Project', workspaces: [{ name, sampleConnections: true }] }] });
}

const connectionPath = (name = '') => `${streams}/ws/connections${name ? `/${name}` : ''}`;
const createHttps = (name: string) => owner.call(connectionPath(), { method: 'POST', accept: ACCEPT.streams, body: { name, type: 'Https', url: 'https://example.invalid/hook' } });
const readConnection = async (name: string) => {
  const res = await owner.call(connectionPath(name), { accept: ACCEPT.streams });
  return res.status === 200 ? res.json.state : res.status;
};
const processorPath = (name: string, action = '') => `${streams}/ws/processor/${name}${action}`;
const readProcessor = async (name: string) => (await owner.call(processorPath(name), { accept: ACCEPT.processors })).json.state;

describe('by default', () => {
  it('changes at once: a connection READY, deleted at once, a processor STARTED and STOPPED', async () => {
    await workspace();
    expect((await createHttps('hook')).json.state).toBe('READY');
    expect(await readConnection('hook')).toBe('READY');
    expect((await owner.call(connectionPath('hook'), { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(202);
    expect(await readConnection('hook')).toBe(404);
    await owner.call(`${streams}/ws/processor`, { method: 'POST', accept: ACCEPT.processors, body: { name: 'p', pipeline: PIPELINE } });
    await owner.call(processorPath('p', ':start'), { method: 'POST', accept: ACCEPT.processors });
    expect(await readProcessor('p')).toBe('STARTED');
    await owner.call(processorPath('p', ':stop'), { method: 'POST', accept: ACCEPT.processors });
    expect(await readProcessor('p')).toBe('STOPPED');
  });
});

describe('after N reads', () => {
  it('shows a new connection PENDING for that many reads, only the one the rule names', async () => {
    await emulator.setLifecycle({ resource: 'connection', transition: 'create', name: 'slow', afterReads: 2 });
    await workspace();
    expect((await createHttps('slow')).json.state).toBe('PENDING');
    expect((await createHttps('fast')).json.state).toBe('READY');
    expect(await readConnection('slow')).toBe('PENDING');
    const listed = await owner.call(connectionPath(), { accept: ACCEPT.streams });
    expect(Object.fromEntries(listed.json.results.map((c: { name: string; state: string }) => [c.name, c.state])))
      .toEqual({ sample_stream_solar: 'READY', slow: 'PENDING', fast: 'READY' });
    expect(await readConnection('slow')).toBe('READY');
  });

  it('drains a deleted connection: DELETING and its name taken, then gone', async () => {
    await emulator.setLifecycle({ resource: 'connection', transition: 'delete', afterReads: 2 });
    await workspace();
    await createHttps('hook');
    expect((await owner.call(connectionPath('hook'), { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(202);
    expect(await readConnection('hook')).toBe('DELETING');
    const again = await createHttps('hook');
    expect({ status: again.status, errorCode: again.json.errorCode }).toEqual({ status: 409, errorCode: 'STREAM_CONNECTION_NAME_ALREADY_EXISTS' });
    expect(await readConnection('hook')).toBe('DELETING');
    expect(await readConnection('hook')).toBe(404);
    expect((await createHttps('hook')).status).toBe(200);
  });

  it('shows a processor STARTING, then STARTED; STOPPING, then STOPPED', async () => {
    await emulator.setLifecycle({ resource: 'processor', afterReads: 1 });
    await workspace();
    await owner.call(`${streams}/ws/processor`, { method: 'POST', accept: ACCEPT.processors, body: { name: 'p', pipeline: PIPELINE } });
    expect((await owner.call(processorPath('p', ':start'), { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    expect(await readProcessor('p')).toBe('STARTING');
    expect(await readProcessor('p')).toBe('STARTED');
    expect((await owner.call(processorPath('p', ':stop'), { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    const listed = await owner.call(`${streams}/ws/processors`, { accept: ACCEPT.processors });
    expect(listed.json.results.map((p: { state: string }) => p.state)).toEqual(['STOPPING']);
    expect(await readProcessor('p')).toBe('STOPPED');
  });

  it('takes a private link through WORKING to DONE, and DELETING to gone', async () => {
    await emulator.setLifecycle({ resource: 'privateLink', afterReads: 1 });
    const links = `${streams}/privateLinkConnections`;
    const created = await owner.call(links, { method: 'POST', accept: ACCEPT.streams, body: { provider: 'GCP', region: 'us-central1' } });
    expect(created.json.state).toBe('WORKING');
    const read = async () => {
      const res = await owner.call(`${links}/${created.json._id}`, { accept: ACCEPT.streams });
      return res.status === 200 ? res.json.state : res.status;
    };
    expect(await read()).toBe('WORKING');
    expect(await read()).toBe('DONE');
    expect((await owner.call(`${links}/${created.json._id}`, { method: 'DELETE', accept: ACCEPT.streams })).status).toBe(202);
    expect(await read()).toBe('DELETING');
    expect(await read()).toBe(404);
  });

  it('prefers a rule naming the resource over a general one', async () => {
    await emulator.setLifecycle({ resource: 'connection', transition: 'create', afterReads: 5 });
    await emulator.setLifecycle({ resource: 'connection', transition: 'create', name: 'quick', afterReads: 1 });
    await workspace();
    await createHttps('quick');
    await createHttps('other');
    expect(await readConnection('quick')).toBe('PENDING');
    expect(await readConnection('quick')).toBe('READY');
    expect(await readConnection('other')).toBe('PENDING');
  });
});

describe('after N seconds', () => {
  it('drains a deleted connection until the time is up, without being read', async () => {
    await emulator.setLifecycle({ resource: 'connection', transition: 'delete', afterSeconds: 3 });
    await workspace();
    await createHttps('hook');
    await owner.call(connectionPath('hook'), { method: 'DELETE', accept: ACCEPT.streams });
    expect(await readConnection('hook')).toBe('DELETING');
    await vi.waitFor(async () => expect(await readConnection('hook')).toBe(404), { timeout: 10_000, interval: 200 });
  });

  it('shows a new connection PENDING until the time is up', async () => {
    await emulator.setLifecycle({ resource: 'connection', transition: 'create', afterSeconds: 3 });
    await workspace();
    expect((await createHttps('hook')).json.state).toBe('PENDING');
    expect(await readConnection('hook')).toBe('PENDING');
    await vi.waitFor(async () => expect(await readConnection('hook')).toBe('READY'), { timeout: 15_000, interval: 200 });
  });

  it('shows a processor STARTING while the time runs; a stop ends it', async () => {
    await emulator.setLifecycle({ resource: 'processor', transition: 'start', name: 'p', afterSeconds: 600 });
    await workspace();
    await owner.call(`${streams}/ws/processor`, { method: 'POST', accept: ACCEPT.processors, body: { name: 'p', pipeline: PIPELINE } });
    await owner.call(processorPath('p', ':start'), { method: 'POST', accept: ACCEPT.processors });
    expect(await readProcessor('p')).toBe('STARTING');
    expect(await readProcessor('p')).toBe('STARTING');
    await owner.call(processorPath('p', ':stop'), { method: 'POST', accept: ACCEPT.processors });
    expect(await readProcessor('p')).toBe('STOPPED');
  });
});

describe('the admin API and seed files', () => {
  const url = () => `${emulator.baseUrl}/emulator/v1/admin/lifecycles`;

  it('lists, adds, removes and clears rules for an Organization Owner, and refuses a bad rule', async () => {
    const added = await callDigest(url(), emulator.credentials, { method: 'POST', body: { resource: 'connection', transition: 'delete', afterSeconds: 5 } });
    expect(added.status).toBe(201);
    expect(added.json).toEqual({ id: expect.any(String), resource: 'connection', transition: 'delete', afterSeconds: 5 });
    expect((await callDigest(url(), emulator.credentials)).json.results).toEqual([added.json]);
    const bad = [
      { resource: 'workspace', afterReads: 1 },
      { resource: 'processor', transition: 'delete', afterReads: 1 },
      { afterReads: 0 },
      { afterSeconds: 1, afterReads: 1 },
      { resource: 'connection' },
    ];
    for (const body of bad) {
      const res = await callDigest(url(), emulator.credentials, { method: 'POST', body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await callDigest(`${url()}/${added.json.id}`, emulator.credentials, { method: 'DELETE' })).status).toBe(200);
    expect((await callDigest(url(), emulator.credentials)).json.results).toEqual([]);
    const { apiKeys } = await emulator.seed({ apiKeys: [{ desc: 'member', roles: ['ORG_MEMBER'] }] });
    const refused = await callDigest(url(), apiKeys[0]!, { method: 'POST', body: { afterReads: 1 } });
    expect(refused.status).toBe(401);
  });

  it('takes rules from a seed document and exports them', async () => {
    await emulator.seed({
      lifecycles: [{ resource: 'connection', transition: 'create', afterReads: 1 }],
      projects: [{ name: 'Local-Project', workspaces: [{ name: 'ws', connections: [{ name: 'hook', type: 'Https', url: 'https://example.invalid/hook' }] }] }],
    });
    expect(await readConnection('hook')).toBe('PENDING');
    expect(await readConnection('hook')).toBe('READY');
    expect((await emulator.exportState()).lifecycles).toEqual([{ resource: 'connection', transition: 'create', afterReads: 1 }]);
    await expect(emulator.seed({ lifecycles: [{ resource: 'cluster' as never, afterReads: 1 }] })).rejects.toThrow(/^lifecycles\[0\] \(addLifecycleRule\): 400 INVALID_ATTRIBUTE/);
  });

  it('takes rules as a startEmulator option', async () => {
    const other = await startEmulator({ lifecycles: [{ resource: 'processor', afterReads: 1 }] });
    try {
      const rules = await callDigest(`${other.baseUrl}/emulator/v1/admin/lifecycles`, other.credentials);
      expect(rules.json.results).toEqual([{ id: expect.any(String), resource: 'processor', afterReads: 1 }]);
    } finally {
      await other.close();
    }
  });
});
