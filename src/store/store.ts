import type { BlobStore } from './blob-files.js';

// The storage interface every caller uses. Every call is asynchronous so that a networked
// backend (PostgreSQL) can implement it without changing callers; SQLite implements it now.
//
// The model is deliberately small: entities of a kind, each with an id, an optional parent
// and an optional name unique under that parent, carrying a JSON document. Domain modules
// own the documents' shapes; the store only keys and orders them.

export interface EntityKey {
  id: string;
  /** The owning entity's id ('' at the top). */
  parentId?: string;
  /** Unique among the parent's entities of this kind, when set. */
  name?: string;
}

export interface Page {
  offset: number;
  limit: number;
}

export interface ListResult<T> {
  items: T[];
  total: number;
}

export interface AuditEvent {
  at: string;
  [field: string]: unknown;
}

export interface StoreTx {
  get<T>(kind: string, id: string): Promise<T | undefined>;
  getByName<T>(kind: string, parentId: string, name: string): Promise<T | undefined>;
  /** Looks a name up across parents (public keys, client ids). */
  findByName<T>(kind: string, name: string): Promise<T | undefined>;
  /** Entities under a parent in creation order. */
  list<T>(kind: string, parentId: string, page?: Page): Promise<ListResult<T>>;
  /** Bytes of the documents under a parent as stored (their JSON text): limits on what one list loads read it. */
  storedBytes(kind: string, parentId: string): Promise<number>;
  /** Entities of a kind across parents in creation order. */
  listAll<T>(kind: string, page?: Page): Promise<ListResult<T>>;
  /** Throws DuplicateKeyError when the id, or the name under the parent, is taken. */
  insert<T>(kind: string, key: EntityKey, doc: T): Promise<void>;
  /** Replaces the document (and the name, when given). False when the entity is gone. */
  update<T>(kind: string, id: string, doc: T, name?: string): Promise<boolean>;
  /** Inserts or replaces by id. */
  put<T>(kind: string, key: EntityKey, doc: T): Promise<void>;
  delete(kind: string, id: string): Promise<boolean>;
  deleteChildren(kind: string, parentId: string): Promise<number>;
  /** Deletes entities of a kind whose expiry (epoch ms) has passed. */
  deleteExpired(kind: string, nowMs: number): Promise<number>;
  /** Inserts with an expiry; false (not an error) when the id exists: used for replay detection. */
  insertOnce(kind: string, id: string, expiresAtMs: number): Promise<boolean>;
  /** Every entity's key, for whole-state work (reset); not for request paths. */
  keys(): Promise<Array<Required<Pick<EntityKey, 'id' | 'parentId'>> & { kind: string }>>;
  appendAudit(scopeId: string, event: AuditEvent): Promise<void>;
  /** Deletes the audit trail of the given scopes (all of it without scopes). */
  deleteAudit(scopeIds?: readonly string[]): Promise<void>;
  /** Oldest first; only as many of the oldest as add up to maxBytes of stored JSON, and a few not yet written. */
  listAudit(scopeId: string, fromIso: string, toIso: string, maxBytes: number): Promise<AuditEvent[]>;
}

export interface Store {
  /** Large binary values beside the entities (blob-files.ts); not part of transactions. */
  readonly blobs: BlobStore;
  /** Runs fn in one transaction: all of its writes land, or none do. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Runs fn against the committed state without taking the write lock: for the hot read
   * paths (authenticating a bearer token). fn must not write.
   */
  read<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Records an audit event off the request path: events are written in batches, one
   * transaction each, shortly after; listAudit sees them at once. close() writes the rest.
   */
  journal(scopeId: string, event: AuditEvent): void;
  /**
   * Changes whenever a transaction that changed entities commits: a cache of what was read
   * at one generation stays valid while the generation does.
   */
  generation(): number;
  /**
   * Like generation(), but left as it was by writes of the kinds the store was told cannot
   * change what a credential resolves to (a connection, a processor): a cache of credential
   * checks stays valid while this does. Every other kind moves it on, so a kind nobody
   * thought about counts as one that can.
   */
  identityGeneration(): number;
  /**
   * Brings generation() and identityGeneration() up to date with what other processes sharing
   * the database committed before this call; undefined, at once, when no other process writes
   * to it. A caller about to consult a cache kept by generation calls this first.
   */
  catchUp(): Promise<void> | undefined;
  close(): Promise<void>;
}

/**
 * What the transaction read is already out of date: a value beside the store that a row it
 * read names is gone, removed by a write committed since. A store whose reads do not wait for
 * writes (PostgreSQL) runs the transaction again, as after losing any other race.
 */
export class StaleReadError extends Error {
  override readonly name = 'StaleReadError';
}

export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
}
