import { afterEach, describe, expect, it, vi } from 'vitest';
import { trimMemoryWhenIdle } from './idle-memory.js';

describe('trimMemoryWhenIdle', () => {
  afterEach(() => {
    vi.useRealTimers();
    delete (globalThis as { gc?: unknown }).gc;
  });

  it('after a burst, collects fully once the requests stopped for a minute, then the young generation 6 s later, with the global gc of a process started with --expose-gc', () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    (globalThis as { gc?: unknown }).gc = gc;
    const trim = trimMemoryWhenIdle();
    try {
      // A burst: 1,000 requests a second for 3 s; nothing is collected while it lasts.
      for (let second = 0; second < 3; second++) {
        for (let i = 0; i < 1000; i++) trim.noteRequest();
        vi.advanceTimersByTime(1000);
      }
      expect(gc).not.toHaveBeenCalled();
      // Bursts less than a minute apart keep their heap: the next one would pay for a collection.
      vi.advanceTimersByTime(50_000);
      for (let i = 0; i < 1000; i++) trim.noteRequest();
      vi.advanceTimersByTime(59_000);
      expect(gc).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1500);
      expect(gc.mock.calls).toEqual([[]]);
      // A probe every 2 s still counts as quiet.
      for (let i = 0; i < 3; i++) {
        trim.noteRequest();
        vi.advanceTimersByTime(2000);
      }
      expect(gc.mock.calls).toEqual([[], [{ type: 'minor' }]]);
      // Nothing more until the next burst.
      vi.advanceTimersByTime(30_000);
      expect(gc).toHaveBeenCalledTimes(2);
    } finally {
      trim.stop();
    }
  });
});
