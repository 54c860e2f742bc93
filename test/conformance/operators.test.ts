// Expression operators and accumulators as MongoDB documents them: the manual's operator
// pages, its "Comparison/Sort Order", and Atlas Stream Processing's own expressions
// (sp-agg-convert, sp-agg-createUUID, sp-agg-currentDate, sp-agg-function).
import { describe, expect, it } from 'vitest';
import { Binary, Long, ObjectId, UUID } from 'bson';
import type { Document } from '../../src/engine/contract.js';
import { at, BY_T, evaluate, refusal, runPipeline, streamOf, useConformanceHarness } from './harness.js';

useConformanceHarness();

const bin = (...bytes: number[]) => new Binary(Buffer.from(bytes));
const hex = (v: unknown) => Buffer.from((v as Binary).buffer).toString('hex');

describe('manual: Comparison/Sort Order across BSON types', () => {
  it.each([
    ['arrays above objects', { $gt: [[0], { z: 1 }] }, true],
    ['objects above strings', { $gt: [{ a: 1 }, 'zzz'] }, true],
    ['strings above numbers', { $gt: ['', 5] }, true],
    ['numbers above null', { $gt: [-5, null] }, true],
    ['binData above arrays', { $gt: [bin(1), [9]] }, true],
    ['ObjectId below booleans', { $lt: [new ObjectId('65a1b2c3d4e5f60718293a4b'), false] }, true],
    ['booleans below dates', { $lt: [true, new Date(0)] }, true],
    ['objects compare field by field', { $lt: [{ a: 1 }, { a: 2 }] }, true],
    ['a shorter array is smaller when it is a prefix', { $lt: [[1, 2], [1, 2, 0]] }, true],
  ])('manual comparison order: %s', async (_what, expression, expected) => {
    expect(await evaluate(expression)).toBe(expected);
  });

  it('manual $sortArray: sorts mixed types in BSON order', async () => {
    expect(await evaluate({ $sortArray: { input: [[0], { a: 1 }, 'x', 3, null], sortBy: 1 } })).toEqual([null, 3, 'x', { a: 1 }, [0]]);
  });

  it('manual $max (expression): ignores null and missing, compares across types', async () => {
    expect(await evaluate({ $max: [1, '$missing', null] })).toBe(1);
    expect(await evaluate({ $max: [[1], { a: 1 }] })).toEqual([1]);
  });

  it('manual $min (expression): the minimum of an array argument', async () => {
    expect(await evaluate({ $min: '$xs' }, { xs: [4, 2, 8] })).toBe(2);
  });
});

describe('manual: n-array expressions', () => {
  it.each([
    ['$maxN', { $maxN: { input: [3, null, 1, 2], n: 2 } }, [3, 2]],
    ['$minN', { $minN: { input: [3, null, 1, 2], n: 2 } }, [1, 2]],
    ['$firstN', { $firstN: { input: [3, null, 1], n: 2 } }, [3, null]],
    ['$lastN', { $lastN: { input: [3, null, 1], n: 2 } }, [null, 1]],
    ['$maxN across types', { $maxN: { input: [[1], { a: 1 }, 'x'], n: 1 } }, [[1]]],
    ['$firstN with n above the length', { $firstN: { input: [1], n: 3 } }, [1]],
  ])('manual %s (array expression)', async (_name, expression, expected) => {
    expect(await evaluate(expression)).toEqual(expected);
  });
});

/** Runs `$group: {_id: null, r: accumulator}` over documents in one tumbling window. */
async function accumulate(accumulator: Document, docs: Document[]): Promise<unknown> {
  const stamped = docs.map((d, i) => ({ ...d, t: at(0.1 + i / 100) }));
  const { output, dlq } = await runPipeline(streamOf([...stamped, { t: at(10) }], [{
    $tumblingWindow: { interval: { size: 1, unit: 'second' }, allowedLateness: 0, pipeline: [{ $group: { _id: null, r: accumulator } }] },
  }], BY_T));
  if (dlq.length > 0) throw new Error(JSON.stringify(dlq[0]!['errInfo']));
  return output[0]!['r'];
}

const SCORES = [{ k: 'a', v: 3 }, { k: 'b' }, { k: 'c', v: null }, { k: 'd', v: 1 }, { k: 'e', v: 2 }];

describe('manual: accumulators in a window $group', () => {
  it.each([
    ['$top returns one value, not an array', { $top: { sortBy: { v: -1 }, output: '$k' } }, 'a'],
    ['$top with an array output', { $top: { sortBy: { v: -1 }, output: ['$k', '$v'] } }, ['a', 3]],
    ['$bottom returns one value', { $bottom: { sortBy: { v: -1 }, output: '$k' } }, 'c'],
    ['$topN keeps null and missing (as null) in sort order', { $topN: { n: 3, sortBy: { v: 1 }, output: '$v' } }, [null, null, 1]],
    ['$topN returns an array of n', { $topN: { n: 2, sortBy: { v: -1 }, output: '$k' } }, ['a', 'e']],
    ['$bottomN returns the last n in sort order', { $bottomN: { n: 2, sortBy: { v: 1 }, output: '$k' } }, ['e', 'a']],
    ['$topN with n above the group size', { $topN: { n: 9, sortBy: { k: -1 }, output: '$k' } }, ['e', 'd', 'c', 'b', 'a']],
    ['$firstN keeps missing as null', { $firstN: { n: 3, input: '$v' } }, [3, null, null]],
    ['$lastN', { $lastN: { n: 2, input: '$k' } }, ['d', 'e']],
    ['$maxN skips null and missing', { $maxN: { n: 3, input: '$v' } }, [3, 2, 1]],
    ['$minN skips null and missing', { $minN: { n: 10, input: '$v' } }, [1, 2, 3]],
    ['$mergeObjects merges documents, later fields win', { $mergeObjects: { k: '$k' } }, { k: 'e' }],
    ['$push skips missing values', { $push: '$v' }, [3, null, 1, 2]],
    ['$max across types', { $max: { $cond: [{ $eq: ['$k', 'a'] }, [1], { x: 1 }] } }, [1]],
    ['$count', { $count: {} }, 5],
  ])('manual %s', async (_what, accumulator, expected) => {
    expect(await accumulate(accumulator, SCORES)).toEqual(expected);
  });

  it.each([
    ['$topN without n', { $topN: { sortBy: { v: 1 }, output: '$v' } }],
    ['$topN with n 0', { $topN: { n: 0, sortBy: { v: 1 }, output: '$v' } }],
    ['$top with n', { $top: { n: 1, sortBy: { v: 1 }, output: '$v' } }],
    ['$firstN with a fractional n', { $firstN: { n: 1.5, input: '$v' } }],
  ])('manual: refuses %s', (_what, accumulator) => {
    const stage = { $tumblingWindow: { interval: { size: 1, unit: 'second' }, pipeline: [{ $group: { _id: null, r: accumulator } }] } };
    expect(refusal(streamOf([], [stage]))).toBeDefined();
  });
});

describe('manual: $bsonSize, $toDate', () => {
  it('manual $bsonSize: the size in bytes of a document', async () => {
    expect(await evaluate({ $bsonSize: { a: 1 } })).toBe(12);
  });

  it('manual $bsonSize: null for null or missing', async () => {
    expect(await evaluate({ $bsonSize: '$missing' })).toBeNull();
  });

  it('manual $bsonSize: a non-document input sends the document to the DLQ', async () => {
    await expect(evaluate({ $bsonSize: 'x' })).rejects.toThrow('$bsonSize');
  });

  it.each([
    ['2024-01-01T10:00:00+02:00', '2024-01-01T08:00:00.000Z'],
    ['2024-01-01T10:00:00.000-0530', '2024-01-01T15:30:00.000Z'],
    ['2024-01-01T10:00:00Z', '2024-01-01T10:00:00.000Z'],
    ['2024-01-01', '2024-01-01T00:00:00.000Z'],
  ])('manual $toDate: reads "%s" with its offset', async (input, expected) => {
    expect(await evaluate({ $toDate: input })).toEqual(new Date(expected));
  });
});

describe('sp-agg-convert: binData and numbers', () => {
  it.each([
    ['4 bytes to int, little-endian by default', { input: bin(1, 0, 0, 0), to: 'int' }, 1],
    ['4 bytes to int, big-endian', { input: bin(0, 0, 0, 1), to: 'int', byteOrder: 'big' }, 1],
    ['2 bytes to int', { input: bin(0xff, 0xff), to: 'int' }, -1],
    ['1 byte to long', { input: bin(7), to: 'long' }, Long.fromNumber(7)],
    ['8 bytes to double', { input: new Binary(Buffer.from(new Float64Array([1.5]).buffer)), to: 'double' }, 1.5],
    ['4 bytes to double as single precision', { input: new Binary(Buffer.from(new Float32Array([0.5]).buffer)), to: 'double' }, 0.5],
    ['binData to string as utf8', { input: new Binary(Buffer.from('héllo')), to: 'string', format: 'utf8' }, 'héllo'],
    ['binData to string as hex', { input: bin(0xab, 0x01), to: 'string', format: 'hex' }, 'ab01'],
    ['binData to string as base64 by default', { input: bin(1, 2, 3), to: 'string', format: 'base64' }, 'AQID'],
  ])('sp-agg-convert: %s', async (_what, args, expected) => {
    expect(await evaluate({ $convert: args })).toEqual(expected);
  });

  it.each([
    ['an int to 4 bytes, little-endian', { input: 258, to: 'binData' }, '02010000'],
    ['an int to 4 bytes, big-endian', { input: 258, to: 'binData', byteOrder: 'big' }, '00000102'],
    ['a long to 8 bytes', { input: Long.fromNumber(1), to: 'binData', byteOrder: 'big' }, '0000000000000001'],
    ['a double to 8 bytes', { input: 1.5, to: 'binData', byteOrder: 'big' }, '3ff8000000000000'],
    ['a hex string to binData', { input: 'cafe', to: 'binData', format: 'hex' }, 'cafe'],
  ])('sp-agg-convert: %s', async (_what, args, expected) => {
    expect(hex(await evaluate({ $convert: args }))).toBe(expected);
  });

  it('sp-agg-convert: binData of the wrong length for int is an error that onError catches', async () => {
    expect(await evaluate({ $convert: { input: bin(1, 2, 3), to: 'int', onError: 'bad' } })).toBe('bad');
    await expect(evaluate({ $convert: { input: bin(1, 2, 3), to: 'int' } })).rejects.toThrow('length 3');
  });

  it('sp-agg-convert: a uuid string round-trips through binData', async () => {
    const id = '8f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f';
    expect(await evaluate({ $convert: { input: { $convert: { input: id, to: 'binData', format: 'uuid' } }, to: 'string', format: 'uuid' } })).toBe(id);
  });

  it('sp-agg-convert: refuses an unknown byteOrder', () => {
    expect(refusal(streamOf([], [{ $project: { v: { $convert: { input: 1, to: 'binData', byteOrder: 'middle' } } } }]))).toContain('byteOrder');
  });

  it('manual $convert: conversions between other types still follow the manual', async () => {
    expect(await evaluate({ $convert: { input: '12', to: 'int' } })).toBe(12);
  });
});

describe('Atlas Stream Processing expressions', () => {
  it('sp-agg-createUUID: returns a UUID (binData subtype 4)', async () => {
    const v = await evaluate({ $createUUID: {} });
    expect(v).toBeInstanceOf(Binary);
    expect((v as Binary).sub_type).toBe(4);
    expect(new UUID((v as Binary).buffer).toHexString()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sp-agg-createUUID: takes no arguments', () => {
    expect(refusal(streamOf([], [{ $project: { v: { $createUUID: { x: 1 } } } }]))).toContain('$createUUID');
  });

  it('sp-agg-currentDate: the system time when evaluated', async () => {
    const before = Date.now();
    const v = await evaluate({ $currentDate: {} });
    expect(v).toBeInstanceOf(Date);
    expect((v as Date).getTime()).toBeGreaterThanOrEqual(before);
  });

  it('sp-agg-function: $function is refused at start (AWS workspaces only)', () => {
    expect(refusal(streamOf([], [{ $project: { v: { $function: { body: 'function() { return 1; }', args: [], lang: 'js' } } } }]))).toContain('$function');
  });

  it('stream-aggregation: $$NOW is not supported', () => {
    expect(refusal(streamOf([], [{ $project: { v: '$$NOW' } }]))).toContain('$$NOW');
  });
});
