// Atlas's Ratelimit-* headers: a fixed one-minute window per caller and resource family.
// Counting is per process; refusing past the limit is opt-in (see docs/differences-from-atlas.md).
import type { OperationSpec } from '../protocol/operation-spec.js';
import { ApiError } from './errors.js';

const WINDOW_MS = 60_000;
/** Streams allows 1200 requests a minute; other families use Atlas's general default. */
const LIMITS: Record<string, number> = { Streams: 1200 };
const DEFAULT_LIMIT = 1200;

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly enforce: boolean, private readonly now: () => number = Date.now) {}

  /** Counts one request and returns the headers to send; throws RATE_LIMITED when enforcing and over. */
  take(callerId: string, operation: OperationSpec): Record<string, string> {
    const limit = LIMITS[operation.tag] ?? DEFAULT_LIMIT;
    const key = `${callerId}\u0000${operation.tag}`;
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= WINDOW_MS) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 10_000) this.evictOld(now);
    }
    window.count += 1;
    if (this.enforce && window.count > limit) {
      const retryAfter = Math.ceil((window.start + WINDOW_MS - now) / 1000);
      throw new ApiError('RATE_LIMITED', [operation.tag, limit, 1], undefined, { 'Retry-After': String(retryAfter) });
    }
    return { 'Ratelimit-Limit': String(limit), 'Ratelimit-Remaining': String(Math.max(0, limit - window.count)) };
  }

  private evictOld(now: number): void {
    for (const [key, window] of this.windows) if (now - window.start >= WINDOW_MS) this.windows.delete(key);
  }
}
