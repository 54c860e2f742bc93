// The networked store: PostgreSQL through a `pg` pool, for several API nodes and processor
// runners on one database. Transactions run SERIALIZABLE and are retried on serialization
// failures, so that the domain's read-check-write steps keep the one-at-a-time meaning they
// have on SQLite: of two nodes deleting the same entity, one commits and the other, rerun,
// finds it gone. Callers therefore keep side effects out of transaction functions (they
// queue them with afterCommit), since a function may run more than once.
import pg from 'pg';
import { AuditWindow, chunkReadFrom, chunksOf, type AuditChunk } from './audit-chunks.js';
import { AuditJournal } from './audit-journal.js';
import { wholeBlob, type BlobStore } from './blob-files.js';
import { migratePostgres } from './postgres-migrate.js';
import { pageOf } from './paging.js';
import { DuplicateKeyError, StaleReadError, type AuditEvent, type EntityKey, type Store, type StoreTx } from './store.js';
import { markWrite, noChanges, type Changes } from './write-changes.js';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database[?options=-c search_path=...] */
  url: string;
  /** Pool size per process. */
  maxConnections?: number;
  /** Told when writing batched audit events fails. */
  onJournalError?: (error: unknown) => void;
  /** Kinds whose writes leave identityGeneration() as it was (see Store); none unless given. */
  credentialFreeKinds?: ReadonlySet<string>;
}

export interface PostgresStore extends Store {
  /** The pool, for the modules that need PostgreSQL itself (leases, LISTEN/NOTIFY). */
  readonly pool: pg.Pool;
}

/** serialization_failure, deadlock_detected: the transaction lost a race and may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 30;

export async function openPostgresStore({ url, maxConnections = 10, onJournalError = () => {}, credentialFreeKinds = new Set() }: PostgresOptions): Promise<PostgresStore> {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections, connectionTimeoutMillis: 5000 });
  // An idle connection the server dropped: the pool discards it and the next query reconnects.
  // Without a listener the error would end the process.
  pool.on('error', () => undefined);
  // A connection lost while a caller holds it between queries (inside a transaction, a lease
  // write, a LISTEN) emits 'error' on the client itself, which the pool does not catch: the
  // failure reaches the caller through its next query instead of ending the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const client = await pool.connect();
  try {
    await migratePostgres(client);
  } finally {
    client.release();
  }

  // Made once the store exists: the journal writes through the store's own transactions.
  let journal: AuditJournal | undefined;
  const waiting: WaitingAudit = (scopeId, fromIso, toIso) => journal?.waiting(scopeId, fromIso, toIso) ?? [];

  const generations = new SharedGenerations(pool);

  async function run<T>(begin: string, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const conn = await pool.connect();
      let broken = false;
      try {
        await conn.query(begin);
        const changes = noChanges();
        const result = await fn(postgresTx(conn, { waitingAudit: waiting, changes, credentialFreeKinds }));
        generations.note(await conn.query(commitStatement(changes)));
        return result;
      } catch (error) {
        await conn.query('ROLLBACK').catch(() => { broken = true; });
        const code = (error as { code?: string }).code;
        const retryable = error instanceof StaleReadError || (code !== undefined && RETRYABLE.has(code));
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
      } finally {
        conn.release(broken);
      }
      // Jittered backoff so that the racers do not collide again in step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** attempt)));
    }
  }

  const store: PostgresStore = {
    pool,
    blobs: postgresBlobs(pool),
    transaction: (fn) => run('BEGIN ISOLATION LEVEL SERIALIZABLE', fn),
    // A consistent snapshot without taking part in write conflicts.
    read: (fn) => run('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn),
    journal(scopeId, event) {
      journal!.record(scopeId, event);
    },
    generation: () => generations.entity,
    identityGeneration: () => generations.identity,
    catchUp: () => generations.catchUp(),
    async close() {
      await journal!.flush();
      await pool.end();
    },
  };
  // On PostgreSQL the journal's waiting events are this node's only: another node's calls show
  // up in its trail once written (within the journal's flush delay). A batch is one statement,
  // atomic by itself: a round trip per event made the database the limit of a busy node.
  journal = new AuditJournal((batch) => insertAuditChunks(pool, chunksOf(batch)), onJournalError);
  return store;
}

/**
 * The store's generations, shared by every node: two sequences (entity_generation, and
 * identity_generation for writes of kinds a credential check may read) that a write moves on
 * after it commits, in the same message as its COMMIT (commitStatement), so that the server
 * runs both even if the writing process dies once it has sent them. A node that reads a value
 * the write left therefore sees the write in any snapshot it takes afterwards, and a cache kept
 * at an older value is not used again. Sequences rather than a row, because every two writers
 * updating one row would conflict under SERIALIZABLE.
 */
class SharedGenerations {
  entity = 0;
  identity = 0;
  private reading?: Promise<void>;
  private nextRead?: Promise<void>;

  constructor(private readonly pool: pg.Pool) {}

  /**
   * Reads both sequences. Callers that arrive while a read is on its way share the next one
   * (sent after they arrived, so it sees every write committed before): many requests at
   * once make two reads, not one each.
   */
  catchUp(): Promise<void> {
    if (!this.reading) {
      this.reading = this.read().finally(() => { this.reading = undefined; });
      return this.reading;
    }
    this.nextRead ??= this.reading.catch(() => undefined).then(() => {
      this.nextRead = undefined;
      return this.catchUp();
    });
    return this.nextRead;
  }

  /** Takes the values a commit (commitStatement) or a read returned; never goes back. */
  note(results: pg.QueryResult | pg.QueryResult[]): void {
    const row = (Array.isArray(results) ? results.at(-1) : results)?.rows[0] as { entity?: string; identity?: string } | undefined;
    if (row?.entity !== undefined) this.entity = Math.max(this.entity, Number(row.entity));
    if (row?.identity !== undefined) this.identity = Math.max(this.identity, Number(row.identity));
  }

  private async read(): Promise<void> {
    // A sequence nextval never took shows its start value (1), the value its first nextval gives.
    this.note(await this.pool.query(`SELECT
      (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM entity_generation) AS entity,
      (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM identity_generation) AS identity`));
  }
}

/** Ends a transaction that made these changes, moving the shared generations on once it commits (see SharedGenerations). */
export function commitStatement(changes: Changes): string {
  if (!changes.entities) return 'COMMIT';
  return changes.identity
    ? "COMMIT; SELECT nextval('entity_generation') AS entity, nextval('identity_generation') AS identity"
    : "COMMIT; SELECT nextval('entity_generation') AS entity";
}

/**
 * Blobs are read in pieces of this size: pg hands a bytea over as hex text, read and decoded
 * on the event loop, and one 16 MB pipeline's 32 MB of it held the loop for tens of ms.
 */
const BLOB_READ_PIECE_BYTES = 1024 * 1024;

/** Large values in a table of their own: every runner reads the checkpoints any runner wrote. */
function postgresBlobs(pool: pg.Pool): BlobStore {
  return {
    async write(kind, owner, version, data) {
      await pool.query(`INSERT INTO blobs (kind, owner, version, data) VALUES ($1, $2, $3, $4)
        ON CONFLICT (kind, owner, version) DO UPDATE SET data = EXCLUDED.data`, [kind, owner, version, Buffer.from(wholeBlob(data))]);
    },
    async read(kind, owner, version) {
      const pieces: Buffer[] = [];
      for (let at = 0; ; at += BLOB_READ_PIECE_BYTES) {
        const { rows } = await pool.query<{ piece: Buffer; bytes: number }>(
          'SELECT substring(data FROM $4 FOR $5) AS piece, length(data) AS bytes FROM blobs WHERE kind = $1 AND owner = $2 AND version = $3',
          [kind, owner, version, at + 1, BLOB_READ_PIECE_BYTES]);
        // Deleted meanwhile (versions are never rewritten): gone, as if it had been from the start.
        if (!rows[0]) return undefined;
        pieces.push(rows[0].piece);
        if (at + BLOB_READ_PIECE_BYTES >= rows[0].bytes) return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
      }
    },
    // Each read is a fresh buffer from the database.
    readOwned(kind, owner, version) {
      return this.read(kind, owner, version);
    },
    async delete(kind, owner, version) {
      await pool.query('DELETE FROM blobs WHERE kind = $1 AND owner = $2 AND version = $3', [kind, owner, version]);
    },
    async deleteAll(kind, owner, exceptVersion) {
      if (exceptVersion === undefined) await pool.query('DELETE FROM blobs WHERE kind = $1 AND owner = $2', [kind, owner]);
      else await pool.query('DELETE FROM blobs WHERE kind = $1 AND owner = $2 AND version <> $3', [kind, owner, exceptVersion]);
    },
  };
}

/**
 * Writes chunks in one statement, atomic by itself. Their order among themselves does not
 * matter: lines at one instant of one scope written together are always in one chunk.
 */
async function insertAuditChunks(db: pg.Pool | pg.PoolClient, chunks: AuditChunk[]): Promise<void> {
  await db.query(`INSERT INTO audit_chunks (scope_id, first_at, last_at, seq, lines)
    SELECT scope_id, first_at, last_at, nextval('audit_chunks_seq_gen'), lines
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS batch(scope_id, first_at, last_at, lines)`,
  [chunks.map((c) => c.scopeId), chunks.map((c) => c.firstAt), chunks.map((c) => c.lastAt), chunks.map((c) => c.lines)]);
}

/**
 * What a download reads per query: the chunks after the last one read, as many as add up to
 * AUDIT_PAGE_BYTES of text (a busy node's chunk holds a megabyte; a page of them must not load
 * far more than the 16 MiB answer), and at most AUDIT_PAGE_ROWS of them (the old trail's chunks
 * hold one line each: 16 MiB of them is about 80,000).
 */
const AUDIT_PAGE_BYTES = 4 * 1024 * 1024;
const AUDIT_PAGE_ROWS = 4096;

/** Audit events this process recorded and has not written yet. */
type WaitingAudit = (scopeId: string, fromIso: string, toIso: string) => AuditEvent[];

/**
 * PostgreSQL text cannot hold U+0000, so no stored key contains it: a lookup by such a key
 * (a client's path segment) finds nothing, where sending it would fail the query.
 */
const unstorable = (values: unknown[]): boolean => values.some((v) => typeof v === 'string' && v.includes('\u0000'));

export interface PostgresTxOptions {
  waitingAudit?: WaitingAudit;
  /** Marked as entities are written: the transaction then ends with commitStatement(changes). */
  changes?: Changes;
  credentialFreeKinds?: ReadonlySet<string>;
}

/** The store's operations on one connection, inside whatever transaction it has open (fenced writes use it). */
export function postgresTx(conn: pg.PoolClient, { waitingAudit = () => [], changes = noChanges(), credentialFreeKinds = new Set() }: PostgresTxOptions = {}): StoreTx {
  const wrote = (kind: string): void => markWrite(changes, credentialFreeKinds, kind);
  const one = async (sql: string, values: unknown[]): Promise<string | undefined> =>
    unstorable(values) ? undefined : (await conn.query<{ doc: string }>(sql, values)).rows[0]?.doc;
  const docs = async (sql: string, values: unknown[]): Promise<string[]> =>
    unstorable(values) ? [] : (await conn.query<{ doc: string }>(sql, values)).rows.map((r) => r.doc);
  const parse = <T>(doc: string | undefined): T | undefined => (doc === undefined ? undefined : (JSON.parse(doc) as T));
  const count = async (sql: string, values: unknown[]): Promise<number> =>
    unstorable(values) ? 0 : (await conn.query(sql, values)).rowCount ?? 0;
  // ON CONFLICT DO NOTHING rather than catching the unique violation: an error would abort the
  // whole transaction, where SQLite lets the caller go on.
  const insertRow = (kind: string, key: EntityKey, expiresAt: number | null, doc: unknown): Promise<number> => {
    wrote(kind);
    return count(`INSERT INTO entities (kind, id, parent_id, name, seq, expires_at, doc)
      VALUES ($1, $2, $3, $4, nextval('entities_seq_gen'), $5, $6) ON CONFLICT DO NOTHING`,
    [kind, key.id, key.parentId ?? '', key.name ?? null, expiresAt, JSON.stringify(doc)]);
  };

  return {
    async get(kind, id) { return parse(await one('SELECT doc FROM entities WHERE kind = $1 AND id = $2', [kind, id])); },
    async getByName(kind, parentId, name) {
      return parse(await one('SELECT doc FROM entities WHERE kind = $1 AND parent_id = $2 AND name = $3', [kind, parentId, name]));
    },
    async findByName(kind, name) {
      return parse(await one('SELECT doc FROM entities WHERE kind = $1 AND name = $2 ORDER BY seq LIMIT 1', [kind, name]));
    },
    async list(kind, parentId, page) {
      return pageOf(await docs('SELECT doc FROM entities WHERE kind = $1 AND parent_id = $2 ORDER BY seq', [kind, parentId]), page);
    },
    async storedBytes(kind, parentId) {
      if (unstorable([kind, parentId])) return 0;
      // Summed, not a running total as on SQLite: one totals row per parent would make every
      // concurrent write under that parent (nonces, checkpoints) a serialization conflict.
      const { rows } = await conn.query<{ bytes: string }>('SELECT COALESCE(SUM(octet_length(doc)), 0) AS bytes FROM entities WHERE kind = $1 AND parent_id = $2', [kind, parentId]);
      return Number(rows[0]?.bytes ?? 0);
    },
    async listAll(kind, page) {
      return pageOf(await docs('SELECT doc FROM entities WHERE kind = $1 ORDER BY seq', [kind]), page);
    },
    async insert(kind, key, doc) {
      if (await insertRow(kind, key, null, doc) === 0) throw new DuplicateKeyError(`${kind} ${key.name ?? key.id} exists`);
    },
    async update(kind, id, doc, name) {
      wrote(kind);
      if (name === undefined) return await count('UPDATE entities SET doc = $1 WHERE kind = $2 AND id = $3', [JSON.stringify(doc), kind, id]) > 0;
      // A rename may collide with a sibling: a savepoint keeps the transaction usable after it.
      await conn.query('SAVEPOINT rename');
      try {
        const changed = await count('UPDATE entities SET doc = $1, name = $2 WHERE kind = $3 AND id = $4', [JSON.stringify(doc), name, kind, id]);
        await conn.query('RELEASE SAVEPOINT rename');
        return changed > 0;
      } catch (error) {
        await conn.query('ROLLBACK TO SAVEPOINT rename');
        if ((error as { code?: string }).code === '23505') throw new DuplicateKeyError(`${kind} ${name} exists`);
        throw error;
      }
    },
    async put(kind, key, doc) {
      wrote(kind);
      await conn.query(
        `INSERT INTO entities (kind, id, parent_id, name, seq, expires_at, doc)
         VALUES ($1, $2, $3, $4, nextval('entities_seq_gen'), NULL, $5)
         ON CONFLICT (kind, id) DO UPDATE SET doc = EXCLUDED.doc`,
        [kind, key.id, key.parentId ?? '', key.name ?? null, JSON.stringify(doc)]);
    },
    async delete(kind, id) {
      wrote(kind);
      return await count('DELETE FROM entities WHERE kind = $1 AND id = $2', [kind, id]) > 0;
    },
    deleteChildren(kind, parentId) {
      wrote(kind);
      return count('DELETE FROM entities WHERE kind = $1 AND parent_id = $2', [kind, parentId]);
    },
    // Only expired entities go: no cached live entity can change.
    deleteExpired: (kind, nowMs) => count('DELETE FROM entities WHERE kind = $1 AND expires_at IS NOT NULL AND expires_at < $2', [kind, nowMs]),
    async insertOnce(kind, id, expiresAtMs) {
      return await insertRow(kind, { id }, expiresAtMs, {}) > 0;
    },
    appendAudit: (scopeId, event) => insertAuditChunks(conn, chunksOf([{ scopeId, event }])),
    async listAudit(scopeId, fromIso, toIso, maxBytes) {
      const window = new AuditWindow(fromIso, toIso, maxBytes);
      if (!unstorable([scopeId, fromIso, toIso])) {
        // Pages follow on from the last chunk read (first_at, seq): the scope index seeks there.
        // A page's first chunk comes whatever its size; the page ends before the one that
        // starts past AUDIT_PAGE_BYTES.
        let after = { firstAt: '', seq: 0 };
        for (let more = true; more;) {
          const { rows } = await conn.query<{ firstAt: string; seq: string; lines: string; scanned: string }>(
            `SELECT "firstAt", seq, lines, scanned FROM (
               SELECT first_at AS "firstAt", seq, lines, COUNT(*) OVER () AS scanned,
                 SUM(octet_length(lines)) OVER (ORDER BY first_at, seq ROWS UNBOUNDED PRECEDING) - octet_length(lines) AS before
               FROM (SELECT first_at, seq, lines FROM audit_chunks
                 WHERE scope_id = $1 AND first_at >= $2 AND first_at <= $3 AND last_at >= $4 AND (first_at, seq) > ($5, $6)
                 ORDER BY first_at, seq LIMIT $7) AS next) AS page
             WHERE before < $8 ORDER BY "firstAt", seq`,
            [scopeId, chunkReadFrom(fromIso), toIso, fromIso, after.firstAt, after.seq, AUDIT_PAGE_ROWS, AUDIT_PAGE_BYTES]);
          const scanned = Number(rows[0]?.scanned ?? 0);
          more = scanned === AUDIT_PAGE_ROWS || rows.length < scanned;
          for (const row of rows) {
            after = { firstAt: row.firstAt, seq: Number(row.seq) };
            if (!window.take({ firstAt: row.firstAt, seq: after.seq, lines: row.lines })) {
              more = false;
              break;
            }
          }
        }
      }
      return [...window.events(), ...waitingAudit(scopeId, fromIso, toIso)];
    },
    async keys() {
      const { rows } = await conn.query<{ kind: string; id: string; parentId: string }>('SELECT kind, id, parent_id AS "parentId" FROM entities');
      return rows;
    },
    async deleteAudit(scopeIds) {
      if (scopeIds === undefined) await conn.query('DELETE FROM audit_chunks');
      else await conn.query('DELETE FROM audit_chunks WHERE scope_id = ANY($1)', [scopeIds]);
    },
  };
}
