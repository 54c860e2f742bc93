// Which connections a stored processor holds: every place a pipeline can name one.
import { describe, expect, it } from 'vitest';
import { connectionsUsedBy } from './pipelines.js';

describe('connectionsUsedBy', () => {
  it('finds the source, window pipelines, $lookup, $https, $merge and the DLQ', () => {
    const used = connectionsUsedBy({
      pipeline: [
        { $source: { connectionName: 'src', db: 'd', coll: 'c' } },
        { $lookup: { from: { connectionName: 'lookup', db: 'd', coll: 'c' }, localField: 'a', foreignField: 'b', as: 'x' } },
        { $tumblingWindow: { interval: { size: 1, unit: 'second' }, pipeline: [{ $https: { connectionName: 'win', as: 'r' } }, { $group: { _id: null, n: { $sum: 1 } } }] } },
        { $https: { connectionName: 'https', as: 'y' } },
        { $merge: { into: { connectionName: 'merge', db: 'd', coll: 'c' } } },
      ],
      options: { dlq: { connectionName: 'dlq', db: 'd', coll: 'dead' } },
    });
    expect([...used].sort()).toEqual(['dlq', 'https', 'lookup', 'merge', 'src', 'win']);
  });

  it('counts every connectionName of a pipeline that no longer parses', () => {
    expect([...connectionsUsedBy({ pipeline: [{ $nonsense: { deep: [{ connectionName: 'kept' }] } }] })]).toEqual(['kept']);
  });
});
