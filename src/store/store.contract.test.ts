// One contract, every backend: what callers of the Store interface may rely on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import { DuplicateKeyError, type Store } from './store.js';
import { createTestSchema, SKIP_MESSAGE, testDatabaseUrl, type TestSchema } from '../testing/postgres.js';

interface Backend {
  name: string;
  available: boolean;
  open(): Promise<{ store: Store; cleanup(): Promise<void> }>;
  /** A database that stores open, one after another (SQLite) or side by side (API nodes on PostgreSQL), share. */
  shared(): Promise<{ open(): Promise<Store>; cleanup(): Promise<void> }>;
}

const pgUrl = testDatabaseUrl();
if (!pgUrl) console.warn(SKIP_MESSAGE);

const backends: Backend[] = [
  {
    name: 'sqlite',
    available: true,
    open: async () => ({ store: openSqliteStore({ path: ':memory:' }), cleanup: async () => undefined }),
    async shared() {
      const dir = mkdtempSync(join(tmpdir(), 'store-'));
      return { open: async () => openSqliteStore({ path: join(dir, 'db.sqlite') }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'postgres',
    available: pgUrl !== undefined,
    async open() {
      const schema: TestSchema = await createTestSchema(pgUrl!);
      return { store: await openPostgresStore({ url: schema.url }), cleanup: () => schema.drop() };
    },
    async shared() {
      const schema: TestSchema = await createTestSchema(pgUrl!);
      return { open: () => openPostgresStore({ url: schema.url, maxConnections: 2 }), cleanup: () => schema.drop() };
    },
  },
];

describe.each(backends)('Store contract: $name', (backend) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    if (!backend.available) return;
    ({ store, cleanup } = await backend.open());
  });
  afterAll(async () => {
    if (!backend.available) return;
    await store.close();
    await cleanup();
  });
  const test = it.skipIf(!backend.available);

  test('inserts, reads by id and by name, in creation order', async () => {
    await store.transaction(async (tx) => {
      await tx.insert('thing', { id: 'a', parentId: 'p', name: 'alpha' }, { v: 1 });
      await tx.insert('thing', { id: 'b', parentId: 'p', name: 'beta' }, { v: 2 });
      await tx.insert('thing', { id: 'c', parentId: 'q', name: 'alpha' }, { v: 3 });
    });
    await store.read(async (tx) => {
      expect(await tx.get('thing', 'a')).toEqual({ v: 1 });
      expect(await tx.get('thing', 'zz')).toBeUndefined();
      expect(await tx.getByName('thing', 'p', 'al\u0000pha')).toBeUndefined();
      expect(await tx.getByName('thing', 'q', 'alpha')).toEqual({ v: 3 });
      expect(await tx.findByName('thing', 'alpha')).toEqual({ v: 1 });
      expect(await tx.list('thing', 'p')).toEqual({ items: [{ v: 1 }, { v: 2 }], total: 2 });
      expect(await tx.listAll('thing', { offset: 1, limit: 1 })).toEqual({ items: [{ v: 2 }], total: 3 });
      expect(await tx.listAll('thing', { offset: 5, limit: 10 })).toEqual({ items: [], total: 3 });
    });
  });

  test('storedBytes: the UTF-8 bytes of the JSON text of the documents under one parent', async () => {
    await store.transaction(async (tx) => {
      await tx.insert('sized', { id: 's1', parentId: 'p' }, { v: 'é' });
      await tx.insert('sized', { id: 's2', parentId: 'p' }, { v: 'abc' });
      await tx.insert('sized', { id: 's3', parentId: 'q' }, { v: 'x'.repeat(1000) });
    });
    await store.read(async (tx) => {
      expect(await tx.storedBytes('sized', 'p')).toBe(Buffer.byteLength('{"v":"é"}') + Buffer.byteLength('{"v":"abc"}'));
      expect(await tx.storedBytes('sized', 'none')).toBe(0);
    });
  });

  test('storedBytes follows updates, renames, puts, deletes and rolled-back writes', async () => {
    const bytes = (...docs: unknown[]): number => docs.reduce<number>((sum, doc) => sum + Buffer.byteLength(JSON.stringify(doc)), 0);
    const stored = (): Promise<number> => store.read((tx) => tx.storedBytes('sizedToo', 'p'));
    await store.transaction(async (tx) => {
      await tx.insert('sizedToo', { id: 't1', parentId: 'p', name: 'one' }, { v: 'a' });
      await tx.insert('sizedToo', { id: 't2', parentId: 'p', name: 'two' }, { v: 'bb' });
      await tx.put('sizedToo', { id: 't3', parentId: 'p' }, { v: 'ccc' });
    });
    expect(await stored()).toBe(bytes({ v: 'a' }, { v: 'bb' }, { v: 'ccc' }));
    await store.transaction(async (tx) => {
      await tx.update('sizedToo', 't1', { v: 'a'.repeat(100) }, 'uno');
      await tx.put('sizedToo', { id: 't3', parentId: 'p' }, { v: 'c' });
      await tx.delete('sizedToo', 't2');
    });
    expect(await stored()).toBe(bytes({ v: 'a'.repeat(100) }, { v: 'c' }));
    await expect(store.transaction(async (tx) => {
      await tx.insert('sizedToo', { id: 't4', parentId: 'p' }, { v: 'x'.repeat(500) });
      expect(await tx.storedBytes('sizedToo', 'p')).toBe(bytes({ v: 'a'.repeat(100) }, { v: 'c' }, { v: 'x'.repeat(500) }));
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');
    expect(await stored()).toBe(bytes({ v: 'a'.repeat(100) }, { v: 'c' }));
    await store.transaction(async (tx) => { await tx.deleteChildren('sizedToo', 'p'); });
    expect(await stored()).toBe(0);
  });

  test('a taken id or name is a DuplicateKeyError and the transaction can go on', async () => {
    await store.transaction(async (tx) => {
      await expect(tx.insert('thing', { id: 'a' }, {})).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(tx.insert('thing', { id: 'new', parentId: 'p', name: 'alpha' }, {})).rejects.toBeInstanceOf(DuplicateKeyError);
      await expect(tx.update('thing', 'b', { v: 2 }, 'alpha')).rejects.toBeInstanceOf(DuplicateKeyError);
      await tx.insert('thing', { id: 'd', parentId: 'p', name: 'delta' }, { v: 4 });
    });
    expect(await store.read((tx) => tx.get('thing', 'd'))).toEqual({ v: 4 });
  });

  test('update, rename, put and delete report what changed', async () => {
    await store.transaction(async (tx) => {
      expect(await tx.update('thing', 'd', { v: 40 }, 'delta2')).toBe(true);
      expect(await tx.update('thing', 'missing', { v: 0 })).toBe(false);
      await tx.put('thing', { id: 'e', parentId: 'p' }, { v: 5 });
      await tx.put('thing', { id: 'e', parentId: 'p' }, { v: 50 });
    });
    await store.read(async (tx) => {
      expect(await tx.getByName('thing', 'p', 'delta2')).toEqual({ v: 40 });
      expect(await tx.get('thing', 'e')).toEqual({ v: 50 });
    });
    await store.transaction(async (tx) => {
      expect(await tx.delete('thing', 'e')).toBe(true);
      expect(await tx.delete('thing', 'e')).toBe(false);
      expect(await tx.deleteChildren('thing', 'p')).toBe(3);
    });
    expect(await store.read((tx) => tx.list('thing', 'p'))).toEqual({ items: [], total: 0 });
  });

  test('a failed transaction leaves nothing behind', async () => {
    await expect(store.transaction(async (tx) => {
      await tx.insert('thing', { id: 'gone' }, {});
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');
    expect(await store.read((tx) => tx.get('thing', 'gone'))).toBeUndefined();
  });

  test('insertOnce detects replays; expired entries are swept', async () => {
    await store.transaction(async (tx) => {
      expect(await tx.insertOnce('nonce', 'n1', 1000)).toBe(true);
      expect(await tx.insertOnce('nonce', 'n1', 1000)).toBe(false);
      expect(await tx.insertOnce('nonce', 'n2', 5000)).toBe(true);
    });
    expect(await store.transaction((tx) => tx.deleteExpired('nonce', 2000))).toBe(1);
    expect(await store.transaction((tx) => tx.insertOnce('nonce', 'n2', 5000))).toBe(false);
  });

  test('audit events come back by scope and time range, in order', async () => {
    await store.transaction(async (tx) => {
      await tx.appendAudit('s', { at: '2026-01-01T00:00:02Z', n: 2 });
      await tx.appendAudit('s', { at: '2026-01-01T00:00:01Z', n: 1 });
      await tx.appendAudit('s', { at: '2026-01-01T00:00:01Z', n: 1.5 });
      await tx.appendAudit('other', { at: '2026-01-01T00:00:01Z', n: 9 });
    });
    const events = await store.read((tx) => tx.listAudit('s', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', Number.MAX_SAFE_INTEGER));
    expect(events.map((e) => e['n'])).toEqual([1, 1.5]);
    // Only the oldest that fit: each stored event here is {"at":"2026-01-01T00:00:0XZ","n":…}.
    const first = Buffer.byteLength(JSON.stringify({ at: '2026-01-01T00:00:01Z', n: 1 }));
    const bounded = await store.read((tx) => tx.listAudit('s', '2026-01-01T00:00:00Z', '2026-01-01T00:00:09Z', first + 5));
    expect(bounded.map((e) => e['n'])).toEqual([1]);
  });

  test('a trail of many single events reads whole, and up to its budget, in time order', async () => {
    const at = (i: number): string => `2026-01-02T00:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`;
    // Written newest first, so that write order and time order differ.
    const written = [...Array(150).keys()].reverse();
    await store.transaction(async (tx) => { for (const i of written) await tx.appendAudit('many', { at: at(i), i }); });
    const list = (maxBytes: number) => store.read((tx) => tx.listAudit('many', at(0), at(149), maxBytes)).then((events) => events.map((e) => e['i']));
    expect(await list(Number.MAX_SAFE_INTEGER)).toEqual([...Array(150).keys()]);
    const size = (i: number): number => Buffer.byteLength(JSON.stringify({ at: at(i), i }));
    const budget = [...Array(100).keys()].reduce((sum, i) => sum + size(i), 0);
    expect(await list(budget)).toEqual([...Array(100).keys()]);
  });

  test('concurrent read-check-write transactions: exactly one deletes', async () => {
    await store.transaction((tx) => tx.insert('thing', { id: 'contested' }, {}));
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => store.transaction(async (tx) => {
      if (!(await tx.get('thing', 'contested'))) return 'not found';
      await tx.delete('thing', 'contested');
      return 'deleted';
    })));
    expect(outcomes.filter((o) => o === 'deleted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'not found')).toHaveLength(9);
  });
});

describe.each(backends)('Store contract, audit trail written in batches: $name', (backend) => {
  const test = it.skipIf(!backend.available);
  const at = (second: number): string => `2026-01-01T00:00:${String(second).padStart(2, '0')}.000Z`;
  const all = Number.MAX_SAFE_INTEGER;
  type Shared = { open(): Promise<Store> };

  async function onSharedDatabase(fn: (db: Shared) => Promise<void>): Promise<void> {
    const db = await backend.shared();
    try {
      await fn(db);
    } finally {
      await db.cleanup();
    }
  }
  /** Each node journals its events and closes, which writes them as one batch. */
  async function writtenByNodes(db: Shared, nodes: Array<Array<[scope: string, second: number, n: string]>>): Promise<void> {
    for (const events of nodes) {
      const node = await db.open();
      for (const [scope, second, n] of events) node.journal(scope, { at: at(second), n });
      await node.close();
    }
  }
  /** The `n` of the events a new node reads of scope s. */
  async function readBack(db: Shared, fromIso: string, toIso: string, maxBytes = all): Promise<unknown[]> {
    const reader = await db.open();
    try {
      return (await reader.read((tx) => tx.listAudit('s', fromIso, toIso, maxBytes))).map((e) => e['n']);
    } finally {
      await reader.close();
    }
  }

  test('batches that overlap in time (several API nodes) come back in time order, then write order', () => onSharedDatabase(async (db) => {
    await writtenByNodes(db, [
      [['s', 1, 'A1'], ['s', 5, 'A5'], ['other', 2, 'X2'], ['s', 3, 'A3']],
      [['s', 2, 'B2'], ['s', 3, 'B3'], ['s', 4, 'B4'], ['other', 1, 'X1']],
    ]);
    expect(await readBack(db, at(0), at(59))).toEqual(['A1', 'B2', 'A3', 'B3', 'B4', 'A5']);
    expect(await readBack(db, at(2), at(4))).toEqual(['B2', 'A3', 'B3', 'B4']);
  }));

  test('a trail of several megabytes (more than PostgreSQL reads a query) comes back whole, or up to its budget', () => onSharedDatabase(async (db) => {
    const node = await db.open();
    const big = (minute: number) => ({ at: `2026-01-01T00:0${minute}:00.000Z`, n: minute, pad: 'x'.repeat(1024 * 1024) });
    // Newest first, one chunk a minute.
    for (let minute = 9; minute >= 0; minute--) node.journal('s', big(minute));
    await node.close();
    expect(await readBack(db, at(0), '2026-01-01T00:09:59.000Z')).toEqual([...Array(10).keys()]);
    const size = Buffer.byteLength(JSON.stringify(big(0)));
    expect(await readBack(db, at(0), '2026-01-01T00:09:59.000Z', 7 * size + 10)).toEqual([...Array(7).keys()]);
  }));

  test('the byte budget runs across batches: the oldest lines that fit, in time order, and none after the first that does not', () => onSharedDatabase(async (db) => {
    await writtenByNodes(db, [
      [['s', 1, 'A1'], ['s', 4, 'A4-much-longer-than-the-rest'], ['s', 6, 'A6']],
      [['s', 2, 'B2'], ['s', 3, 'B3'], ['s', 5, 'B5']],
    ]);
    const size = (second: number, n: string): number => Buffer.byteLength(JSON.stringify({ at: at(second), n }));
    const firstThree = size(1, 'A1') + size(2, 'B2') + size(3, 'B3');
    expect(await readBack(db, at(0), at(59), firstThree)).toEqual(['A1', 'B2', 'B3']);
    // B5 and A6 would fit in what is left, but the answer has no gap where A4 was.
    expect(await readBack(db, at(0), at(59), firstThree + 50)).toEqual(['A1', 'B2', 'B3']);
    expect(await readBack(db, at(0), at(59), size(1, 'A1') - 1)).toEqual([]);
  }));
});
