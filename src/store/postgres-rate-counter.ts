// Rate-limit windows in PostgreSQL: one upsert per request, outside any transaction (a count
// needs no isolation, and one statement is atomic). Windows are aligned to the clock so that
// every node agrees on when one begins.
import type pg from 'pg';
import type { RateCounter } from './rate-counter.js';

export function postgresRateCounter(pool: pg.Pool): RateCounter {
  return {
    async hit(key, nowMs, windowMs) {
      const start = nowMs - (nowMs % windowMs);
      const { rows } = await pool.query<{ count: string }>(
        `INSERT INTO rate_windows (key, window_start, count) VALUES ($1, $2, 1)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN rate_windows.window_start = EXCLUDED.window_start THEN rate_windows.count + 1 ELSE 1 END,
           window_start = EXCLUDED.window_start
         RETURNING count`, [key, start]);
      return { start, count: Number(rows[0]!.count) };
    },
  };
}

/** Forgets windows that ended (the periodic sweep). */
export async function sweepRateWindows(pool: pg.Pool, nowMs: number, windowMs: number): Promise<void> {
  await pool.query('DELETE FROM rate_windows WHERE window_start < $1', [nowMs - windowMs]);
}
