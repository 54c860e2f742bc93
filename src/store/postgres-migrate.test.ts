// Several nodes starting together on an empty database: the schema is created once, and
// every node comes up.
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { openPostgresStore } from './postgres.js';
import { migrations } from './migrations.js';
import { createTestSchema, SKIP_MESSAGE, testDatabaseUrl } from '../testing/postgres.js';

const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);

describe.skipIf(!serverUrl)('PostgreSQL migrations', () => {
  it('six stores opening at once apply each step once and all work', async () => {
    const schema = await createTestSchema(serverUrl!);
    try {
      const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore({ url: schema.url, maxConnections: 2 })));
      await Promise.all(stores.map((store, i) => store.transaction((tx) => tx.insert('node', { id: String(i) }, { i }))));
      expect((await stores[0]!.read((tx) => tx.listAll('node'))).total).toBe(6);
      await Promise.all(stores.map((s) => s.close()));
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
      await client.end();
      const shared = rows.map((r) => r.version).filter((v) => v < 1000);
      expect(shared).toEqual(migrations.map((_, i) => i + 1));
      expect(rows.length).toBeGreaterThan(shared.length);
    } finally {
      await schema.drop();
    }
  });

  it('a database from before the audit chunks has its trail moved into chunks, and new events number after the old', async () => {
    const schema = await createTestSchema(serverUrl!);
    try {
      // The first release's schema as a node left it: the events table and its sequence.
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
      await client.query(migrations[0]!);
      await client.query("INSERT INTO schema_migrations VALUES (1, '2026-01-01')");
      await client.query('CREATE SEQUENCE audit_events_seq_gen');
      const rows: Array<[string, string, string]> = [
        ['g/i', '2026-01-01T00:00:02.000Z', 'second'],
        ['g/i', '2026-01-01T00:00:01.000Z', 'first'],
        ['g/other', '2026-01-01T00:00:01.000Z', 'elsewhere'],
        ['g/i', '2026-01-01T00:00:02.000Z', 'second, written later'],
      ];
      for (const [scope, at, operationId] of rows) {
        await client.query("INSERT INTO audit_events (scope_id, at, seq, event) VALUES ($1, $2, nextval('audit_events_seq_gen'), $3)", [scope, at, JSON.stringify({ at, operationId })]);
      }
      await client.end();

      const store = await openPostgresStore({ url: schema.url, maxConnections: 2 });
      const list = () => store.read((tx) => tx.listAudit('g/i', '2026-01-01T00:00:00.000Z', '2026-01-01T00:09:00.000Z', Number.MAX_SAFE_INTEGER))
        .then((events) => events.map((e) => e['operationId']));
      expect(await list()).toEqual(['first', 'second', 'second, written later']);
      await store.transaction((tx) => tx.appendAudit('g/i', { at: '2026-01-01T00:00:02.000Z', operationId: 'new' }));
      expect(await list()).toEqual(['first', 'second', 'second, written later', 'new']);
      await store.close();
      const after = new pg.Client({ connectionString: schema.url });
      await after.connect();
      const { rows: left } = await after.query("SELECT to_regclass('audit_events') AS events, to_regclass('audit_events_seq_gen') AS sequence");
      await after.end();
      expect(left).toEqual([{ events: null, sequence: null }]);
    } finally {
      await schema.drop();
    }
  });
});
