import { describe, expect, it } from 'vitest';
import { isoTime } from './iso-time.js';

describe('isoTime', () => {
  it('writes what toISOString writes, across seconds, years and out of order', () => {
    const times = [Date.UTC(2026, 11, 2, 3, 4, 5, 6), Date.UTC(2026, 11, 2, 3, 4, 5, 60), Date.UTC(2026, 11, 2, 3, 4, 5, 999),
      Date.UTC(2026, 11, 2, 3, 4, 6, 0), Date.UTC(2026, 11, 2, 3, 4, 5, 7), Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(2000, 0, 1), 0, 1, 1234.5, Date.now(), Date.UTC(2028, 1, 29, 12, 0, 0, 42)];
    for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('writes times outside 0000-9999 and before 1970 as toISOString does', () => {
    for (const ms of [-1, -86_400_001, 253_402_300_800_000, 8.64e15]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});
