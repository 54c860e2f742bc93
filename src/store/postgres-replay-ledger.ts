// Digest nonce uses in PostgreSQL, shared by every node: an answer used at one is refused at
// all. Marks are rows of the entities table (kind, id, expires_at), written outside any store
// transaction: one statement is atomic, and nothing reads them (the generation stays as it was;
// the periodic sweep deletes expired ones).
//
// One transaction per use made the database the limit of a busy node, as one upsert per request
// did for rate counts (postgres-rate-counter.ts). So uses that arrive while a statement is on its
// way go together in the next one: one round trip per batch, each use told whether its row was
// the one inserted.
import type pg from 'pg';
import type { ReplayLedger } from './replay-ledger.js';

interface Batch {
  /** Each id's expiry (epoch ms). */
  marks: Map<string, number>;
  /** The ids of the batch that were new to the table, once its statement committed. */
  inserted?: Promise<Set<string>>;
}

export function postgresReplayLedger(pool: pg.Pool, kind: string): ReplayLedger {
  /** The batch still taking uses; undefined when none is waiting to be sent. */
  let open: Batch | undefined;
  /** The last statement sent: the next batch goes after it. */
  let previous: Promise<unknown> = Promise.resolve();

  const insert = async (batch: Batch): Promise<Set<string>> => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO entities (kind, id, parent_id, name, seq, expires_at, doc)
       SELECT $1, mark.id, '', NULL, nextval('entities_seq_gen'), mark.expires_at, '{}'
       FROM unnest($2::text[], $3::bigint[]) AS mark(id, expires_at)
       ON CONFLICT DO NOTHING RETURNING id`, [kind, [...batch.marks.keys()], [...batch.marks.values()]]);
    return new Set(rows.map((row) => row.id));
  };

  return {
    completeSinceMs: 0,
    firstUse(id, expiresAtMs) {
      let batch = open;
      if (!batch) {
        const made: Batch = { marks: new Map() };
        made.inserted = previous.then(() => {
          open = undefined;
          return insert(made);
        });
        previous = made.inserted.catch(() => undefined);
        open = batch = made;
      }
      // A second use of an id in one batch is a replay whatever the table says of the first.
      if (batch.marks.has(id)) return false;
      batch.marks.set(id, expiresAtMs);
      return batch.inserted!.then((inserted) => inserted.has(id));
    },
  };
}
