// Atlas's Ratelimit-* headers: a fixed one-minute window per caller and resource family.
// Counts go to a RateCounter: per process, or shared by every node on PostgreSQL. Refusing
// past the limit is opt-in (see docs/differences-from-atlas.md).
import type { OperationSpec } from '../protocol/operation-spec.js';
import { memoryRateCounter, type RateCounter, type RateWindow } from '../store/rate-counter.js';
import { ApiError } from './errors.js';
import { andThen, type MaybePromise } from './maybe-promise.js';

export const RATE_WINDOW_MS = 60_000;
/** Streams allows 1200 requests a minute; other families use Atlas's general default. */
const LIMITS: Record<string, number> = { Streams: 1200 };
const DEFAULT_LIMIT = 1200;

export class RateLimiter {
  constructor(
    private readonly enforce: boolean,
    private readonly now: () => number = Date.now,
    private readonly counter: RateCounter = memoryRateCounter(),
  ) {}

  /**
   * Counts one request and returns the headers to send (at once when the counter answers at
   * once); throws RATE_LIMITED when enforcing and over.
   */
  take(callerId: string, operation: OperationSpec): MaybePromise<Record<string, string>> {
    const limit = LIMITS[operation.tag] ?? DEFAULT_LIMIT;
    const now = this.now();
    const window = this.counter.hit(`${callerId}:${operation.tag}`, now, RATE_WINDOW_MS);
    return andThen(window, (w) => this.headers(w, limit, now, operation));
  }

  private headers(window: RateWindow, limit: number, now: number, operation: OperationSpec): Record<string, string> {
    if (this.enforce && window.count > limit) {
      const retryAfter = Math.ceil((window.start + RATE_WINDOW_MS - now) / 1000);
      throw new ApiError('RATE_LIMITED', [operation.tag, limit, 1], undefined, { 'Retry-After': String(retryAfter) });
    }
    return { 'Ratelimit-Limit': String(limit), 'Ratelimit-Remaining': String(Math.max(0, limit - window.count)) };
  }
}
