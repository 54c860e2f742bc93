// Picks the backend: PostgreSQL when a database URL is given (many nodes, one database),
// otherwise the embedded SQLite file (or memory).
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export interface StoreChoice {
  /** postgres://... ; when set, sqlitePath is not used. */
  databaseUrl?: string;
  /** A file path or ':memory:'. */
  sqlitePath: string;
}

export async function openStore(choice: StoreChoice): Promise<Store> {
  if (choice.databaseUrl) return openPostgresStore({ url: choice.databaseUrl });
  return openSqliteStore({ path: choice.sqlitePath });
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
