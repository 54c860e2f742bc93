// Windows as MongoDB documents them: sp-agg-tumbling, sp-agg-hopping, sp-agg-session and
// the "Windows" page (https://www.mongodb.com/docs/atlas/atlas-stream-processing/).
import { describe, expect, it } from 'vitest';
import type { Document } from '../../src/engine/contract.js';
import { createWindowOperator } from '../../src/engine/windows/window-operator.js';
import { statelessStage } from '../../src/engine/stages/stateless.js';
import { windowOnlyStage } from '../../src/engine/stages/window-only.js';
import type { Operator } from '../../src/engine/stages/operator.js';
import { at, BY_T, refusal, runPipeline, streamOf, useConformanceHarness } from './harness.js';

useConformanceHarness();

const SECOND = (size: number) => ({ size, unit: 'second' });
const tumbling = (pipeline: Document[], extra: Document = {}) => ({ $tumblingWindow: { interval: SECOND(1), allowedLateness: 0, pipeline, ...extra } });
const hopping = (pipeline: Document[], extra: Document = {}) => ({ $hoppingWindow: { interval: SECOND(2), hopSize: SECOND(1), allowedLateness: 0, pipeline, ...extra } });
const session = (pipeline: Document[], extra: Document = {}) => ({ $sessionWindow: { partitionBy: '$k', gap: SECOND(1), allowedLateness: 0, pipeline, ...extra } });
/** A document far ahead in event time: moves the watermark so earlier windows close. */
const flush = { t: at(100), k: 'flush' };
const run = (docs: Document[], stage: Document) => runPipeline(streamOf([...docs, flush], [stage], BY_T));
const meta = (doc: Document | undefined) => doc?.['_stream_meta'] as Document;

describe('sp-agg-tumbling', () => {
  it('sp-agg-tumbling: groups by {$meta: "stream.window.start"}', async () => {
    const { output } = await run([{ t: at(0.2), v: 1 }, { t: at(0.7), v: 2 }, { t: at(1.5), v: 5 }],
      tumbling([{ $group: { _id: { $meta: 'stream.window.start' }, total: { $sum: '$v' } } }]));
    expect(output.map((d) => [d['_id'], d['total']])).toEqual([[at(0), 3], [at(1), 5]]);
  });

  it('sp-agg-tumbling: $_stream_meta.window.end is readable inside the window pipeline', async () => {
    const { output } = await run([{ t: at(0.2) }, { t: at(1.5) }],
      tumbling([{ $group: { _id: '$_stream_meta.window.end', n: { $sum: 1 } } }]));
    expect(output.map((d) => d['_id'])).toEqual([at(1), at(2)]);
  });

  it('sp-agg-tumbling: {$meta: "stream.window.end"} is readable in a stage before $group', async () => {
    const { output } = await run([{ t: at(0.2) }],
      tumbling([{ $addFields: { closes: { $meta: 'stream.window.end' } } }, { $project: { _id: 0, closes: 1 } }]));
    expect(output[0]).toMatchObject({ closes: at(1) });
  });

  it('sp-agg-tumbling: window output keeps _stream_meta.source beside window', async () => {
    const { output } = await run([{ t: at(0.2) }], tumbling([{ $group: { _id: null, n: { $sum: 1 } } }]));
    expect(meta(output[0])).toEqual({ source: { type: 'generated' }, window: { start: at(0), end: at(1) } });
  });

  it('sp-agg-tumbling: offset {offsetFromUtc, unit} shifts window boundaries', async () => {
    const { output } = await run([{ t: at(0.2) }, { t: at(0.7) }],
      tumbling([{ $group: { _id: null, n: { $sum: 1 } } }], { offset: { offsetFromUtc: 500, unit: 'ms' } }));
    expect(output.map((d) => [meta(d)['window'], d['n']])).toEqual([
      [{ start: at(-0.5), end: at(0.5) }, 1], [{ start: at(0.5), end: at(1.5) }, 1],
    ]);
  });

  it('sp-agg-tumbling: allowedLateness and idleTimeout accept the integer 0', async () => {
    const { output } = await run([{ t: at(0.2) }], tumbling([{ $count: 'n' }], { allowedLateness: 0, idleTimeout: 0 }));
    expect(output[0]).toMatchObject({ n: 1 });
  });

  it('sp-agg-tumbling: a document for a closed window goes to the DLQ as late', async () => {
    const { dlq } = await runPipeline(streamOf([{ t: at(0.2) }, { t: at(5) }, { t: at(0.5), late: true }], [tumbling([{ $count: 'n' }])], BY_T));
    expect(dlq).toEqual([expect.objectContaining({
      doc: expect.objectContaining({ late: true }), errInfo: { reason: 'Input document arrived late.' }, missedWindowStartTimes: [at(0)],
    })]);
  });

  it('sp-agg-tumbling: a document whose $group expression fails goes to the DLQ; the window still closes', async () => {
    const { output, dlq, failure } = await run([{ t: at(0.1), v: 2 }, { t: at(0.2), v: 'x' }, { t: at(0.3), v: 3 }],
      tumbling([{ $group: { _id: null, total: { $sum: { $multiply: ['$v', 10] } } } }]));
    expect(failure).toBeUndefined();
    expect(output[0]).toMatchObject({ total: 50 });
    expect(dlq).toEqual([expect.objectContaining({ doc: expect.objectContaining({ v: 'x' }), errInfo: { reason: expect.stringContaining('$multiply') } })]);
  });

  it('sp-agg-hopping: a failing $group expression sends the document to the DLQ once, not once per window', async () => {
    const { dlq } = await run([{ t: at(1.5), v: 'x' }], hopping([{ $group: { _id: null, total: { $sum: { $multiply: ['$v', 10] } } } }]));
    expect(dlq).toHaveLength(1);
  });

  it.each([
    ['a fractional interval size', { interval: { size: 1.5, unit: 'second' } }, 'interval.size'],
    ['a zero interval size', { interval: { size: 0, unit: 'second' } }, 'interval.size'],
    ['an unknown unit', { interval: { size: 1, unit: 'week' } }, 'interval.unit'],
    ['a fractional allowedLateness', { allowedLateness: { size: 0.5, unit: 'second' } }, 'allowedLateness.size'],
    ['allowedLateness 1 (only 0 may be a bare integer)', { allowedLateness: 1 }, 'allowedLateness'],
    ['allowedLateness with processingTime', { boundary: 'processingTime', allowedLateness: SECOND(1) }, 'processingTime'],
    ['idleTimeout with processingTime', { boundary: 'processingTime', allowedLateness: undefined, idleTimeout: SECOND(1) }, 'processingTime'],
    ['an unknown boundary', { boundary: 'ingestTime' }, 'boundary'],
    ['an unknown option', { every: SECOND(1) }, 'every'],
    ['offset without offsetFromUtc', { offset: { size: 1, unit: 'second' } }, 'offsetFromUtc'],
  ])('sp-agg-tumbling: refuses %s', (_what, extra, mentions) => {
    const stage = tumbling([{ $count: 'n' }], extra);
    expect(refusal(streamOf([], [stage]))).toContain(mentions);
  });

  it('sp-agg-tumbling: idleTimeout closes a window once the source is quiet for max(remaining window time, idleTimeout)', async () => {
    const { operator, clock } = windowOperator({
      $tumblingWindow: { interval: SECOND(10), idleTimeout: SECOND(1), allowedLateness: 0, pipeline: [{ $count: 'n' }] },
    });
    await operator.process([{ _ts: at(2) }]);
    // 8 s of the window remain: being idle for 1 s is not enough.
    expect(await operator.onTick!(clock() + 1_500)).toEqual([]);
    expect(await operator.onTick!(clock() + 8_500)).toEqual([expect.objectContaining({ n: 1 })]);
  });

  it('sp-agg-tumbling: idleTimeout longer than the remaining window time waits for idleTimeout', async () => {
    const { operator, clock } = windowOperator({
      $tumblingWindow: { interval: SECOND(1), idleTimeout: SECOND(5), allowedLateness: 0, pipeline: [{ $count: 'n' }] },
    });
    await operator.process([{ _ts: at(0.5) }]);
    expect(await operator.onTick!(clock() + 1_000)).toEqual([]);
    expect(await operator.onTick!(clock() + 5_500)).toEqual([expect.objectContaining({ n: 1 })]);
  });
});

describe('sp-agg-hopping', () => {
  it('sp-agg-hopping: groups by {$meta: "stream.window.start"} in every window a document falls in', async () => {
    const { output } = await run([{ t: at(1.5), v: 1 }],
      hopping([{ $group: { _id: { $meta: 'stream.window.start' }, n: { $sum: '$v' } } }]));
    expect(output.map((d) => d['_id'])).toEqual([at(0), at(1)]);
  });

  it('sp-agg-hopping: a hop larger than the interval leaves gaps whose documents are dropped, not late', async () => {
    const { output, dlq } = await run([{ t: at(0.5), v: 1 }, { t: at(1.5), v: 2 }, { t: at(2.5), v: 4 }],
      hopping([{ $group: { _id: null, vs: { $push: '$v' } } }], { interval: SECOND(1), hopSize: SECOND(2) }));
    expect(output.map((d) => d['vs'])).toEqual([[1], [4]]);
    expect(dlq).toEqual([]);
  });

  it('sp-agg-hopping: window output carries its own start and end', async () => {
    const { output } = await run([{ t: at(1.5) }], hopping([{ $count: 'n' }]));
    expect(output.map((d) => meta(d)['window'])).toEqual([{ start: at(0), end: at(2) }, { start: at(1), end: at(3) }]);
  });

  it('sp-agg-hopping: offset {offsetFromUtc, unit} shifts hops', async () => {
    const { output } = await run([{ t: at(1.5) }], hopping([{ $count: 'n' }], { offset: { offsetFromUtc: 250, unit: 'ms' } }));
    expect(output.map((d) => (meta(d)['window'] as Document)['start'])).toEqual([at(0.25), at(1.25)]);
  });

  it.each([
    ['a fractional hopSize', { hopSize: { size: 0.5, unit: 'second' } }],
    ['a missing hopSize', { hopSize: undefined }],
  ])('sp-agg-hopping: refuses %s', (_what, extra) => {
    expect(refusal(streamOf([], [hopping([{ $count: 'n' }], extra)]))).toContain('hopSize');
  });
});

describe('sp-agg-session', () => {
  it('sp-agg-session: window output carries window.partition beside start and end', async () => {
    const { output } = await run([{ t: at(0), k: 'a' }], session([{ $group: { _id: '$k', n: { $sum: 1 } } }]));
    expect(meta(output[0])).toEqual({ source: { type: 'generated' }, window: { start: at(0), end: at(1), partition: 'a' } });
  });

  it('sp-agg-session: documents less than gap apart share a session', async () => {
    const { output } = await run([{ t: at(0), k: 'a' }, { t: at(0.9), k: 'a' }], session([{ $count: 'n' }]));
    expect(output[0]).toMatchObject({ n: 2 });
  });

  it('sp-agg-session: documents exactly gap apart are in two sessions', async () => {
    const { output } = await run([{ t: at(0), k: 'a' }, { t: at(1), k: 'a' }], session([{ $count: 'n' }]));
    expect(output.map((d) => [d['n'], meta(d)['window']])).toEqual([
      [1, { start: at(0), end: at(1), partition: 'a' }], [1, { start: at(1), end: at(2), partition: 'a' }],
    ]);
  });

  it('sp-agg-session: end is the last event plus the gap', async () => {
    const { output } = await run([{ t: at(0), k: 'a' }, { t: at(0.5), k: 'a' }], session([{ $count: 'n' }]));
    expect((meta(output[0])['window'] as Document)['end']).toEqual(at(1.5));
  });

  it('sp-agg-session: partitions are separate sessions', async () => {
    const { output } = await run([{ t: at(0), k: 'a' }, { t: at(0.1), k: 'b' }], session([{ $group: { _id: '$k', n: { $sum: 1 } } }]));
    expect(output.map((d) => d['_id']).sort()).toEqual(['a', 'b']);
  });

  it('sp-agg-session: a session stays open until the watermark passes its end plus allowedLateness', async () => {
    const { output } = await runPipeline(streamOf([{ t: at(0), k: 'a' }, { t: at(3), k: 'b' }], [session([{ $count: 'n' }], { allowedLateness: SECOND(5) })], BY_T));
    expect(output).toEqual([]);
  });

  it('sp-agg-session: a late document goes to the DLQ', async () => {
    const { dlq } = await runPipeline(streamOf([{ t: at(0), k: 'a' }, { t: at(10), k: 'z' }, { t: at(5), k: 'b' }], [session([{ $count: 'n' }])], BY_T));
    expect(dlq).toEqual([expect.objectContaining({ doc: expect.objectContaining({ k: 'b' }), errInfo: { reason: 'Input document arrived late.' } })]);
  });

  it.each([
    ['a missing partitionBy', { partitionBy: undefined }, 'partitionBy'],
    ['a fractional gap', { gap: { size: 0.5, unit: 'second' } }, 'gap.size'],
    ['a zero gap', { gap: { size: 0, unit: 'second' } }, 'gap.size'],
  ])('sp-agg-session: refuses %s', (_what, extra, mentions) => {
    expect(refusal(streamOf([], [session([{ $count: 'n' }], extra)]))).toContain(mentions);
  });
});

/** A window operator run directly, so timer ticks can be given any wall-clock time. */
function windowOperator(stage: Document): { operator: Operator; clock: () => number } {
  const name = Object.keys(stage)[0]!;
  const started = Date.now();
  const operator = createWindowOperator(name, stage[name], { deadLetter() {} }, {
    tsField: '_ts',
    sourceWatermark: undefined,
    buildInner: (stages) => stages.map((s) => {
      const stageName = Object.keys(s)[0]!;
      return statelessStage(stageName, s[stageName], { deadLetter() {} }) ?? windowOnlyStage(stageName, s[stageName])!;
    }),
  });
  return { operator, clock: () => Math.max(started, Date.now()) };
}
