// The same comparable state as store-state.ts, read from the SQLite file of a server that
// runs in another process (read-only, so the server's writes are never disturbed).
import Database from 'better-sqlite3';
import { stable, UNTRACKED } from './store-state.js';

export interface FileState {
  read(): Record<string, unknown[]>;
  close(): void;
}

export function openFileState(path: string, ignore: string[] = []): FileState {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const skipped = [...UNTRACKED, ...ignore];
  const rows = db.prepare(`SELECT kind, doc FROM entities WHERE kind NOT IN (${skipped.map(() => '?').join(',')}) ORDER BY kind, seq`).raw();
  return {
    read() {
      const all: Record<string, unknown[]> = {};
      for (const [kind, doc] of rows.all(...skipped) as Array<[string, string]>) (all[kind] ??= []).push(stable(JSON.parse(doc)));
      return all;
    },
    close: () => db.close(),
  };
}
