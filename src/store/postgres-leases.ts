// Processor leases in PostgreSQL: which runner runs which started processor, until when, and
// under which epoch. A claim bumps the epoch, so a runner that lost its lease (it stalled, or
// lost the database, past the expiry) can no longer write a checkpoint: the write checks the
// epoch under a row lock that the takeover's UPDATE also needs. Times are the database's
// clock, so that runners on hosts whose clocks differ still agree on expiry.
import type pg from 'pg';

/** The channel API nodes notify on a start, stop or delete, so that runners act at once. */
export const PROCESSOR_CHANNEL = 'atlas_streams_processors';

const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export interface Lease {
  processorId: string;
  epoch: number;
}

export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
}

export function leaseStore(pool: pg.Pool, runnerId: string, ttlMs: number) {
  return {
    /** Records that this runner is alive; returns how many runners are (this one included). */
    async heartbeat(): Promise<number> {
      await pool.query(`INSERT INTO runners (id, heartbeat_at) VALUES ($1, ${NOW_MS})
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at`, [runnerId]);
      const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM runners WHERE heartbeat_at > ${NOW_MS} - $1`, [ttlMs]);
      return Number(rows[0]!.n);
    },

    /**
     * Extends every lease this runner holds; returns them (a lease taken over is not among them).
     * A lease that lapsed but that nobody claimed is still ours: a claim changes runner_id.
     */
    async renew(): Promise<Lease[]> {
      const { rows } = await pool.query<{ processor_id: string; epoch: string }>(
        `UPDATE processor_leases SET expires_at = ${NOW_MS} + $2 WHERE runner_id = $1 RETURNING processor_id, epoch`, [runnerId, ttlMs]);
      return rows.map((r) => ({ processorId: r.processor_id, epoch: Number(r.epoch) }));
    },

    /**
     * Takes up to `limit` of the given processors whose lease is free or expired. SKIP LOCKED:
     * runners claiming at the same moment take different processors instead of queueing.
     */
    async claim(processorIds: string[], limit: number): Promise<Lease[]> {
      if (processorIds.length === 0 || limit <= 0) return [];
      const client = await pool.connect();
      try {
        await client.query('INSERT INTO processor_leases (processor_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING', [processorIds]);
        await client.query('BEGIN');
        const { rows } = await client.query<{ processor_id: string; epoch: string }>(
          `UPDATE processor_leases SET runner_id = $1, epoch = epoch + 1, expires_at = ${NOW_MS} + $2, stats = NULL
           WHERE processor_id IN (
             SELECT processor_id FROM processor_leases
             WHERE processor_id = ANY($3::text[]) AND (runner_id IS NULL OR expires_at <= ${NOW_MS})
             ORDER BY processor_id LIMIT $4 FOR UPDATE SKIP LOCKED)
           RETURNING processor_id, epoch`, [runnerId, ttlMs, processorIds, limit]);
        await client.query('COMMIT');
        return rows.map((r) => ({ processorId: r.processor_id, epoch: Number(r.epoch) }));
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    /** Gives a lease up (the processor stopped here) so that any runner may claim it at once. */
    async release(lease: Lease): Promise<void> {
      await pool.query('UPDATE processor_leases SET runner_id = NULL, expires_at = 0, stats = NULL WHERE processor_id = $1 AND runner_id = $2 AND epoch = $3',
        [lease.processorId, runnerId, lease.epoch]);
    },

    /**
     * Runs write inside a transaction that holds the lease row, only while the lease is this
     * runner's at this epoch; ends it with commit's statement (commitStatement, once written).
     */
    async fenced<T>(lease: Lease, write: (client: pg.PoolClient) => Promise<T>, commit: () => string = () => 'COMMIT'): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rowCount } = await client.query('SELECT 1 FROM processor_leases WHERE processor_id = $1 AND runner_id = $2 AND epoch = $3 FOR SHARE',
          [lease.processorId, runnerId, lease.epoch]);
        if (!rowCount) throw new LeaseLostError(`runner ${runnerId} no longer holds processor ${lease.processorId} at epoch ${lease.epoch}`);
        const result = await write(client);
        await client.query(commit());
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    /** Publishes a running processor's stats where every API node reads them. */
    async publishStats(lease: Lease, stats: unknown): Promise<void> {
      await pool.query('UPDATE processor_leases SET stats = $1 WHERE processor_id = $2 AND runner_id = $3 AND epoch = $4',
        [JSON.stringify(stats), lease.processorId, runnerId, lease.epoch]);
    },
  };
}

export type LeaseStore = ReturnType<typeof leaseStore>;

export interface LeaseView {
  processorId: string;
  runnerId: string;
  epoch: number;
  stats?: unknown;
}

/** Every live lease, for the API nodes' view of what runs where. */
export async function liveLeases(pool: pg.Pool): Promise<LeaseView[]> {
  const { rows } = await pool.query<{ processor_id: string; runner_id: string; epoch: string; stats: string | null }>(
    `SELECT processor_id, runner_id, epoch, stats FROM processor_leases WHERE runner_id IS NOT NULL AND expires_at > ${NOW_MS}`);
  return rows.map((r) => ({
    processorId: r.processor_id, runnerId: r.runner_id, epoch: Number(r.epoch),
    ...(r.stats ? { stats: JSON.parse(r.stats) as unknown } : {}),
  }));
}

export async function notifyProcessorChange(pool: pg.Pool, processorId: string): Promise<void> {
  await pool.query('SELECT pg_notify($1, $2)', [PROCESSOR_CHANNEL, processorId]);
}

/** Calls onChange on every notification until the returned stop is called. */
export async function listenProcessorChanges(pool: pg.Pool, onChange: (processorId: string) => void): Promise<() => Promise<void>> {
  const client = await pool.connect();
  client.on('notification', (message) => onChange(message.payload ?? ''));
  // A dropped connection ends the subscription; the runner's heartbeat still polls, so
  // changes are only picked up later, never missed.
  client.on('error', () => undefined);
  await client.query(`LISTEN ${PROCESSOR_CHANNEL}`);
  return async () => {
    await client.query(`UNLISTEN ${PROCESSOR_CHANNEL}`).catch(() => undefined);
    client.release(true);
  };
}
