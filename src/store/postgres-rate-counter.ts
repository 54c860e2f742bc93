// Rate-limit windows in PostgreSQL: an upsert outside any transaction (a count needs no
// isolation, and one statement is atomic). Windows are aligned to the clock so that every
// node agrees on when one begins.
//
// A caller's requests all count on one row, so their upserts queue on its lock: one upsert per
// request made that row, and the round trips to it, the limit of a busy node. Hits on a key
// while its upsert is on its way are therefore counted together by the next one (count + n,
// statement-batches.ts), and each gets the count it would have had alone: the same numbers,
// one round trip per batch.
import type pg from 'pg';
import type { RateCounter, RateWindow } from './rate-counter.js';
import { StatementBatches } from './statement-batches.js';

/** Hits on one key in one window, counted by one upsert. */
interface Hits {
  key: string;
  start: number;
  hits: number;
}

export function postgresRateCounter(pool: pg.Pool): RateCounter {
  // One lane per key (its upserts would queue on its row), one batch per window of it.
  const batches = new StatementBatches(async (batch: Hits): Promise<number> => {
    const { rows } = await pool.query<{ count: string }>(
      `INSERT INTO rate_windows (key, window_start, count) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN rate_windows.window_start = EXCLUDED.window_start THEN rate_windows.count + EXCLUDED.count ELSE EXCLUDED.count END,
         window_start = EXCLUDED.window_start
       RETURNING count`, [batch.key, batch.start, batch.hits]);
    return Number(rows[0]!.count);
  });

  return {
    hit(key, nowMs, windowMs): Promise<RateWindow> {
      const start = nowMs - (nowMs % windowMs);
      const { items, sent } = batches.join(key, `${start}\n${key}`, () => ({ key, start, hits: 0 }));
      const place = ++items.hits;
      return sent.then((count) => ({ start, count: count - items.hits + place }));
    },
  };
}

/** Forgets windows that ended (the periodic sweep). */
export async function sweepRateWindows(pool: pg.Pool, nowMs: number, windowMs: number): Promise<void> {
  await pool.query('DELETE FROM rate_windows WHERE window_start < $1', [nowMs - windowMs]);
}
