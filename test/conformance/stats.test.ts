// sp.processor.stats() as "Manage Stream Processors" documents it (and WIRE.md §3):
// the watermark, and per-operator figures under their documented names.
import { describe, expect, it } from 'vitest';
import { at, BY_T, runPipeline, streamOf, useConformanceHarness } from './harness.js';

useConformanceHarness();

const window = { $tumblingWindow: { interval: { size: 1, unit: 'second' }, allowedLateness: 0, pipeline: [{ $count: 'n' }] } };

describe('manage-stream-processors: stats', () => {
  it('manage-stream-processors: stats show the watermark of a windowed processor', async () => {
    const { stats } = await runPipeline(streamOf([{ t: at(0.5) }, { t: at(2.5) }], [window], BY_T));
    expect(stats.watermark).toBe(at(2.5).toISOString());
  });

  it('manage-stream-processors: no watermark before a window has seen an event time', async () => {
    const { stats } = await runPipeline(streamOf([{ t: 'not a date' }], [window], { timeField: { $convert: { input: '$t', to: 'date', onError: null } } }));
    expect(stats).not.toHaveProperty('watermark');
  });

  it('manage-stream-processors: operatorStats name every stage, $source first and the sink last', async () => {
    const { stats } = await runPipeline(streamOf([{ a: 1 }], [{ $match: {} }, { $project: { a: 1 } }]));
    expect(stats.operatorStats.map((o) => o.name)).toEqual(['$source', '$match', '$project', '$emit']);
  });

  it('manage-stream-processors: each operator reports input, output and DLQ counts', async () => {
    const { stats } = await runPipeline(streamOf([{ a: 1 }, { a: 'x' }, { a: 3 }], [{ $addFields: { b: { $multiply: ['$a', 2] } } }]));
    expect(stats.operatorStats[1]).toMatchObject({ name: '$addFields', inputMessageCount: 3, outputMessageCount: 2, dlqMessageCount: 1 });
  });

  it('manage-stream-processors: an operator that sent documents to the DLQ reports their size', async () => {
    const { stats } = await runPipeline(streamOf([{ a: 'x' }], [{ $addFields: { b: { $multiply: ['$a', 2] } } }]));
    expect(stats.operatorStats[1]!.dlqMessageSize).toBeGreaterThan(0);
    expect(stats.operatorStats[1]!.dlqMessageSize).toBe(stats.dlqMessageSize);
  });

  it('manage-stream-processors: execution time under executionTimeSecs and executionTimeMillis', async () => {
    const { stats } = await runPipeline(streamOf([{ a: 1 }], [{ $match: {} }]));
    for (const operator of stats.operatorStats) {
      expect(operator).toEqual(expect.objectContaining({ executionTimeSecs: expect.any(Number), executionTimeMillis: expect.any(Number) }));
    }
  });

  it('manage-stream-processors: $source reports the bytes read and the sink the bytes written', async () => {
    const { stats } = await runPipeline(streamOf([{ a: 1 }], []));
    const source = stats.operatorStats[0]!;
    const sink = stats.operatorStats[stats.operatorStats.length - 1]!;
    expect(source.inputMessageSize).toBe(stats.inputMessageSize);
    expect(sink.outputMessageSize).toBe(stats.outputMessageSize);
  });

  it('manage-stream-processors: input is counted at $source and output at the sink', async () => {
    const { stats } = await runPipeline(streamOf([{ a: 1 }, { a: 2 }], [{ $match: { a: 1 } }]));
    expect(stats).toMatchObject({ inputMessageCount: 2, outputMessageCount: 1 });
  });
});
