// What Atlas refuses when a processor is created or started, and $source/$merge/$emit
// options: sp-agg-source, sp-agg-merge, sp-agg-emit, "Manage Stream Processors" and
// "Stream Aggregation".
import { describe, expect, it } from 'vitest';
import type { Document } from '../../src/engine/contract.js';
import { refusal, runPipeline, useConformanceHarness } from './harness.js';

useConformanceHarness();

const KAFKA = { kafka0: { name: 'kafka0', type: 'Kafka' as const, bootstrapServers: '127.0.0.1:1' } };
const merge = (extra: Document) => ({ $merge: { into: { connectionName: 'cluster0', db: 'd', coll: 'c' }, ...extra } });
const emit = (config: Document, extra: Document = {}) => ({ $emit: { connectionName: 'kafka0', topic: 't', config, ...extra } });
const pipeline = (sink: Document, stages: Document[] = []) => [{ $source: { documents: [] } }, ...stages, sink];

describe('sp-agg-merge', () => {
  it.each([0, 17, 2.5, '4'])('sp-agg-merge: refuses parallelism %j (an integer from 1 to 16)', (parallelism) => {
    expect(refusal(pipeline(merge({ parallelism })))).toContain('$merge.parallelism');
  });

  it.each([1, 16])('sp-agg-merge: accepts parallelism %j', (parallelism) => {
    expect(refusal(pipeline(merge({ parallelism })))).toBeUndefined();
  });

  it('sp-agg-merge: refuses an unknown field', () => {
    expect(refusal(pipeline(merge({ upsert: true })))).toBe("BSON field '$merge.upsert' is an unknown field.");
  });

  it('sp-agg-merge: $merge must be the last stage', () => {
    expect(refusal([{ $source: { documents: [] } }, merge({}), { $match: {} }])).toBeDefined();
  });
});

describe('sp-agg-emit', () => {
  it('sp-agg-emit: config.key without config.keyFormat is refused', () => {
    expect(refusal(pipeline(emit({ key: '$id' })), KAFKA)).toContain('keyFormat');
  });

  it('sp-agg-emit: config.key with config.keyFormat is accepted', () => {
    expect(refusal(pipeline(emit({ key: '$id', keyFormat: 'string' })), KAFKA)).toBeUndefined();
  });

  it('sp-agg-emit: refuses an unknown config field', () => {
    expect(refusal(pipeline(emit({ lingerMs: 5 })), KAFKA)).toBe("BSON field '$emit.config.lingerMs' is an unknown field.");
  });

  it.each([0, 17])('sp-agg-emit: refuses parallelism %j', (parallelism) => {
    expect(refusal(pipeline(emit({}, { parallelism })), KAFKA)).toContain('$emit.parallelism');
  });

  it('sp-agg-emit: refuses an unknown field', () => {
    expect(refusal(pipeline(emit({}, { partition: 1 })), KAFKA)).toContain("'$emit.partition'");
  });

  it('sp-agg-emit: only one $emit, last', () => {
    expect(refusal([{ $source: { documents: [] } }, { $emit: { connectionName: '__testLog' } }, { $emit: { connectionName: '__testLog' } }])).toBeDefined();
  });
});

describe('sp-agg-source', () => {
  it('sp-agg-source: documents may be an expression that evaluates to an array', async () => {
    const out = await runPipeline([
      { $source: { documents: { $map: { input: { $range: [0, 3] }, in: { n: '$$this' } } } } },
      { $project: { _id: 0, n: 1 } },
      { $emit: { connectionName: '__testLog' } },
    ]);
    expect(out.output.map((d) => d['n'])).toEqual([0, 1, 2]);
  });

  it('sp-agg-source: documents that evaluate to something else than an array of documents are refused', () => {
    expect(refusal([{ $source: { documents: { $literal: 5 } } }, { $emit: { connectionName: '__testLog' } }])).toContain('$source.documents');
  });

  it('sp-agg-source: refuses an unknown field', () => {
    expect(refusal([{ $source: { documents: [], every: 1 } }, { $emit: { connectionName: '__testLog' } }])).toContain("'$source.every'");
  });

  it('sp-agg-source: $source must come first', () => {
    expect(refusal([{ $match: {} }, { $source: { documents: [] } }, { $emit: { connectionName: '__testLog' } }])).toContain('$source');
  });
});

describe('stream-aggregation: stage placement', () => {
  it('stream-aggregation: $group outside a window is refused', () => {
    expect(refusal(pipeline({ $emit: { connectionName: '__testLog' } }, [{ $group: { _id: null } }]))).toContain('$group');
  });

  it('stream-aggregation: only one window stage', () => {
    const window = { $tumblingWindow: { interval: { size: 1, unit: 'second' }, pipeline: [] } };
    expect(refusal(pipeline({ $emit: { connectionName: '__testLog' } }, [window, window]))).toContain('window');
  });

  it('stream-aggregation: an unknown stage is refused', () => {
    expect(refusal(pipeline({ $emit: { connectionName: '__testLog' } }, [{ $out: 'x' }]))).toContain('$out');
  });

  it('manage-stream-processors: a connection that does not exist is named in the refusal', () => {
    expect(refusal(pipeline({ $merge: { into: { connectionName: 'nowhere', db: 'd', coll: 'c' } } }))).toContain('connection named nowhere does not exist');
  });
});
