// `_stream_meta` as the Stream Aggregation page, sp-agg-meta and sp-agg-setStreamMeta
// document it.
import { describe, expect, it } from 'vitest';
import type { Document } from '../../src/engine/contract.js';
import { outputOf, refusal, runPipeline, streamOf, useConformanceHarness } from './harness.js';

useConformanceHarness();

const meta = (doc: Document | undefined) => doc?.['_stream_meta'] as Document | undefined;

describe('stream-aggregation: _stream_meta is removed only by $project: {_stream_meta: 0} or $unset', () => {
  it('stream-aggregation: $replaceRoot keeps _stream_meta', async () => {
    const [doc] = await outputOf([{ inner: { a: 1 } }], [{ $replaceRoot: { newRoot: '$inner' } }]);
    expect(doc).toEqual({ a: 1, _stream_meta: { source: { type: 'generated', ts: expect.any(Date) } } });
  });

  it('stream-aggregation: $replaceWith keeps _stream_meta', async () => {
    const [doc] = await outputOf([{ inner: { a: 1 } }], [{ $replaceWith: { b: '$inner.a' } }]);
    expect(meta(doc)).toMatchObject({ source: { type: 'generated' } });
    expect(doc!['b']).toBe(1);
  });

  it('stream-aggregation: an inclusion $project keeps _stream_meta', async () => {
    const [doc] = await outputOf([{ a: 1, b: 2 }], [{ $project: { _id: 0, a: 1 } }]);
    expect(Object.keys(doc!)).toEqual(['a', '_stream_meta']);
  });

  it('stream-aggregation: $project {_stream_meta: 0} removes it', async () => {
    const [doc] = await outputOf([{ a: 1 }], [{ $project: { _stream_meta: 0 } }]);
    expect(doc).not.toHaveProperty('_stream_meta');
  });

  it('stream-aggregation: $unset ["_stream_meta"] removes it', async () => {
    const [doc] = await outputOf([{ a: 1 }], [{ $unset: ['_stream_meta'] }]);
    expect(doc).not.toHaveProperty('_stream_meta');
  });

  it('stream-aggregation: $replaceRoot does not alter the sub-document it promotes', async () => {
    const [doc] = await outputOf([{ inner: { a: 1 } }], [{ $replaceRoot: { newRoot: '$inner' } }, { $project: { _id: 0, a: 1, meta: { $type: '$_stream_meta' } } }]);
    expect(doc).toMatchObject({ a: 1, meta: 'object' });
  });
});

describe('sp-agg-meta', () => {
  it('sp-agg-meta: {$meta: "stream.source.type"} is the source type', async () => {
    const [doc] = await outputOf([{}], [{ $project: { _id: 0, t: { $meta: 'stream.source.type' } } }]);
    expect(doc!['t']).toBe('generated');
  });

  it('sp-agg-meta: {$meta: "stream.source.ts"} is the date of the record at ingestion', async () => {
    const [doc] = await outputOf([{}], [{ $project: { _id: 0, ts: { $meta: 'stream.source.ts' } } }]);
    expect(doc!['ts']).toBeInstanceOf(Date);
  });

  it('sp-agg-meta: {$meta: "stream"} is all of the metadata', async () => {
    const [doc] = await outputOf([{}], [{ $project: { _id: 0, all: { $meta: 'stream' } } }]);
    expect(doc!['all']).toEqual({ source: { type: 'generated', ts: expect.any(Date) } });
  });

  it('sp-agg-meta: a path that is not set (stream.window outside a window) is missing', async () => {
    const [doc] = await outputOf([{}], [{ $project: { _id: 0, w: { $meta: 'stream.window' } } }]);
    expect(doc).not.toHaveProperty('w');
  });

  it('sp-agg-meta: the root of the path must be "stream"', () => {
    expect(refusal(streamOf([], [{ $project: { s: { $meta: 'textScore' } } }]))).toContain('$meta');
  });

  it('sp-agg-meta: $meta works in $match through $expr', async () => {
    const out = await outputOf([{ a: 1 }], [{ $match: { $expr: { $eq: [{ $meta: 'stream.source.type' }, 'generated'] } } }]);
    expect(out).toHaveLength(1);
  });
});

describe('sp-agg-setStreamMeta', () => {
  it('sp-agg-setStreamMeta: sets a metadata field from an expression', async () => {
    const [doc] = await outputOf([{ productId: 'A' }], [{ $setStreamMeta: { 'stream.product': '$productId' } }]);
    expect(meta(doc)).toMatchObject({ product: 'A', source: { type: 'generated' } });
    expect(doc!['product']).toBeUndefined();
  });

  it('sp-agg-setStreamMeta: later stages read it with $meta', async () => {
    const [doc] = await outputOf([{ qty: 2 }], [
      { $setStreamMeta: { 'stream.order.qty': { $multiply: ['$qty', 10] } } },
      { $project: { _id: 0, qty: { $meta: 'stream.order.qty' } } },
    ]);
    expect(doc!['qty']).toBe(20);
  });

  it('sp-agg-setStreamMeta: a failing expression sends the document to the DLQ', async () => {
    const { output, dlq } = await runPipeline(streamOf([{ qty: 'two' }], [{ $setStreamMeta: { 'stream.x': { $multiply: ['$qty', 10] } } }]));
    expect(output).toEqual([]);
    expect(dlq).toHaveLength(1);
  });

  it('sp-agg-setStreamMeta: keys must begin with "stream."', () => {
    expect(refusal(streamOf([], [{ $setStreamMeta: { product: '$p' } }]))).toContain('stream.');
  });

  it('sp-agg-setStreamMeta: may not come before $source or after the sink', () => {
    expect(refusal([{ $setStreamMeta: { 'stream.a': 1 } }, { $source: { documents: [] } }, { $emit: { connectionName: '__testLog' } }])).toBeDefined();
  });
});
