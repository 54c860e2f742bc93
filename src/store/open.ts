// Picks the backend: PostgreSQL when a database URL is given (many nodes, one database),
// otherwise the embedded SQLite file (or memory). With the store come the backend's other
// shared facilities: where rate limits are counted, and how to check the database is there.
import type pg from 'pg';
import { memoryRateCounter, type RateCounter } from './rate-counter.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export interface StoreChoice {
  /** postgres://... ; when set, sqlitePath is not used. */
  databaseUrl?: string;
  /** A file path or ':memory:'. */
  sqlitePath: string;
  /** Told when writing batched audit events fails. */
  onJournalError?: (error: unknown) => void;
  /** Kinds whose writes cannot change what a credential resolves to (see Store.identityGeneration). */
  credentialFreeKinds?: ReadonlySet<string>;
}

export interface Backend {
  store: Store;
  rateCounter: RateCounter;
  /** The PostgreSQL pool, when the store is PostgreSQL (leases, notifications). */
  pool?: pg.Pool;
  /** Rejects when the database cannot be reached (readiness). */
  ping(): Promise<void>;
  /** Periodic clean-up of what only the backend keeps. */
  sweep(nowMs: number, windowMs: number): Promise<void>;
}

export async function openStore(choice: StoreChoice): Promise<Backend> {
  if (choice.databaseUrl) {
    // Loaded only for PostgreSQL: the pg driver is memory a SQLite server would hold for nothing.
    const [{ openPostgresStore }, { postgresRateCounter, sweepRateWindows }] = await Promise.all([import('./postgres.js'), import('./postgres-rate-counter.js')]);
    const store = await openPostgresStore({ url: choice.databaseUrl, onJournalError: choice.onJournalError, credentialFreeKinds: choice.credentialFreeKinds });
    const { pool } = store;
    return {
      store, pool, rateCounter: postgresRateCounter(pool),
      ping: async () => { await pool.query('SELECT 1'); },
      sweep: (nowMs, windowMs) => sweepRateWindows(pool, nowMs, windowMs),
    };
  }
  return {
    store: openSqliteStore({ path: choice.sqlitePath, onJournalError: choice.onJournalError, credentialFreeKinds: choice.credentialFreeKinds }), rateCounter: memoryRateCounter(),
    ping: async () => undefined, sweep: async () => undefined,
  };
}

/** The URL without its password, for logs and banners. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
