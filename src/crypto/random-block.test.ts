import { describe, expect, it } from 'vitest';
import { fillRandom, randomBytesFromBlock } from './random-block.js';

describe('random bytes from a block', () => {
  it('never hands out the same bytes twice, across refills of the block', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(randomBytesFromBlock(8).toString('hex'));
    expect(seen.size).toBe(2000);
  });

  it('writes only the range asked for, small or large', () => {
    for (const count of [6, 100]) {
      const target = Buffer.alloc(count + 8, 0xaa);
      fillRandom(target, 4, count);
      expect([...target.subarray(0, 4), ...target.subarray(4 + count)]).toEqual(Array(8).fill(0xaa));
      expect(target.subarray(4, 4 + count).equals(Buffer.alloc(count, 0xaa))).toBe(false);
    }
  });
});
