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
});
