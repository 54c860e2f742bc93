// Live processor output across nodes: an API node that is asked to follow a processor running
// elsewhere registers a watch; the runner holding the processor copies its output into
// processor_output while a watch lasts; the API node reads it from there. Nothing is copied
// while nobody watches.
import type pg from 'pg';

const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
/** Rows kept per processor: followers that fall further behind miss the oldest. */
const KEEP_ROWS = 1000;

/** Registers (or extends) a watch; it lapses `forMs` later unless renewed. */
export async function renewWatch(pool: pg.Pool, processorId: string, forMs: number): Promise<void> {
  await pool.query(`INSERT INTO processor_watches (processor_id, until_ms) VALUES ($1, ${NOW_MS} + $2)
    ON CONFLICT (processor_id) DO UPDATE SET until_ms = GREATEST(processor_watches.until_ms, EXCLUDED.until_ms)`, [processorId, forMs]);
}

export async function watchedProcessors(pool: pg.Pool, processorIds: string[]): Promise<Set<string>> {
  if (processorIds.length === 0) return new Set();
  const { rows } = await pool.query<{ processor_id: string }>(
    `SELECT processor_id FROM processor_watches WHERE processor_id = ANY($1::text[]) AND until_ms > ${NOW_MS}`, [processorIds]);
  return new Set(rows.map((r) => r.processor_id));
}

/** Appends documents (Extended JSON text) and trims the processor's oldest rows. */
export async function appendOutput(pool: pg.Pool, processorId: string, docs: string[]): Promise<void> {
  if (docs.length === 0) return;
  await pool.query('INSERT INTO processor_output (processor_id, doc) SELECT $1, unnest($2::text[])', [processorId, docs]);
  await pool.query(`DELETE FROM processor_output WHERE processor_id = $1 AND seq <= (
    SELECT seq FROM processor_output WHERE processor_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)`, [processorId, KEEP_ROWS]);
}

/** Where a new follower starts: after everything already kept. */
export async function latestOutputSeq(pool: pg.Pool, processorId: string): Promise<number> {
  const { rows } = await pool.query<{ seq: string | null }>('SELECT max(seq) AS seq FROM processor_output WHERE processor_id = $1', [processorId]);
  return Number(rows[0]?.seq ?? 0);
}

/** Output after `afterSeq`, oldest first. */
export async function readOutput(pool: pg.Pool, processorId: string, afterSeq: number): Promise<Array<{ seq: number; doc: string }>> {
  const { rows } = await pool.query<{ seq: string; doc: string }>(
    'SELECT seq, doc FROM processor_output WHERE processor_id = $1 AND seq > $2 ORDER BY seq LIMIT 500', [processorId, afterSeq]);
  return rows.map((r) => ({ seq: Number(r.seq), doc: r.doc }));
}
