// Item 9 of issue 8: secrets written into a connection's free-form parts (Https headers, Kafka
// config entries such as sasl.jaas.config) are sealed at rest and masked in every response, as
// the engine masks them in logs; the engine still gets them; a banner never prints a private
// key taken from the environment.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, callDigest, startTestServer, type TestServer } from '../../src/testing/harness.js';
import { startServerProcess, stopServerProcess } from '../../src/testing/server-process.js';
import { dataBytes } from './support/data-files.js';
import { createConnection, createInstance, createProcessor, streamsClient, streamsPath, type StreamsClient } from '../streams-fixtures.js';

const HEADER_SECRET = 'Bearer hdr-secret-7f3a9c';
const JAAS_SECRET = 'jaas-secret-4e8d21';
const JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="svc" password="${JAAS_SECRET}";`;
const SECRETS = [HEADER_SECRET, 'hdr-secret-7f3a9c', JAAS_SECRET];

let dataDir: string;
let server: TestServer;
let owner: StreamsClient;
let hook: Server;
const received: IncomingHttpHeaders[] = [];
const tenant = 'secrets';
const connPath = (name = '') => streamsPath(server.projectId, `/${tenant}/connections${name ? `/${name}` : ''}`);

beforeAll(async () => {
  hook = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  dataDir = mkdtempSync(join(tmpdir(), 'ase-secrets-'));
  server = await startTestServer({ inMemory: false, dataDir, sampleRatePerSecond: 50 });
  owner = streamsClient(server);
  await createInstance(owner, server.projectId, tenant, { sampleConnections: { solar: true } });
});
afterAll(async () => {
  await server.close();
  await new Promise<void>((resolve) => { hook.closeAllConnections(); hook.close(() => resolve()); });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('connection secrets in free-form fields', () => {
  it('are masked in every response and never stored in the clear', async () => {
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const https = await createConnection(owner, server.projectId, tenant, { name: 'hook', type: 'Https', url, headers: { Authorization: HEADER_SECRET } });
    expect(https.headers).toEqual({ Authorization: '****' });
    const kafka = await createConnection(owner, server.projectId, tenant, {
      name: 'kafka', type: 'Kafka', bootstrapServers: 'localhost:9092', security: { protocol: 'SASL_SSL' },
      config: { 'sasl.jaas.config': JAAS, 'client.id': 'visible-client' },
    });
    expect(kafka.config).toEqual({ 'sasl.jaas.config': '****', 'client.id': 'visible-client' });
    expect((await owner.call('getStreamConnection', connPath('kafka'))).json.config).toEqual(kafka.config);
    await owner.call('listStreamConnections', connPath());

    // A client that writes back what it read keeps the secret it cannot see.
    const read = await owner.call('getStreamConnection', connPath('hook'));
    const { id: _id, state: _state, region: _region, ...definition } = read.json;
    const echoed = await owner.call('updateStreamConnection', connPath('hook'), { method: 'PATCH', body: definition });
    expect(echoed.status, echoed.text).toBe(200);
    expect(echoed.json.headers).toEqual({ Authorization: '****' });

    const stored = dataBytes(dataDir);
    for (const text of [...owner.seen, ...server.logs]) for (const secret of SECRETS) expect(text).not.toContain(secret);
    for (const secret of SECRETS) expect(stored.includes(secret), `the store holds ${secret}`).toBe(false);
  });

  it('still reach the engine, which sends the header it was given', async () => {
    await createProcessor(owner, server.projectId, tenant, { name: 'caller', pipeline: [
      { $source: { connectionName: 'sample_stream_solar' } },
      { $https: { connectionName: 'hook', method: 'GET', as: 'response' } },
      { $emit: { connectionName: '__testLog' } },
    ] });
    const started = await owner.call('startStreamProcessor', streamsPath(server.projectId, `/${tenant}/processor/caller:start`), { method: 'POST' });
    expect(started.status, started.text).toBe(200);
    await expect.poll(() => received.length, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(received[0]!['authorization']).toBe(HEADER_SECRET);
    await owner.call('stopStreamProcessor', streamsPath(server.projectId, `/${tenant}/processor/caller:stop`), { method: 'POST' });
    for (const line of server.logs) for (const secret of SECRETS) expect(line).not.toContain(secret);
  });
});

describe('a password inside a URL (https://user:password@host)', () => {
  const URL_PASSWORD = 'url-pass-91c2e0';
  const REGISTRY_PASSWORD = 'registry-pass-5d7b13';
  const hookUrl = (password: string, path = '/hook') => `http://hookuser:${password}@127.0.0.1:${(hook.address() as AddressInfo).port}${path}`;

  it('is shown as **** in the URL, sealed at rest, kept through a read-then-write, and reaches the engine', async () => {
    const https = await createConnection(owner, server.projectId, tenant, { name: 'hook-url', type: 'Https', url: hookUrl(URL_PASSWORD) });
    expect(https.url).toBe(hookUrl('****'));
    const registry = await createConnection(owner, server.projectId, tenant, {
      name: 'registry', type: 'SchemaRegistry', provider: 'CONFLUENT',
      schemaRegistryUrls: ['https://registry.example.com:8081', `https://reguser:${REGISTRY_PASSWORD}@registry2.example.com:8081`],
      schemaRegistryAuthentication: { type: 'USER_INFO', username: 'reguser', password: 'registry-auth-pass-0e4f' },
    });
    expect(registry.schemaRegistryUrls).toEqual(['https://registry.example.com:8081', 'https://reguser:****@registry2.example.com:8081']);
    expect((await owner.call('getStreamConnection', connPath('hook-url'))).json.url).toBe(hookUrl('****'));
    const listed = (await owner.call('listStreamConnections', connPath())).json.results as Array<{ name: string; url?: string }>;
    expect(listed.find((c) => c.name === 'hook-url')?.url).toBe(hookUrl('****'));

    // Written back as read, with another path: the password it cannot see is kept.
    const { id: _id, state: _state, region: _region, ...definition } = (await owner.call('getStreamConnection', connPath('hook-url'))).json;
    const echoed = await owner.call('updateStreamConnection', connPath('hook-url'), { method: 'PATCH', body: { ...definition, url: hookUrl('****', '/moved') } });
    expect(echoed.status, echoed.text).toBe(200);
    expect(echoed.json.url).toBe(hookUrl('****', '/moved'));

    await createProcessor(owner, server.projectId, tenant, { name: 'url-caller', pipeline: [
      { $source: { connectionName: 'sample_stream_solar' } },
      { $https: { connectionName: 'hook-url', method: 'GET', as: 'response' } },
      { $emit: { connectionName: '__testLog' } },
    ] });
    const before = received.length;
    const started = await owner.call('startStreamProcessor', streamsPath(server.projectId, `/${tenant}/processor/url-caller:start`), { method: 'POST' });
    expect(started.status, started.text).toBe(200);
    await expect.poll(() => received.length, { timeout: 20_000 }).toBeGreaterThan(before);
    expect(received.at(-1)!['authorization']).toBe(`Basic ${Buffer.from(`hookuser:${URL_PASSWORD}`).toString('base64')}`);
    await owner.call('stopStreamProcessor', streamsPath(server.projectId, `/${tenant}/processor/url-caller:stop`), { method: 'POST' });

    const stored = dataBytes(dataDir);
    for (const secret of [URL_PASSWORD, REGISTRY_PASSWORD]) {
      for (const text of [...owner.seen, ...server.logs]) expect(text).not.toContain(secret);
      expect(stored.includes(secret), `the store holds ${secret}`).toBe(false);
    }
  });
});

describe('the banner', () => {
  it('does not print a private key that came from the environment', async () => {
    const privateKey = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const started = await startServerProcess(['--in-memory', '--port', '0', '--log-level', 'warn'],
      { MONGODB_ATLAS_PUBLIC_KEY: 'envowner', MONGODB_ATLAS_PRIVATE_KEY: privateKey });
    try {
      expect(started.text).not.toContain(privateKey);
      expect(started.text).not.toContain(privateKey.slice(-12));
      const res = await callDigest(`${started.url}/api/atlas/v2/orgs/${started.orgId}`, { publicKey: 'envowner', privateKey }, { accept: ACCEPT.identity });
      expect(res.status).toBe(200);
    } finally {
      await stopServerProcess(started.child);
    }
  });
});
