import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './index.js';
import type { ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually, collectOutput } from './testing/memory-host.js';
import { startHttpsServer, type TestHttpsServer } from './testing/https-server.js';

const API_KEY = 'very-secret-api-key';
let server: TestHttpsServer;
let engine: ProcessorRunner | undefined;
const logLines: string[] = [];
const logger = {
  info: (o: object, m?: string) => logLines.push(JSON.stringify(o) + (m ?? '')),
  warn: (o: object, m?: string) => logLines.push(JSON.stringify(o) + (m ?? '')),
  error: (o: object, m?: string) => logLines.push(JSON.stringify(o) + (m ?? '')),
};

beforeAll(async () => {
  server = await startHttpsServer((req, res, body) => {
    const status = Number(/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, key: req.headers['x-api-key'] === API_KEY, body: body ? JSON.parse(body) : null }));
  });
});
afterEach(async () => { await engine?.close(); engine = undefined; });
afterAll(async () => { await server.stop(); });

const connections = () => ({ api: { name: 'api', type: 'Https' as const, url: `${server.url}/v1`, headers: { 'x-api-key': API_KEY } } });

describe('$https', () => {
  it('calls the endpoint per document; 404 goes to the DLQ, "ignore" passes the document on', async () => {
    engine = createEngine(new MemoryHost(), { extraCaCertificates: [server.certificate] });
    const def = definition([
      { $source: { documents: [{ route: 'status/200', n: 1 }, { route: 'status/404', n: 2 }] } },
      {
        $https: {
          connectionName: 'api', path: '$route', method: 'POST', parameters: { n: '$n' },
          payload: [{ $project: { n: 1, _id: 0 } }], as: 'response',
        },
      },
      { $project: { n: 1, response: 1, _id: 0 } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: connections() });
    await engine.start(def, { resumeFromCheckpoint: false });
    const [out] = await collectOutput(engine, def.id, 1);
    expect(out).toMatchObject({ n: 1, response: { path: '/v1/status/200?n=1', key: true, body: { n: 1 } } });
    await eventually(() => engine!.stats(def.id)?.dlqMessageCount === 1);

    const ignoring = definition([
      { $source: { documents: [{ route: 'status/404', n: 3 }] } },
      { $https: { connectionName: 'api', path: '$route', as: 'response', onError: 'ignore' } },
      { $project: { n: 1, response: 1, _id: 0 } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: connections() });
    await engine.start(ignoring, { resumeFromCheckpoint: false });
    expect(await collectOutput(engine, ignoring.id, 1)).toEqual([expect.objectContaining({ n: 3 })]);
    expect((await collectOutput(engine, ignoring.id, 1))[0]).not.toHaveProperty('response');
  });

  it('fails the processor on a status outside the onError list, without leaking secrets', async () => {
    const host = new MemoryHost();
    engine = createEngine(host, { extraCaCertificates: [server.certificate], logger });
    const def = definition([
      { $source: { documents: [{ route: 'status/401' }] } },
      { $https: { connectionName: 'api', path: '$route', as: 'response' } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: connections() });
    await engine.start(def, { resumeFromCheckpoint: false });
    const message = await eventually(() => host.failures.get(def.id));
    expect(message).toMatch(/HTTP status 401/);
    expect(message).not.toContain(API_KEY);
    expect(logLines.join('\n')).not.toContain(API_KEY);
  });

  it('redacts secrets from failure messages', async () => {
    const host = new MemoryHost();
    engine = createEngine(host, { logger });
    const def = definition([
      { $source: { documents: [{ a: 1 }] } },
      { $addFields: { b: { $toObjectId: 'very-secret-api-key' } } },
      { $merge: { into: { connectionName: 'cluster0', db: 'd', coll: 'c' } } },
    ], { connections: { cluster0: { name: 'cluster0', type: 'Cluster', connectionString: `mongodb://user:${API_KEY}@127.0.0.1:1/?serverSelectionTimeoutMS=200` } } });
    await engine.start(def, { resumeFromCheckpoint: false });
    const message = await eventually(() => host.failures.get(def.id), 30_000);
    expect(message).toMatch(/connecting to Cluster connection cluster0 failed after 4 attempts/);
    expect(message).not.toContain(API_KEY);
    expect(logLines.join('\n')).not.toContain(API_KEY);
  });
});
