import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations } from './migrations.js';
import { openSqliteStore } from './sqlite.js';
import type { StoreTx } from './store.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A database as an earlier release left it: the first `sharedSteps` shared steps applied, none of SQLite's own. */
function oldDatabase(sharedSteps: number): { old: Database.Database; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'store-'));
  dirs.push(dir);
  const path = join(dir, 'db.sqlite');
  const old = new Database(path);
  old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
  migrations.slice(0, sharedSteps).forEach((sql, index) => { old.exec(sql); old.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(index + 1, '2026-01-01'); });
  return { old, path };
}

describe('SQLite store', () => {
  it('counts the stored bytes of documents written before the running totals existed', async () => {
    const { old, path } = oldDatabase(migrations.length);
    const insert = old.prepare("INSERT INTO entities (kind, id, parent_id, name, seq, doc) VALUES ('c', ?, ?, ?, ?, ?)");
    insert.run('c1', 'w1', 'one', 1, '{"v":"é"}');
    insert.run('c2', 'w1', 'two', 2, '{"v":"abc"}');
    insert.run('c3', 'w2', 'one', 3, '{"v":"x"}');
    old.close();
    const store = openSqliteStore({ path });
    expect(await store.read((tx) => tx.storedBytes('c', 'w1'))).toBe(Buffer.byteLength('{"v":"é"}{"v":"abc"}'));
    await store.transaction((tx) => tx.insert('c', { id: 'c4', parentId: 'w2', name: 'two' }, { v: 'yy' }));
    expect(await store.read((tx) => tx.storedBytes('c', 'w2'))).toBe(Buffer.byteLength('{"v":"x"}{"v":"yy"}'));
    await store.close();
  });

  it('moves the audit trail of a database from before the chunks into chunks, serves it, and writes after it', async () => {
    // The first release's schema: one row an event, here in write order (seq) rather than time order.
    const { old, path } = oldDatabase(1);
    const row = old.prepare('INSERT INTO audit_events (scope_id, at, seq, event) VALUES (?, ?, ?, ?)');
    const rows: Array<[string, string, string]> = [
      ['g/i', '2026-01-01T00:00:02.000Z', 'second'],
      ['g/i', '2026-01-01T00:00:01.000Z', 'first'],
      ['g/other', '2026-01-01T00:00:01.000Z', 'elsewhere'],
      ['g/i', '2026-01-01T00:00:02.000Z', 'second, written later'],
      ['g/i', '2026-01-01T00:01:00.000Z', 'a minute on'],
    ];
    rows.forEach(([scope, at, operationId], i) => row.run(scope, at, i + 1, JSON.stringify({ at, operationId })));
    old.close();

    const store = openSqliteStore({ path });
    const list = (from: string, to: string, maxBytes = Number.MAX_SAFE_INTEGER) =>
      store.read((tx) => tx.listAudit('g/i', from, to, maxBytes)).then((events) => events.map((e) => e['operationId']));
    expect(await list('2026-01-01T00:00:00.000Z', '2026-01-01T00:09:00.000Z')).toEqual(['first', 'second', 'second, written later', 'a minute on']);
    expect(await list('2026-01-01T00:00:01.500Z', '2026-01-01T00:00:02.000Z')).toEqual(['second', 'second, written later']);
    const firstTwo = Buffer.byteLength(JSON.stringify({ at: '2026-01-01T00:00:01.000Z', operationId: 'first' }) + JSON.stringify({ at: '2026-01-01T00:00:02.000Z', operationId: 'second' }));
    expect(await list('2026-01-01T00:00:00.000Z', '2026-01-01T00:09:00.000Z', firstTwo)).toEqual(['first', 'second']);
    // Written after the migration at an instant an old row has: it comes after the old row.
    await store.transaction((tx) => tx.appendAudit('g/i', { at: '2026-01-01T00:00:02.000Z', operationId: 'new' }));
    expect(await list('2026-01-01T00:00:02.000Z', '2026-01-01T00:00:02.000Z')).toEqual(['second', 'second, written later', 'new']);
    await store.transaction((tx) => tx.deleteAudit(['g/i']));
    expect(await list('2026-01-01T00:00:00.000Z', '2026-01-01T00:09:00.000Z')).toEqual([]);
    expect(await store.read((tx) => tx.listAudit('g/other', '2026-01-01T00:00:00.000Z', '2026-01-01T00:09:00.000Z', Number.MAX_SAFE_INTEGER)))
      .toEqual([{ at: '2026-01-01T00:00:01.000Z', operationId: 'elsewhere' }]);
    await store.close();
    // The rows moved: the old table, and the space its indexes took, are gone.
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'audit_events%'").all()).toEqual([]);
    after.close();
  });

  it('shows journaled audit events at once and keeps them across a close and reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-'));
    dirs.push(dir);
    const path = join(dir, 'db.sqlite');
    const store = openSqliteStore({ path });
    store.journal('g/i', { at: '2026-01-01T00:00:01.000Z', operationId: 'first' });
    store.journal('g/other', { at: '2026-01-01T00:00:01.000Z', operationId: 'elsewhere' });
    store.journal('g/i', { at: '2026-01-01T00:00:02.000Z', operationId: 'second' });
    const seen = await store.read((tx) => tx.listAudit('g/i', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:09.000Z', Number.MAX_SAFE_INTEGER));
    expect(seen.map((e) => e['operationId'])).toEqual(['first', 'second']);
    await store.close();

    const reopened = openSqliteStore({ path });
    const stored = await reopened.read((tx) => tx.listAudit('g/i', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.500Z', Number.MAX_SAFE_INTEGER));
    expect(stored.map((e) => e['operationId'])).toEqual(['first']);
    await reopened.close();
  });

  it('writes a journal batch of any size whole and in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-'));
    dirs.push(dir);
    const path = join(dir, 'db.sqlite');
    const store = openSqliteStore({ path });
    // More than one multi-row INSERT's worth, and a remainder, for each of two instances.
    const at = (i: number) => `2026-01-01T00:00:${String(Math.floor(i / 10)).padStart(2, '0')}.${String(i % 10)}00Z`;
    for (let i = 0; i < 123; i++) store.journal(i % 3 === 0 ? 'g/other' : 'g/i', { at: at(i), n: i });
    await store.close();
    const reopened = openSqliteStore({ path });
    const stored = await reopened.read((tx) => tx.listAudit('g/i', at(0), at(122), Number.MAX_SAFE_INTEGER));
    expect(stored).toEqual([...Array(123).keys()].filter((i) => i % 3 !== 0).map((i) => ({ at: at(i), n: i })));
    expect(await reopened.read((tx) => tx.listAudit('g/other', at(0), at(122), Number.MAX_SAFE_INTEGER))).toHaveLength(41);
    await reopened.close();
  });

  it('moves its generation on when a transaction changes entities, not when it only reads', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const start = store.generation();
    await store.transaction((tx) => tx.get('k', 'a'));
    await store.read((tx) => tx.get('k', 'a'));
    expect(store.generation()).toBe(start);
    await store.transaction((tx) => tx.insert('k', { id: 'a' }, { v: 1 }));
    expect(store.generation()).not.toBe(start);
    await store.close();
  });

  it('moves its generation for a mark reads see (a revoked token)', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const start = store.generation();
    expect(await store.transaction((tx) => tx.insertOnce('revoked', 'jti', Date.now() + 60_000))).toBe(true);
    expect(store.generation()).not.toBe(start);
    await store.close();
  });

  it('keeps its identity generation for writes of credential-free kinds alone, and moves it for any other kind', async () => {
    const store = openSqliteStore({ path: ':memory:', credentialFreeKinds: new Set(['connection']) });
    const start = store.identityGeneration();
    await store.transaction(async (tx) => {
      await tx.insert('connection', { id: 'c', parentId: 'w', name: 'c' }, { v: 1 });
      await tx.update('connection', 'c', { v: 2 });
      await tx.put('connection', { id: 'd', parentId: 'w' }, { v: 1 });
      await tx.delete('connection', 'c');
      await tx.deleteChildren('connection', 'w');
    });
    expect(store.generation()).not.toBe(start);
    expect(store.identityGeneration()).toBe(start);
    const writes: Array<(tx: StoreTx) => Promise<unknown>> = [
      (tx) => tx.insert('apiKey', { id: 'k' }, { v: 1 }),
      (tx) => tx.update('apiKey', 'k', { v: 2 }),
      (tx) => tx.put('revokedToken', { id: 'j' }, {}),
      (tx) => tx.insertOnce('revokedToken', 'j2', Date.now() + 60_000),
      (tx) => tx.delete('apiKey', 'k'),
      (tx) => tx.deleteChildren('accessEntry', 'k'),
    ];
    for (const write of writes) {
      const before = store.identityGeneration();
      await store.transaction(write);
      expect(store.identityGeneration()).not.toBe(before);
    }
    // A rolled-back write may have been read inside its transaction: it counts as well.
    const beforeRollback = store.identityGeneration();
    await expect(store.transaction(async (tx) => { await tx.insert('apiKey', { id: 'gone' }, {}); throw new Error('rolled back'); })).rejects.toThrow('rolled back');
    expect(store.identityGeneration()).not.toBe(beforeRollback);
    await store.close();
  });

  it('moves its identity generation for every write when told of no credential-free kind', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const start = store.identityGeneration();
    await store.transaction((tx) => tx.insert('connection', { id: 'c' }, { v: 1 }));
    expect(store.identityGeneration()).not.toBe(start);
    await store.close();
  });
});
