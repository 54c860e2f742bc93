// $https as the last stage: each document is POSTed to the connection, nothing else is written.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './index.js';
import type { ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually } from './testing/memory-host.js';
import { startHttpsServer, type TestHttpsServer } from './testing/https-server.js';

let server: TestHttpsServer;
let engine: ProcessorRunner | undefined;
const received: Array<{ method: string; url: string; body: unknown }> = [];

beforeAll(async () => {
  server = await startHttpsServer((req, res, body) => {
    received.push({ method: req.method ?? '', url: req.url ?? '', body: body ? JSON.parse(body) : null });
    const status = Number(/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
afterEach(async () => { await engine?.close(); engine = undefined; });
afterAll(async () => { await server.stop(); });

const connections = () => ({ hook: { name: 'hook', type: 'Https' as const, url: `${server.url}/in` } });

describe('$https as the last stage', () => {
  it('POSTs every document as it is, and counts it as output', async () => {
    engine = createEngine(new MemoryHost(), { extraCaCertificates: [server.certificate] });
    const def = definition([
      { $source: { documents: [{ n: 1, tag: 'a' }, { n: 2, tag: 'b' }] } },
      { $match: { n: { $gte: 1 } } },
      { $https: { connectionName: 'hook', onError: 'ignore' } },
    ], { connections: connections() });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => received.length >= 2);
    expect(received.map((r) => [r.method, r.url, (r.body as { n: number }).n, (r.body as { tag: string }).tag])).toEqual([
      ['POST', '/in', 1, 'a'], ['POST', '/in', 2, 'b'],
    ]);
    await eventually(() => engine!.stats(def.id)?.outputMessageCount === 2);
  });

  it('follows onError for refused documents: "dlq" sends them to the dead letter queue', async () => {
    engine = createEngine(new MemoryHost(), { extraCaCertificates: [server.certificate] });
    const def = definition([
      { $source: { documents: [{ route: 'status/404' }] } },
      { $https: { connectionName: 'hook', path: '$route' } },
    ], { connections: connections() });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => engine!.stats(def.id)?.dlqMessageCount === 1);
  });
});
