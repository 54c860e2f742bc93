// Request counts per caller and one-minute window, for Atlas's rate limits. In one process
// a Map will do; nodes sharing PostgreSQL count in the database (postgres-rate-counter.ts)
// so that a caller spreading requests over nodes meets the same limit.

export interface RateWindow {
  /** Epoch ms at which the window began. */
  start: number;
  /** Requests counted in it, this one included. */
  count: number;
}

export interface RateCounter {
  /**
   * Counts one request under key; a window older than windowMs starts afresh. In one process
   * the answer comes at once (no promise for every request to make and await).
   */
  hit(key: string, nowMs: number, windowMs: number): RateWindow | Promise<RateWindow>;
}

const MAX_KEYS = 10_000;

export function memoryRateCounter(): RateCounter {
  const windows = new Map<string, RateWindow>();
  return {
    hit(key, nowMs, windowMs) {
      let window = windows.get(key);
      if (!window || nowMs - window.start >= windowMs) {
        window = { start: nowMs, count: 0 };
        windows.set(key, window);
        if (windows.size > MAX_KEYS) {
          for (const [k, w] of windows) if (nowMs - w.start >= windowMs) windows.delete(k);
        }
      }
      window.count += 1;
      return { ...window };
    },
  };
}
