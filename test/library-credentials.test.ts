// The library's ready credentials reach the wire endpoint (a database user, used by the
// official driver), and a deterministic seed makes ids and secrets repeat across runs.
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/library.js';
import { ACCEPT, callDigest, fetchToken } from '../src/testing/harness.js';

const V2 = '/api/atlas/v2';
const started: Emulator[] = [];

async function start(options: Parameters<typeof startEmulator>[0] = {}): Promise<Emulator> {
  const emulator = await startEmulator({ sampleRatePerSecond: 0, ...options });
  started.push(emulator);
  return emulator;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((e) => e.close()));
});

describe('the ready database user', () => {
  it('connects the official driver to a workspace through connectionString()', async () => {
    const emulator = await start();
    expect(emulator.credentials.databaseUser.username).toBe('emulator-admin');
    expect(emulator.credentials.databaseUser.password.length).toBeGreaterThanOrEqual(16);
    await emulator.seed({ projects: [{ name: 'Local-Project', workspaces: [{ name: 'dev', sampleConnections: true }] }] });
    const uri = await emulator.connectionString('dev');
    expect(uri).toMatch(/^mongodb:\/\/emulator-admin:[^@]+@127\.0\.0\.1:\d+\/\?authSource=admin$/);
    const client = new MongoClient(uri, { directConnection: true, serverSelectionTimeoutMS: 10_000 });
    try {
      await client.connect();
      const admin = client.db('admin');
      const status = await admin.command({ connectionStatus: 1 });
      expect(status['authInfo'].authenticatedUsers).toEqual([{ user: 'emulator-admin', db: 'admin' }]);
      await admin.command({ createStreamProcessor: 'viaDriver', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] });
      const processor = await callDigest(`${emulator.baseUrl}${V2}/groups/${emulator.credentials.projectId}/streams/dev/processor/viaDriver`,
        emulator.credentials, { accept: ACCEPT.processors });
      expect(processor.json.state).toBe('CREATED');
    } finally {
      await client.close();
    }
  });

  it('refuses a connection string for a workspace that does not exist', async () => {
    const emulator = await start();
    await expect(emulator.connectionString('nowhere')).rejects.toThrow(/no stream workspace nowhere/);
  });

  it('keeps the database user through a reset', async () => {
    const emulator = await start();
    await emulator.reset();
    await emulator.seed({ projects: [{ name: 'Local-Project', workspaces: [{ name: 'again' }] }] });
    const client = new MongoClient(await emulator.connectionString('again'), { directConnection: true, serverSelectionTimeoutMS: 10_000 });
    try {
      expect((await client.db('admin').command({ ping: 1 })).ok).toBe(1);
    } finally {
      await client.close();
    }
  });
});

/** The same calls on any emulator: ids and secrets each returns, in order. */
async function sameCalls(emulator: Emulator): Promise<unknown[]> {
  const seeded = await emulator.seed({
    apiKeys: [{ desc: 'reader', roles: ['ORG_READ_ONLY'] }],
    serviceAccounts: [{ name: 'ci', description: 'ci runs', roles: ['ORG_MEMBER'] }],
    projects: [{ name: 'demo', workspaces: [{ name: 'ws', sampleConnections: true,
      processors: [{ name: 'p', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] }] }] }],
  });
  const groupId = seeded.projects['demo']!;
  const processor = await callDigest(`${emulator.baseUrl}${V2}/groups/${groupId}/streams/ws/processor/p`, emulator.credentials, { accept: ACCEPT.processors });
  const workspace = await callDigest(`${emulator.baseUrl}${V2}/groups/${groupId}/streams/ws`, emulator.credentials, { accept: ACCEPT.streams });
  return [emulator.credentials, seeded, processor.json._id ?? processor.json.id, workspace.json._id ?? workspace.json.id];
}

describe('deterministic ids and secrets', () => {
  it('hands out the same ids and secrets to two emulators with the same seed, and others for another seed', async () => {
    const [first, second, other] = await Promise.all([
      start({ deterministicSeed: 'ci-run' }), start({ deterministicSeed: 'ci-run' }), start({ deterministicSeed: 'another' }),
    ]);
    const a = await sameCalls(first);
    const b = await sameCalls(second);
    const c = await sameCalls(other);
    expect(JSON.stringify(a)).toContain('mdb_sa_id_');
    expect(b).toEqual(a);
    const [credentialsA, seededA, processorA] = a as [Record<string, string>, { apiKeys: Array<{ publicKey: string; privateKey: string }> }, string];
    const [credentialsC, seededC, processorC] = c as [Record<string, string>, { apiKeys: Array<{ publicKey: string; privateKey: string }> }, string];
    for (const field of ['orgId', 'projectId', 'publicKey', 'privateKey', 'clientId', 'clientSecret']) expect(credentialsC[field]).not.toBe(credentialsA[field]);
    expect(seededC.apiKeys[0]!.privateKey).not.toBe(seededA.apiKeys[0]!.privateKey);
    expect(processorC).not.toBe(processorA);
    // The deterministic secrets are real ones: they authenticate.
    await fetchToken(second.baseUrl, (b[1] as { serviceAccounts: Array<{ clientId: string; clientSecret: string }> }).serviceAccounts[0]!.clientId,
      (b[1] as { serviceAccounts: Array<{ clientId: string; clientSecret: string }> }).serviceAccounts[0]!.clientSecret);
  });

  it('keeps ids random without a seed', async () => {
    const [first, second] = await Promise.all([start(), start()]);
    expect(first.credentials.projectId).not.toBe(second.credentials.projectId);
    expect(first.credentials.privateKey).not.toBe(second.credentials.privateKey);
  });
});
