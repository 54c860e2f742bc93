import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from './index.js';
import { PipelineError, type Document, type ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually, collectOutput } from './testing/memory-host.js';
import { decodeCheckpointState } from './runtime/checkpoint-codec.js';

let engine: ProcessorRunner | undefined;
afterEach(async () => { await engine?.close(); engine = undefined; });

describe('engine', () => {
  it('runs sample → $match → $project → __testLog with stats and checkpoints', async () => {
    const host = new MemoryHost();
    engine = createEngine(host, { sampleRatePerSecond: 500, checkpointIntervalMs: 200 });
    const def = definition([
      { $source: { connectionName: 'sample_stream_solar', config: { seed: 7 } } },
      { $match: { 'obs.watts': { $gte: 0 } } },
      { $project: { device_id: 1, watts: '$obs.watts', _id: 0 } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: true });
    const docs = await collectOutput(engine, def.id, 20);
    // An inclusion $project keeps _stream_meta (Stream Aggregation page).
    expect(docs[0]).toEqual({ device_id: expect.stringMatching(/^device_\d+$/), watts: expect.any(Number), _stream_meta: { source: { type: 'generated', ts: expect.any(Date) } } });
    const stats = await eventually(() => {
      const s = engine!.stats(def.id);
      return s && s.status === 'running' && s.outputMessageCount >= 20 ? s : undefined;
    });
    expect(stats.inputMessageCount).toBeGreaterThanOrEqual(stats.outputMessageCount);
    expect(stats.inputMessageSize).toBeGreaterThan(0);
    expect(stats.operatorStats.map((o) => o.name)).toEqual(['$source', '$match', '$project', '$emit']);
    await eventually(() => host.checkpoints.has(def.id));
    await engine.stop(def.id);
    expect(engine.isRunning(def.id)).toBe(false);
    const checkpoint = host.checkpoints.get(def.id)!;
    expect(checkpoint.id).toBeGreaterThan(0);
  });

  it('resumes the sample stream from its checkpoint without losing or repeating documents', async () => {
    const host = new MemoryHost();
    engine = createEngine(host, { sampleRatePerSecond: 200, checkpointIntervalMs: 60_000 });
    const def = definition([
      { $source: { connectionName: 'sample_stream_solar', config: { seed: 42 } } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: true });
    const first = await collectOutput(engine, def.id, 10);
    await engine.stop(def.id);
    const stopped = host.checkpoints.get(def.id)!;
    const position = (decodeCheckpointState(stopped.state) as { source: { next: number } }).source;
    expect(position.next).toBeGreaterThanOrEqual(10);

    await engine.start(def, { resumeFromCheckpoint: true });
    const [next] = await collectOutput(engine, def.id, 1);
    await engine.stop(def.id);

    // A fresh run with the same seed shows what document number `position.next` must be.
    const reference = definition(def.pipeline);
    await engine.start(reference, { resumeFromCheckpoint: false });
    const fresh = await collectOutput(engine, reference.id, position.next + 1);
    const strip = ({ device_id, group_id, max_watts, event_type, obs }: Document) => ({ device_id, group_id, max_watts, event_type, obs });
    expect(strip(fresh[0]!)).toEqual(strip(first[0]!));
    expect(strip(next!)).toEqual(strip(fresh[position.next]!));
  });

  it('rejects a pipeline that cannot run, with PipelineError', async () => {
    engine = createEngine(new MemoryHost());
    await expect(engine.start(definition([
      { $source: { connectionName: 'sample_stream_solar' } },
      { $group: { _id: null } },
      { $emit: { connectionName: '__testLog' } },
    ]), { resumeFromCheckpoint: false })).rejects.toBeInstanceOf(PipelineError);
    await expect(engine.start(definition([
      { $source: { connectionName: 'sample_stream_solar' } },
      { $addFields: { now: '$$NOW' } },
      { $emit: { connectionName: '__testLog' } },
    ]), { resumeFromCheckpoint: false })).rejects.toThrow(/NOW is not supported/);
  });

  it('refuses $emit to the cloud sinks it does not implement, naming the type rather than calling it the wrong one', async () => {
    engine = createEngine(new MemoryHost());
    const blob = definition([
      { $source: { connectionName: 'sample_stream_solar' } },
      { $emit: { connectionName: 'blob' } },
    ], { connections: { blob: { name: 'blob', type: 'AzureBlobStorage', azure: { servicePrincipalId: 'x', storageAccountName: 'acct' } } } });
    await expect(engine.start(blob, { resumeFromCheckpoint: false })).rejects.toThrow(
      '$emit to an AzureBlobStorage connection (blob) is not supported by this emulator yet; see docs/differences-from-atlas.md');
  });

  it('runs each processor in its own thread: a saturated one leaves the others (and this thread) free', async () => {
    engine = createEngine(new MemoryHost(), { sampleRatePerSecond: 0 });
    const busy = definition([
      { $source: { connectionName: 'sample_stream_solar' } },
      { $addFields: { heavy: { $reduce: { input: { $range: [0, 30] }, initialValue: 0, in: { $add: ['$$value', '$$this'] } } } } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    const quiet = definition([
      { $source: { documents: [{ n: 1 }, { n: 2 }] } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(busy, { resumeFromCheckpoint: false });
    await eventually(() => (engine!.stats(busy.id)?.inputMessageCount ?? 0) > 0);
    await engine.start(quiet, { resumeFromCheckpoint: false });
    expect((await collectOutput(engine, quiet.id, 2)).map((d) => d['n'])).toEqual([1, 2]);
    expect(engine.stats(busy.id)!.status).toBe('running');
  });

  it('keeps the latest output for a watch that begins after it and for a processor that failed', async () => {
    const host = new MemoryHost();
    engine = createEngine(host, { outputRingSize: 5 });
    const finite = definition([
      { $source: { documents: Array.from({ length: 8 }, (_, n) => ({ n })) } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(finite, { resumeFromCheckpoint: false });
    await eventually(() => engine!.stats(finite.id)?.outputMessageCount === 8);
    // Nobody watched while the documents went by: a watch begins with the latest five.
    expect((await collectOutput(engine, finite.id, 5)).map((d) => d['n'])).toEqual([3, 4, 5, 6, 7]);

    const sample = definition([
      { $source: { connectionName: 'sample_stream_solar', config: { seed: 3 } } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(sample, { resumeFromCheckpoint: false });
    await eventually(() => (engine!.stats(sample.id)?.outputMessageCount ?? 0) >= 2);
    engine.setSinkFault!(sample.id, 'connection refused');
    await eventually(() => host.failures.has(sample.id), 30_000);
    const last = engine.lastOutputOf!(sample.id);
    expect(last.length).toBeGreaterThanOrEqual(2);
    expect(last.length).toBeLessThanOrEqual(5);
    for (const doc of last) expect(doc).toMatchObject({ device_id: expect.stringMatching(/^device_\d+$/) });
  }, 40_000);

  it('writes the event time to tsFieldName', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { documents: [{ at: '2024-08-12T21:41:01.788+00:00' }], tsFieldName: 'eventTime', timeField: { $dateFromString: { dateString: '$at' } } } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: false });
    const [doc] = await collectOutput(engine, def.id, 1);
    expect(doc!['eventTime']).toEqual(new Date('2024-08-12T21:41:01.788Z'));
    expect(doc).not.toHaveProperty('_ts');
  });

  it('sends documents whose expressions fail to the DLQ and counts them', async () => {
    const host = new MemoryHost();
    engine = createEngine(host);
    const def = definition([
      { $source: { documents: [{ a: 1 }, { a: 'x' }, { a: 3 }] } },
      { $addFields: { b: { $multiply: ['$a', 2] } } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    await engine.start(def, { resumeFromCheckpoint: false });
    const docs = await collectOutput(engine, def.id, 2);
    expect(docs.map((d) => d['b'])).toEqual([2, 6]);
    expect(docs[0]!['_stream_meta']).toEqual({ source: { type: 'generated', ts: expect.any(Date) } });
    expect(docs[0]!['_ts']).toBeInstanceOf(Date);
    const stats = await eventually(() => { const s = engine!.stats(def.id); return s && s.dlqMessageCount === 1 ? s : undefined; });
    expect(stats.operatorStats[1]).toMatchObject({ name: '$addFields', inputMessageCount: 3, outputMessageCount: 2, dlqMessageCount: 1 });
  });
});
