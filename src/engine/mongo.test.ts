import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { createEngine } from './index.js';
import type { ConnectionDefinition, ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually, collectOutput } from './testing/memory-host.js';
import { MongoDouble } from './testing/mongo-double.js';

// Against the wire-protocol double by default; against a real server when MONGODB_URI is set.
const realUri = process.env['MONGODB_URI'];

describe(realUri ? 'MongoDB (real server)' : 'MongoDB (wire double)', () => {
  let double: MongoDouble | undefined;
  let uri: string;
  let client: MongoClient;
  let engine: ProcessorRunner | undefined;
  const db = `engine_test_${Date.now()}`;

  beforeAll(async () => {
    if (realUri) uri = realUri;
    else {
      double = new MongoDouble();
      await double.start();
      uri = double.uri;
    }
    client = new MongoClient(uri);
    await client.connect();
  });
  afterEach(async () => { await engine?.close(); engine = undefined; });
  afterAll(async () => {
    if (realUri) await client.db(db).dropDatabase();
    await client.close();
    await double?.stop();
  });

  const cluster = (): Record<string, ConnectionDefinition> => ({ cluster0: { name: 'cluster0', type: 'Cluster', connectionString: uri } });

  it('$merge upserts on _id and writes failing documents to the DLQ collection', async () => {
    const host = new MemoryHost();
    engine = createEngine(host);
    await client.db(db).collection('totals').insertOne({ _id: 'b' as never, total: 0, note: 'kept' });
    const def = definition([
      { $source: { documents: [{ _id: 'a', n: 1 }, { _id: 'b', n: 2 }, { _id: 'c', n: 'three' }] } },
      { $project: { total: { $multiply: ['$n', 10] } } },
      // _stream_meta reaches the sink unless removed (Stream Aggregation page).
      { $unset: '_stream_meta' },
      { $merge: { into: { connectionName: 'cluster0', db, coll: 'totals' }, whenMatched: 'merge', whenNotMatched: 'insert' } },
    ], { connections: cluster(), options: { dlq: { connectionName: 'cluster0', db, coll: 'dlq' } } });
    await engine.start(def, { resumeFromCheckpoint: false });
    const totals = await eventually(async () => {
      const docs = await client.db(db).collection('totals').find({}).sort({ _id: 1 }).toArray();
      return docs.length === 2 ? docs : undefined;
    });
    expect(totals).toEqual([{ _id: 'a', total: 10 }, { _id: 'b', total: 20, note: 'kept' }]);
    const [record] = await eventually(async () => {
      const docs = await client.db(db).collection('dlq').find({}).toArray();
      return docs.length === 1 ? docs : undefined;
    });
    expect(record).toMatchObject({
      doc: { _id: 'c', n: 'three', _stream_meta: { source: { type: 'generated' } } },
      errInfo: { reason: expect.stringContaining('$multiply') },
      processorName: def.name,
      instanceName: 'instance0',
    });
    await eventually(() => { const s = engine!.stats(def.id); return s?.dlqMessageCount === 1 && s.outputMessageCount === 2; });
  });

  it('$merge on a custom field: replace when matched, discard when not', async () => {
    engine = createEngine(new MemoryHost());
    const devices = client.db(db).collection('devices_latest');
    await devices.insertOne({ code: 'd1', watts: 0, stale: true });
    const def = definition([
      { $source: { documents: [{ code: 'd1', watts: 7 }, { code: 'd9', watts: 1 }] } },
      { $project: { _id: 0, code: 1, watts: 1 } },
      { $unset: '_stream_meta' },
      { $merge: { into: { connectionName: 'cluster0', db, coll: 'devices_latest' }, on: 'code', whenMatched: 'replace', whenNotMatched: 'discard' } },
    ], { connections: cluster() });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => engine!.stats(def.id)?.outputMessageCount === 2);
    const docs = await devices.find({}, { projection: { _id: 0 } }).toArray();
    expect(docs).toEqual([{ code: 'd1', watts: 7 }]);
  });

  it('reads a change stream, and resumes from the checkpointed resume token', async () => {
    const host = new MemoryHost();
    engine = createEngine(host, { checkpointIntervalMs: 200 });
    const def = definition([
      { $source: { connectionName: 'cluster0', db, coll: 'orders', config: { fullDocument: 'updateLookup' } } },
      { $match: { operationType: 'insert' } },
      { $replaceRoot: { newRoot: '$fullDocument' } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: cluster() });
    await engine.start(def, { resumeFromCheckpoint: true });
    await eventually(() => engine!.stats(def.id)?.status === 'running');
    const orders = client.db(db).collection('orders');
    await orders.insertMany([{ item: 'one' }, { item: 'two' }]);
    const seen = await collectOutput(engine, def.id, 2);
    expect(seen.map((d) => d['item'])).toEqual(['one', 'two']);
    await engine.stop(def.id);

    await orders.insertOne({ item: 'while stopped' });
    await engine.start(def, { resumeFromCheckpoint: true });
    const [resumed] = await collectOutput(engine, def.id, 1);
    expect(resumed!['item']).toBe('while stopped');
  });

  it('starts a change stream at :startWith\'s startAtOperationTime, taking changes made before the start', async () => {
    engine = createEngine(new MemoryHost());
    const events = client.db(db).collection('events');
    await events.insertOne({ item: 'before' });
    // Operation times count whole seconds: wait for the next one so "before" lies behind the start time.
    const startAt = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await eventually(() => Date.now() >= startAt);
    await events.insertOne({ item: 'after the start time' });
    const def = definition([
      { $source: { connectionName: 'cluster0', db, coll: 'events' } },
      { $replaceRoot: { newRoot: '$fullDocument' } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: cluster() });
    await engine.start(def, { resumeFromCheckpoint: false, startAtOperationTime: new Date(startAt).toISOString() });
    await events.insertOne({ item: 'live' });
    const seen = await collectOutput(engine, def.id, 2);
    expect(seen.map((d) => d['item'])).toEqual(['after the start time', 'live']);
  });

  it('change stream with fullDocumentOnly emits the changed documents themselves', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { connectionName: 'cluster0', db, coll: 'parts', config: { fullDocumentOnly: true } } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: cluster() });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => engine!.stats(def.id)?.status === 'running');
    await client.db(db).collection('parts').insertOne({ _id: 'p1' as never, name: 'bolt', qty: 3 });
    const [doc] = await collectOutput(engine, def.id, 1);
    expect(doc).toMatchObject({ _id: 'p1', name: 'bolt', qty: 3, _stream_meta: { source: { type: 'atlas', ns: { db, coll: 'parts' } } } });
    expect(doc!['_ts']).toBeInstanceOf(Date);
    expect(doc).not.toHaveProperty('operationType');
    expect(doc).not.toHaveProperty('fullDocument');
  });

  it('$emit to a time series collection creates it with the timeseries options; documents without a date in timeField go to the DLQ', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { documents: [{ at: new Date('2024-01-01T00:00:00Z'), sensor: 's1', v: 1 }, { at: 'not a date', sensor: 's1', v: 2 }, { sensor: 's2', v: 3 }] } },
      { $project: { _id: 0, at: 1, sensor: 1, v: 1 } },
      { $unset: '_stream_meta' },
      { $emit: { connectionName: 'cluster0', db, coll: 'readings_ts', timeseries: { timeField: 'at', metaField: 'sensor', granularity: 'minutes' } } },
    ], { connections: cluster(), options: { dlq: { connectionName: 'cluster0', db, coll: 'ts_dlq' } } });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => { const s = engine!.stats(def.id); return s?.outputMessageCount === 1 && s.dlqMessageCount === 2; });
    const [info] = await client.db(db).listCollections({ name: 'readings_ts' }).toArray();
    expect(info).toMatchObject({ type: 'timeseries', options: { timeseries: { timeField: 'at', metaField: 'sensor', granularity: 'minutes' } } });
    const stored = await client.db(db).collection('readings_ts').find({}, { projection: { _id: 0 } }).toArray();
    expect(stored).toEqual([{ at: new Date('2024-01-01T00:00:00Z'), sensor: 's1', v: 1 }]);
    const refused = await client.db(db).collection('ts_dlq').find({}).toArray();
    expect(refused.map((r) => r['doc']['v']).sort()).toEqual([2, 3]);
    expect(refused[0]).toMatchObject({ errInfo: { reason: "time series timeField 'at' must be a date" } });
  });

  it('$lookup joins a collection on the cluster', async () => {
    engine = createEngine(new MemoryHost());
    await client.db(db).collection('devices').insertMany([{ device: 'd1', site: 'north' }, { device: 'd2', site: 'south' }]);
    const def = definition([
      { $source: { documents: [{ device: 'd2', watts: 5 }] } },
      { $lookup: { from: { connectionName: 'cluster0', db, coll: 'devices' }, localField: 'device', foreignField: 'device', as: 'info' } },
      { $project: { site: { $arrayElemAt: ['$info.site', 0] }, _id: 0 } },
      { $unset: '_stream_meta' },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: cluster() });
    await engine.start(def, { resumeFromCheckpoint: false });
    expect(await collectOutput(engine, def.id, 1)).toEqual([{ site: 'south' }]);
  });

  it('fails the processor with a clear message when the cluster connection has no connectionString', async () => {
    const host = new MemoryHost();
    engine = createEngine(host);
    const def = definition([
      { $source: { documents: [{ a: 1 }] } },
      { $merge: { into: { connectionName: 'cluster0', db, coll: 'x' } } },
    ], { connections: { cluster0: { name: 'cluster0', type: 'Cluster' } } });
    await engine.start(def, { resumeFromCheckpoint: false });
    const message = await eventually(() => host.failures.get(def.id));
    expect(message).toMatch(/has no connectionString/);
    expect(engine.isRunning(def.id)).toBe(false);
  });
});

