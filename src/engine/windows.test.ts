import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { createEngine } from './index.js';
import type { Document, ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually, collectOutput } from './testing/memory-host.js';
import { MongoDouble } from './testing/mongo-double.js';

const at = (seconds: number) => ({ t: new Date(Date.UTC(2024, 0, 1) + seconds * 1000).toISOString() });
const source = (docs: Document[]) => ({ $source: { documents: docs, timeField: { $dateFromString: { dateString: '$t' } } } });
const NO_LATENESS = { size: 0, unit: 'second' };
const start = (seconds: number) => new Date(Date.UTC(2024, 0, 1) + seconds * 1000);

let engine: ProcessorRunner | undefined;
let mongo: MongoDouble;
let client: MongoClient;
beforeAll(async () => {
  mongo = new MongoDouble();
  await mongo.start();
  client = new MongoClient(mongo.uri);
});
afterEach(async () => { await engine?.close(); engine = undefined; });
afterAll(async () => { await client.close(); await mongo.stop(); });

describe('windows', () => {
  it('tumbling: groups per window, stamps window bounds, sends late documents to the DLQ', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      source([
        { ...at(0.1), v: 1 }, { ...at(0.5), v: 3 }, { ...at(1.2), v: 10 }, { ...at(2.5), v: 100 },
        { ...at(0.7), v: 1000 }, { ...at(10), v: 0 },
      ]),
      {
        $tumblingWindow: {
          interval: { size: 1, unit: 'second' }, allowedLateness: NO_LATENESS,
          pipeline: [{ $group: { _id: null, n: { $count: {} }, sum: { $sum: '$v' }, avg: { $avg: '$v' }, max: { $max: '$v' }, vs: { $push: '$v' } } }],
        },
      },
      { $emit: { connectionName: '__testLog' } },
    ], {
      connections: { cluster0: { name: 'cluster0', type: 'Cluster', connectionString: mongo.uri } },
      options: { dlq: { connectionName: 'cluster0', db: 'w', coll: 'dlq' } },
    });
    await engine.start(def, { resumeFromCheckpoint: false });
    const out = await collectOutput(engine, def.id, 3);
    expect(out.map((d) => [d['n'], d['sum'], d['avg'], d['max'], d['vs']])).toEqual([
      [2, 4, 2, 3, [1, 3]], [1, 10, 10, 10, [10]], [1, 100, 100, 100, [100]],
    ]);
    expect(out[0]!['_stream_meta']).toEqual({ source: { type: 'generated' }, window: { start: start(0), end: start(1) } });
    const [late] = await eventually(async () => {
      const docs = await client.db('w').collection('dlq').find({}).toArray();
      return docs.length === 1 ? docs : undefined;
    });
    expect(late).toMatchObject({ doc: { v: 1000 }, errInfo: { reason: 'Input document arrived late.' }, missedWindowStartTimes: [start(0)] });
  });

  it('hopping: a document lands in every window that covers it', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      source([{ ...at(1.5), k: 'x' }, { ...at(10) }]),
      {
        $hoppingWindow: {
          interval: { size: 2, unit: 'second' }, hopSize: { size: 1, unit: 'second' }, allowedLateness: NO_LATENESS,
          pipeline: [{ $match: { k: 'x' } }, { $group: { _id: '$k', n: { $sum: 1 } } }],
        },
      },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: false });
    const out = await collectOutput(engine, def.id, 2);
    expect(out.map((d) => (d['_stream_meta'] as { window: { start: Date } }).window.start)).toEqual([start(0), start(1)]);
    expect(out.every((d) => d['n'] === 1 && d['_id'] === 'x')).toBe(true);
  });

  it('session: per-key sessions; an out-of-order event merges two sessions', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      source([
        { ...at(0), k: 'a', v: 1 }, { ...at(1.8), k: 'a', v: 2 }, { ...at(0.5), k: 'b', v: 5 },
        { ...at(0.9), k: 'a', v: 3 }, { ...at(20), k: 'z', v: 0 },
      ]),
      {
        $sessionWindow: {
          partitionBy: '$k', gap: { size: 1, unit: 'second' }, allowedLateness: { size: 5, unit: 'second' },
          pipeline: [{ $group: { _id: '$k', vs: { $push: '$v' }, first: { $first: '$v' }, last: { $last: '$v' } } }, { $sort: { _id: 1 } }],
        },
      },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: false });
    const out = await collectOutput(engine, def.id, 2);
    const byKey = Object.fromEntries(out.map((d) => [d['_id'], d]));
    expect(byKey['a']).toMatchObject({ vs: [1, 2, 3], first: 1, last: 3, _stream_meta: { window: { start: start(0), end: start(2.8) } } });
    expect(byKey['b']).toMatchObject({ vs: [5], _stream_meta: { window: { start: start(0.5), end: start(1.5) } } });
  });

  it('session: a late document goes to the DLQ with the start of the session it missed', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      source([{ ...at(0), k: 'a' }, { ...at(10), k: 'z' }, { ...at(5), k: 'b', v: 'late' }]),
      {
        $sessionWindow: {
          partitionBy: '$k', gap: { size: 1, unit: 'second' }, allowedLateness: NO_LATENESS,
          pipeline: [{ $group: { _id: '$k', n: { $sum: 1 } } }],
        },
      },
      { $emit: { connectionName: '__testLog' } },
    ], {
      connections: { cluster0: { name: 'cluster0', type: 'Cluster', connectionString: mongo.uri } },
      options: { dlq: { connectionName: 'cluster0', db: 'session_late', coll: 'dlq' } },
    });
    await engine.start(def, { resumeFromCheckpoint: false });
    const [late] = await eventually(async () => {
      const docs = await client.db('session_late').collection('dlq').find({}).toArray();
      return docs.length === 1 ? docs : undefined;
    });
    expect(late).toMatchObject({ doc: { k: 'b', v: 'late' }, errInfo: { reason: 'Input document arrived late.' }, missedWindowStartTimes: [start(5)] });
  });

  it('keeps window state across stop/start and closes idle windows', async () => {
    const host = new MemoryHost();
    engine = createEngine(host);
    const def = definition([
      source([{ ...at(0.1), v: 1 }, { ...at(0.2), v: 2 }]),
      {
        $tumblingWindow: {
          // The window closes after max(remaining window time, idleTimeout) of quiet.
          interval: { size: 2, unit: 'second' }, idleTimeout: { size: 1, unit: 'second' },
          pipeline: [{ $sort: { v: -1 } }, { $group: { _id: null, vs: { $push: '$v' } } }],
        },
      },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: true });
    await eventually(() => { const s = engine!.stats(def.id); return s && s.inputMessageCount === 2 && s.stateSize > 0; });
    await engine.stop(def.id);
    await engine.start(def, { resumeFromCheckpoint: true });
    const [out] = await collectOutput(engine, def.id, 1);
    expect(out!['vs']).toEqual([2, 1]);
  });

  it('processing-time windows close on the wall clock', async () => {
    engine = createEngine(new MemoryHost(), { sampleRatePerSecond: 200 });
    const def = definition([
      { $source: { connectionName: 'sample_stream_solar' } },
      { $tumblingWindow: { interval: { size: 300, unit: 'ms' }, boundary: 'processingTime', pipeline: [{ $count: 'readings' }] } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: false });
    const [out] = await collectOutput(engine, def.id, 1);
    const window = (out!['_stream_meta'] as { window: { start: Date; end: Date } }).window;
    expect(out!['readings']).toBeGreaterThan(0);
    expect(window.end.getTime() - window.start.getTime()).toBe(300);
  });

  it('fails the processor when window state exceeds the memory budget', async () => {
    const host = new MemoryHost();
    engine = createEngine(host, { stateBudgetBytes: 2000 });
    const docs = Array.from({ length: 100 }, (_, i) => ({ ...at(i / 1000), payload: 'x'.repeat(50) }));
    const def = definition([
      source(docs),
      { $tumblingWindow: { interval: { size: 1, unit: 'hour' }, pipeline: [{ $sort: { t: 1 } }] } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: false });
    expect(await eventually(() => host.failures.get(def.id))).toMatch(/exceeds 80% of the SP10 tier's memory/);
  });
});
