// Digest nonce uses in PostgreSQL, shared by every node: an answer used at one is refused at
// all. Marks are rows of the entities table (kind, id, expires_at), written outside any store
// transaction: one statement is atomic, and nothing reads them (the generation stays as it was;
// the periodic sweep deletes expired ones).
//
// One transaction per use made the database the limit of a busy node, as one upsert per request
// did for rate counts (postgres-rate-counter.ts). So uses that arrive while a statement is on its
// way go together in the next one (statement-batches.ts): one round trip per batch, each use
// told whether its row was the one inserted.
import type pg from 'pg';
import type { ReplayLedger } from './replay-ledger.js';
import { StatementBatches } from './statement-batches.js';

/** Each id of a batch and its expiry (epoch ms). */
type Marks = Map<string, number>;

export function postgresReplayLedger(pool: pg.Pool, kind: string): ReplayLedger {
  // One lane and one open batch: every use goes in the next statement. Its result is the ids of
  // the batch that were new to the table.
  const batches = new StatementBatches(async (marks: Marks): Promise<Set<string>> => {
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO entities (kind, id, parent_id, name, seq, expires_at, doc)
       SELECT $1, mark.id, '', NULL, nextval('entities_seq_gen'), mark.expires_at, '{}'
       FROM unnest($2::text[], $3::bigint[]) AS mark(id, expires_at)
       ON CONFLICT DO NOTHING RETURNING id`, [kind, [...marks.keys()], [...marks.values()]]);
    return new Set(rows.map((row) => row.id));
  });
  const newMarks = (): Marks => new Map();

  return {
    completeSinceMs: 0,
    firstUse(id, expiresAtMs) {
      const { items: marks, sent } = batches.join('', '', newMarks);
      // A second use of an id in one batch is a replay whatever the table says of the first.
      if (marks.has(id)) return false;
      marks.set(id, expiresAtMs);
      return sent.then((inserted) => inserted.has(id));
    },
  };
}
