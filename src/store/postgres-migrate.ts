// Schema migrations on PostgreSQL: the same steps SQLite applies, run under an advisory lock
// so that several nodes starting together apply each step exactly once (the others wait on
// the lock, then find the steps recorded).
import type { PoolClient } from 'pg';
import { migrations } from './migrations.js';

/** Arbitrary, fixed: the lock's key, combined with the schema so that schemas migrate independently. */
const LOCK_KEY = 0x41545353;

/**
 * PostgreSQL-only objects, recreated idempotently after the shared steps: sequences give
 * concurrent transactions creation-order numbers without reading MAX(seq) (which would make
 * every two inserts conflict under SERIALIZABLE), and count the writes every node's caches
 * follow (the store's generations, postgres.ts).
 */
const POSTGRES_OBJECTS = `
  CREATE SEQUENCE IF NOT EXISTS entities_seq_gen;
  CREATE SEQUENCE IF NOT EXISTS audit_chunks_seq_gen;
  CREATE SEQUENCE IF NOT EXISTS entity_generation;
  CREATE SEQUENCE IF NOT EXISTS identity_generation;`;

/**
 * Steps only PostgreSQL needs (what nodes share beyond entities), numbered from 1001 in the
 * same schema_migrations table so that they never collide with the shared steps. Append only.
 */
const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE TABLE rate_windows (key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, count BIGINT NOT NULL)`,
  `CREATE TABLE runners (id TEXT PRIMARY KEY, heartbeat_at BIGINT NOT NULL);
   CREATE TABLE processor_leases (
     processor_id TEXT PRIMARY KEY,
     runner_id TEXT,
     epoch BIGINT NOT NULL DEFAULT 0,
     expires_at BIGINT NOT NULL DEFAULT 0,
     stats TEXT
   );`,
  `CREATE TABLE processor_watches (processor_id TEXT PRIMARY KEY, until_ms BIGINT NOT NULL);
   CREATE TABLE processor_output (seq BIGSERIAL PRIMARY KEY, processor_id TEXT NOT NULL, doc TEXT NOT NULL);
   CREATE INDEX processor_output_by_processor ON processor_output (processor_id, seq);`,
  // Checkpoint state and other large values: in the database, so that any runner can resume.
  `CREATE TABLE blobs (kind TEXT NOT NULL, owner TEXT NOT NULL, version TEXT NOT NULL, data BYTEA NOT NULL,
     PRIMARY KEY (kind, owner, version));`,
  // The audit trail's rows became chunks (shared step 2): their numbers go on from the events'.
  // A new database has no such sequence yet (POSTGRES_OBJECTS, after the steps, creates it).
  `ALTER SEQUENCE IF EXISTS audit_events_seq_gen RENAME TO audit_chunks_seq_gen`,
];
const POSTGRES_FIRST_VERSION = 1001;

export async function migratePostgres(client: PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [LOCK_KEY]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const steps = [
      ...migrations.map((sql, index) => ({ sql, version: index + 1 })),
      ...POSTGRES_MIGRATIONS.map((sql, index) => ({ sql, version: POSTGRES_FIRST_VERSION + index })),
    ];
    for (const { sql, version } of steps) {
      if (applied.has(version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, new Date().toISOString()]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
    await client.query(POSTGRES_OBJECTS);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [LOCK_KEY]);
  }
}
