// The embedded store: better-sqlite3 in WAL mode. Its calls are synchronous; the async
// interface serializes transactions with a queue so that one request's awaits cannot
// interleave another's writes inside the same SQLite transaction.
import Database from 'better-sqlite3';
import { dirname, join } from 'node:path';
import { ensurePrivateFile, preparePrivateDir, tightenIfPresent } from './data-dir.js';
import { AuditWindow, chunkReadFrom, chunksOf } from './audit-chunks.js';
import { AuditJournal } from './audit-journal.js';
import { fileBlobStore, memoryBlobStore } from './blob-files.js';
import { migrations } from './migrations.js';
import { pageOf } from './paging.js';
import { DuplicateKeyError, type AuditEvent, type EntityKey, type ListResult, type Page, type Store, type StoreTx } from './store.js';
import { markWrite, noChanges, type Changes } from './write-changes.js';

export interface SqliteOptions {
  /** A file path, or ':memory:'. */
  path: string;
  /** Told when a batch of audit events could not be written. */
  onJournalError?: (error: unknown) => void;
  /** Kinds whose writes leave identityGeneration() as it was (see Store); none unless given. */
  credentialFreeKinds?: ReadonlySet<string>;
}

/** Opens (or creates) the database, or throws naming the file and what to do about it. */
function openDatabase(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    if (path !== ':memory:') {
      preparePrivateDir(dirname(path));
      // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the same mode.
      ensurePrivateFile(path);
      tightenIfPresent(`${path}-wal`);
      tightenIfPresent(`${path}-shm`);
    }
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // SQLite's own default page cache (2 MiB), not the 16 MiB better-sqlite3 builds it with:
    // appending the audit trail of a burst of calls fills the cache with pages written once and
    // never read again, memory the process then keeps (measured: +17 MiB after 40,000 GETs).
    db.pragma('cache_size = -2000');
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    const reason = (error as Error).message;
    const code = (error as { code?: string }).code ?? '';
    const advice = /SQLITE_(NOTADB|CORRUPT)/.test(code)
      ? 'the file is damaged or is not a database: move it away (the server then starts afresh) or restore a backup'
      : 'check that the file and its directory exist and are readable and writable by this user';
    throw new Error(`cannot open the database ${path}: ${reason}; ${advice}`);
  }
}

export function openSqliteStore({ path, onJournalError = () => {}, credentialFreeKinds = new Set() }: SqliteOptions): Store {
  const db = openDatabase(path);
  let generation = 0;
  let identityGeneration = 0;
  // Set by entity writes inside a transaction; counted once the transaction commits.
  const changes = noChanges();
  // The journal writes through this store's own transactions, so it is made after the store.
  let journal: AuditJournal;
  const tx = sqliteTx(db, changes, credentialFreeKinds, (scopeId, fromIso, toIso) => journal.waiting(scopeId, fromIso, toIso));
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = <T>(run: () => Promise<T>): Promise<T> => {
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };

  const store: Store = {
    blobs: path === ':memory:' ? memoryBlobStore() : fileBlobStore(join(dirname(path), 'blobs')),
    transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      const run = async (): Promise<T> => {
        db.exec('BEGIN IMMEDIATE');
        changes.entities = false;
        changes.identity = false;
        try {
          const result = await fn(tx);
          db.exec('COMMIT');
          return result;
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw error;
        } finally {
          // A rollback counts too: a reader may have cached a row the transaction wrote.
          if (changes.entities) generation++;
          if (changes.identity) identityGeneration++;
          changes.entities = false;
          changes.identity = false;
        }
      };
      return enqueue(run);
    },
    read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      // Queued behind any open transaction so that it never sees one half done.
      return enqueue(() => fn(tx));
    },
    journal(scopeId, event) {
      journal.record(scopeId, event);
    },
    generation: () => generation,
    identityGeneration: () => identityGeneration,
    // Only this process writes the file: its counters are always up to date.
    catchUp: () => undefined,
    async close() {
      await journal.flush();
      await queue;
      db.close();
    },
  };
  journal = new AuditJournal((batch) => store.transaction(async () => tx.appendAudits(batch)), onJournalError);
  return store;
}

/**
 * Steps only SQLite needs, numbered from 2001 in the same schema_migrations table (PostgreSQL's
 * own steps start at 1001). Append only.
 */
const SQLITE_MIGRATIONS: readonly string[] = [
  // storedBytes, read on every create and modify of a connection or processor, from a running
  // total kept by triggers: summing the documents instead costs a read of every one of the
  // workspace's rows, milliseconds a write with ten thousand connections.
  `CREATE TABLE entity_bytes (kind TEXT NOT NULL, parent_id TEXT NOT NULL, bytes INTEGER NOT NULL, PRIMARY KEY (kind, parent_id)) WITHOUT ROWID;
   INSERT INTO entity_bytes (kind, parent_id, bytes) SELECT kind, parent_id, SUM(octet_length(doc)) FROM entities GROUP BY kind, parent_id;
   CREATE TRIGGER entity_bytes_insert AFTER INSERT ON entities BEGIN
     INSERT INTO entity_bytes (kind, parent_id, bytes) VALUES (NEW.kind, NEW.parent_id, octet_length(NEW.doc))
       ON CONFLICT (kind, parent_id) DO UPDATE SET bytes = bytes + excluded.bytes;
   END;
   CREATE TRIGGER entity_bytes_delete AFTER DELETE ON entities BEGIN
     UPDATE entity_bytes SET bytes = bytes - octet_length(OLD.doc) WHERE kind = OLD.kind AND parent_id = OLD.parent_id;
     DELETE FROM entity_bytes WHERE kind = OLD.kind AND parent_id = OLD.parent_id AND bytes = 0;
   END;
   CREATE TRIGGER entity_bytes_update AFTER UPDATE OF kind, parent_id, doc ON entities BEGIN
     UPDATE entity_bytes SET bytes = bytes - octet_length(OLD.doc) WHERE kind = OLD.kind AND parent_id = OLD.parent_id;
     INSERT INTO entity_bytes (kind, parent_id, bytes) VALUES (NEW.kind, NEW.parent_id, octet_length(NEW.doc))
       ON CONFLICT (kind, parent_id) DO UPDATE SET bytes = bytes + excluded.bytes;
   END;`,
];
const SQLITE_FIRST_VERSION = 2001;

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const steps = [
    ...migrations.map((sql, index) => ({ sql, version: index + 1 })),
    ...SQLITE_MIGRATIONS.map((sql, index) => ({ sql, version: SQLITE_FIRST_VERSION + index })),
  ];
  for (const { sql, version } of steps) {
    if (applied.has(version)) continue;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, new Date().toISOString());
    })();
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT') ?? false;
}

type WaitingAudit = (scopeId: string, fromIso: string, toIso: string) => AuditEvent[];
type StoredChunk = { firstAt: string; seq: number; lines: string };

interface SqliteTx extends StoreTx {
  /** A batch of the journal's events, in order; inside a transaction. */
  appendAudits(batch: ReadonlyArray<{ scopeId: string; event: AuditEvent }>): void;
}

function sqliteTx(db: Database.Database, changes: Changes, credentialFreeKinds: ReadonlySet<string>, waitingAudit: WaitingAudit): SqliteTx {
  const wrote = (kind: string): void => markWrite(changes, credentialFreeKinds, kind);
  const q = {
    get: db.prepare('SELECT doc FROM entities WHERE kind = ? AND id = ?').pluck(),
    getByName: db.prepare('SELECT doc FROM entities WHERE kind = ? AND parent_id = ? AND name = ?').pluck(),
    findByName: db.prepare('SELECT doc FROM entities WHERE kind = ? AND name = ? ORDER BY seq LIMIT 1').pluck(),
    // No bound LIMIT/OFFSET: measured here, binding them costs about 10 µs a call, ten times
    // the whole query; the children of one parent are few, so pages are cut in JavaScript.
    list: db.prepare('SELECT doc FROM entities WHERE kind = ? AND parent_id = ? ORDER BY seq').pluck(),
    listAll: db.prepare('SELECT doc FROM entities WHERE kind = ? ORDER BY seq').pluck(),
    storedBytes: db.prepare('SELECT COALESCE(SUM(bytes), 0) FROM entity_bytes WHERE kind = ? AND parent_id = ?').pluck(),
    nextSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 FROM entities').pluck(),
    insert: db.prepare('INSERT INTO entities (kind, id, parent_id, name, seq, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    update: db.prepare('UPDATE entities SET doc = ? WHERE kind = ? AND id = ?'),
    updateNamed: db.prepare('UPDATE entities SET doc = ?, name = ? WHERE kind = ? AND id = ?'),
    delete: db.prepare('DELETE FROM entities WHERE kind = ? AND id = ?'),
    deleteChildren: db.prepare('DELETE FROM entities WHERE kind = ? AND parent_id = ?'),
    deleteExpired: db.prepare('DELETE FROM entities WHERE kind = ? AND expires_at IS NOT NULL AND expires_at < ?'),
    keys: db.prepare('SELECT kind, id, parent_id AS parentId FROM entities'),
    deleteAudit: db.prepare('DELETE FROM audit_chunks WHERE scope_id = ?'),
    deleteAllAudit: db.prepare('DELETE FROM audit_chunks'),
    appendChunk: db.prepare('INSERT INTO audit_chunks (scope_id, first_at, last_at, seq, lines) VALUES (?, ?, ?, ?, ?)'),
    nextAuditSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_chunks').pluck(),
    // Read one at a time (iterate), so that a download stops reading once it has its answer.
    auditChunks: db.prepare(`SELECT first_at AS firstAt, seq, lines FROM audit_chunks
      WHERE scope_id = ? AND first_at >= ? AND first_at <= ? AND last_at >= ? ORDER BY first_at, seq`),
  };
  let auditSeq: number | undefined;
  const appendAudits = (batch: ReadonlyArray<{ scopeId: string; event: AuditEvent }>): void => {
    // One process holds the file (the data-dir lock), so the sequence is read once, not per chunk.
    auditSeq ??= q.nextAuditSeq.get() as number;
    for (const chunk of chunksOf(batch)) q.appendChunk.run(chunk.scopeId, chunk.firstAt, chunk.lastAt, auditSeq++, chunk.lines);
  };
  const parse = <T>(doc: unknown): T | undefined => (doc === undefined ? undefined : (JSON.parse(doc as string) as T));
  const insertRow = (kind: string, key: EntityKey, expiresAt: number | null, doc: unknown): void => {
    wrote(kind);
    try {
      q.insert.run(kind, key.id, key.parentId ?? '', key.name ?? null, q.nextSeq.get(), expiresAt, JSON.stringify(doc));
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateKeyError(`${kind} ${key.name ?? key.id} exists`);
      throw error;
    }
  };

  return {
    async get(kind, id) { return parse(q.get.get(kind, id)); },
    async getByName(kind, parentId, name) { return parse(q.getByName.get(kind, parentId, name)); },
    async findByName(kind, name) { return parse(q.findByName.get(kind, name)); },
    async list<T>(kind: string, parentId: string, p?: Page): Promise<ListResult<T>> {
      return pageOf<T>(q.list.all(kind, parentId) as string[], p);
    },
    async storedBytes(kind, parentId) { return q.storedBytes.get(kind, parentId) as number; },
    async listAll<T>(kind: string, p?: Page): Promise<ListResult<T>> {
      return pageOf<T>(q.listAll.all(kind) as string[], p);
    },
    async insert(kind, key, doc) { insertRow(kind, key, null, doc); },
    async update(kind, id, doc, name) {
      wrote(kind);
      try {
        const result = name === undefined ? q.update.run(JSON.stringify(doc), kind, id) : q.updateNamed.run(JSON.stringify(doc), name, kind, id);
        return result.changes > 0;
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateKeyError(`${kind} ${name} exists`);
        throw error;
      }
    },
    async put(kind, key, doc) {
      wrote(kind);
      if (q.update.run(JSON.stringify(doc), kind, key.id).changes === 0) insertRow(kind, key, null, doc);
    },
    async delete(kind, id) {
      wrote(kind);
      return q.delete.run(kind, id).changes > 0;
    },
    async deleteChildren(kind, parentId) {
      wrote(kind);
      return q.deleteChildren.run(kind, parentId).changes;
    },
    // Only expired entities go: no cached live entity can change.
    async deleteExpired(kind, nowMs) { return q.deleteExpired.run(kind, nowMs).changes; },
    async insertOnce(kind, id, expiresAtMs) {
      try {
        insertRow(kind, { id }, expiresAtMs, {});
        return true;
      } catch (error) {
        if (error instanceof DuplicateKeyError) return false;
        throw error;
      }
    },
    async keys() { return q.keys.all() as Array<{ kind: string; id: string; parentId: string }>; },
    async deleteAudit(scopeIds) {
      if (scopeIds === undefined) q.deleteAllAudit.run();
      else for (const scopeId of scopeIds) q.deleteAudit.run(scopeId);
    },
    async appendAudit(scopeId, event) { appendAudits([{ scopeId, event }]); },
    appendAudits,
    async listAudit(scopeId, fromIso, toIso, maxBytes) {
      const window = new AuditWindow(fromIso, toIso, maxBytes);
      for (const chunk of q.auditChunks.iterate(scopeId, chunkReadFrom(fromIso), toIso, fromIso) as Iterable<StoredChunk>) {
        if (!window.take(chunk)) break;
      }
      const stored = window.events();
      const waiting = waitingAudit(scopeId, fromIso, toIso);
      // Waiting events are newer than stored ones of the same instant: a stable sort keeps that.
      return waiting.length === 0 ? stored : [...stored, ...waiting].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    },
  };
}
