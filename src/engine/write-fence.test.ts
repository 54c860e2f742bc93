// Per-write sink fencing: a processor whose write fence has closed (its runner could not renew
// its lease in time) writes nothing more to its sink, and neither fails nor loses its place:
// once the fence opens again (the lease was renewed after all) it goes on writing.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowWritesUntil, createEngine, createWriteFence, fenceClockMs } from './index.js';
import type { ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually } from './testing/memory-host.js';
import { startHttpsServer, type TestHttpsServer } from './testing/https-server.js';

let server: TestHttpsServer;
let engine: ProcessorRunner | undefined;
let received = 0;

beforeAll(async () => {
  server = await startHttpsServer((_req, res) => {
    received += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
afterEach(async () => { await engine?.close(); engine = undefined; });
afterAll(async () => { await server.stop(); });

describe('the write fence of a leased processor', () => {
  it('holds back every sink write while closed, then lets them go on', async () => {
    const host = new MemoryHost();
    engine = createEngine(host, { extraCaCertificates: [server.certificate], sampleRatePerSecond: 50 });
    const def = definition([
      { $source: { connectionName: 'sample_stream_solar' } },
      { $https: { connectionName: 'hook', onError: 'ignore' } },
    ], { connections: { hook: { name: 'hook', type: 'Https', url: `${server.url}/in` } } });
    const fence = createWriteFence();
    allowWritesUntil(fence, fenceClockMs() + 60_000);
    await engine.start(def, { resumeFromCheckpoint: false, writeFence: fence });
    await eventually(() => received >= 5);

    allowWritesUntil(fence, 0);
    // A write that had started before the fence closed may still land; none starts after.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const atClose = received;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(received).toBe(atClose);
    expect(engine.isRunning(def.id)).toBe(true);
    expect(host.failures.size).toBe(0);

    allowWritesUntil(fence, fenceClockMs() + 60_000);
    await eventually(() => received >= atClose + 5);
    expect(host.failures.size).toBe(0);
  });
});
