// Rate-limit windows in PostgreSQL: an upsert outside any transaction (a count needs no
// isolation, and one statement is atomic). Windows are aligned to the clock so that every
// node agrees on when one begins.
//
// A caller's requests all count on one row, so their upserts queue on its lock: one upsert per
// request made that row, and the round trips to it, the limit of a busy node. Hits on a key
// while its upsert is on its way are therefore counted together by the next one (count + n),
// and each gets the count it would have had alone: the same numbers, one round trip per batch.
import type pg from 'pg';
import type { RateCounter, RateWindow } from './rate-counter.js';

interface Batch {
  hits: number;
  /** The window's count once the batch's upsert committed. */
  counted: Promise<number>;
}

export function postgresRateCounter(pool: pg.Pool): RateCounter {
  /** Batches still taking hits, by window start and key. */
  const open = new Map<string, Batch>();
  /** The last upsert sent or queued per key: the next batch goes after it. */
  const tails = new Map<string, Promise<unknown>>();

  const upsert = async (key: string, start: number, hits: number): Promise<number> => {
    const { rows } = await pool.query<{ count: string }>(
      `INSERT INTO rate_windows (key, window_start, count) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN rate_windows.window_start = EXCLUDED.window_start THEN rate_windows.count + EXCLUDED.count ELSE EXCLUDED.count END,
         window_start = EXCLUDED.window_start
       RETURNING count`, [key, start, hits]);
    return Number(rows[0]!.count);
  };

  return {
    hit(key, nowMs, windowMs): Promise<RateWindow> {
      const start = nowMs - (nowMs % windowMs);
      const batchId = `${start}\n${key}`;
      let batch = open.get(batchId);
      if (!batch) {
        const made: Batch = { hits: 0, counted: Promise.resolve(0) };
        const sent = (tails.get(key) ?? Promise.resolve()).then(() => {
          open.delete(batchId);
          return upsert(key, start, made.hits);
        });
        made.counted = sent;
        const tail = sent.catch(() => undefined).finally(() => {
          if (tails.get(key) === tail) tails.delete(key);
        });
        tails.set(key, tail);
        open.set(batchId, (batch = made));
      }
      const taken = batch;
      const place = ++taken.hits;
      return taken.counted.then((count) => ({ start, count: count - taken.hits + place }));
    },
  };
}

/** Forgets windows that ended (the periodic sweep). */
export async function sweepRateWindows(pool: pg.Pool, nowMs: number, windowMs: number): Promise<void> {
  await pool.query('DELETE FROM rate_windows WHERE window_start < $1', [nowMs - windowMs]);
}
