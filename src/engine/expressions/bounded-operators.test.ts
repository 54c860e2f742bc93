// The expression caps at the level they act: a value too large is refused BEFORE it is
// allocated, with MongoDB's message where MongoDB has one, in compiled and mingo operators
// alike (inside $reduce/$map everything runs in mingo).
import { describe, expect, it } from 'vitest';
import { compileExpression } from './compile-expression.js';
import { MAX_ARRAY_ELEMENTS, MAX_BSON_BYTES } from '../limits.js';

const evaluate = (expr: unknown, doc: Record<string, unknown> = {}) => compileExpression(expr)(doc);

describe('expression caps', () => {
  it('refuses a $range past MongoDB memory limit, compiled or inside $reduce, $map and $size', () => {
    const message = /^\$range would use too much memory \(16000000000 bytes\) and cannot spill to disk\. Memory limit: 67108864 bytes$/;
    expect(() => evaluate({ $size: { $range: [0, 1_000_000_000] } })).toThrow(message);
    expect(() => evaluate({ $map: { input: { $range: [0, 1_000_000_000] }, in: '$$this' } })).toThrow(message);
    expect(() => evaluate({ $reduce: { input: { $range: [0, 1_000_000_000] }, initialValue: 0, in: { $add: ['$$value', 1] } } })).toThrow(message);
    // Just under the cap is allowed, as in MongoDB.
    expect(evaluate({ $size: { $range: [0, MAX_ARRAY_ELEMENTS] } })).toBe(MAX_ARRAY_ELEMENTS);
    expect(evaluate({ $range: [0, 10, 3] })).toEqual([0, 3, 6, 9]);
  });

  it('refuses strings past 16 MB from $concat, $replaceAll and doubling inside $reduce', () => {
    const big = 'x'.repeat(MAX_BSON_BYTES / 2 + 1);
    expect(() => evaluate({ $concat: ['$s', '$s'] }, { s: big })).toThrow(/^\$concat: string of 16777218 characters exceeds the maximum BSON size of 16777216 bytes$/);
    expect(() => evaluate({ $reduce: { input: { $range: [0, 40] }, initialValue: 'ab', in: { $concat: ['$$value', '$$value'] } } }))
      .toThrow(/^\$concat: string of \d+ characters exceeds the maximum BSON size/);
    expect(() => evaluate({ $replaceAll: { input: '$s', find: 'x', replacement: 'yy' } }, { s: big }))
      .toThrow(/^\$replaceAll: string of \d+ characters exceeds the maximum BSON size/);
    expect(evaluate({ $replaceAll: { input: 'a-b-c', find: '-', replacement: '+' } })).toBe('a+b+c');
    expect(evaluate({ $concat: ['a', '$s'] }, { s: 'b' })).toBe('ab');
  });

  it('refuses arrays past the cap from $concatArrays and $split, and counts code points without copying', () => {
    const half = Array.from({ length: MAX_ARRAY_ELEMENTS / 2 + 1 }, () => 0);
    expect(() => evaluate({ $concatArrays: ['$a', '$a'] }, { a: half })).toThrow(/^\$concatArrays would build an array of 4194306 elements/);
    expect(() => evaluate({ $reduce: { input: [1, 2], initialValue: '$a', in: { $concatArrays: ['$$value', '$$value'] } } }, { a: half }))
      .toThrow(/^\$concatArrays would build an array/);
    expect(() => evaluate({ $split: ['$s', ','] }, { s: ','.repeat(MAX_ARRAY_ELEMENTS) })).toThrow(/^\$split would build an array/);
    expect(evaluate({ $concatArrays: [[1], [2, 3]] })).toEqual([1, 2, 3]);
    expect(evaluate({ $strLenCP: 'a😀b' })).toBe(3);
  });
});
