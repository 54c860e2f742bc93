// Test databases on the PostgreSQL that scripts/ci-postgres.sh starts: each test server or
// suite gets a schema of its own, so that tests in parallel workers never see each other's rows.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../store/postgres.js';

export const TEST_DATABASE_URL_VARIABLE = 'ATLAS_STREAMS_TEST_DATABASE_URL';

/**
 * The server URL, or undefined (the PostgreSQL tests skip) outside CI. In CI a missing
 * database is an error, never a silent skip.
 */
export function testDatabaseUrl(): string | undefined {
  const url = process.env[TEST_DATABASE_URL_VARIABLE];
  if (url) return url;
  if (process.env['CI'] === 'true') throw new Error(`${TEST_DATABASE_URL_VARIABLE} is not set: .ci/run starts PostgreSQL with scripts/ci-postgres.sh`);
  return undefined;
}

export const SKIP_MESSAGE = `PostgreSQL tests skipped: run eval "$(scripts/ci-postgres.sh start)" to set ${TEST_DATABASE_URL_VARIABLE}`;

export interface TestSchema {
  /** The server URL with this schema first on the search path. */
  url: string;
  drop(): Promise<void>;
}

/** A fresh schema; or, given a seed (a restart test's data directory), the same schema every time. */
export async function createTestSchema(serverUrl: string, seed?: string): Promise<TestSchema> {
  const schema = `t_${seed === undefined ? randomBytes(8).toString('hex') : createHash('sha256').update(seed).digest('hex').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A suite's hooks (vitest's beforeAll and afterAll), passed in so that this module needs no test runner. */
export interface SuiteHooks {
  beforeAll(fn: () => Promise<void>): void;
  afterAll(fn: () => Promise<void>): void;
}

/** A PostgreSQL store on a fresh schema for the suite whose hooks these are; the function gives it once the suite has started. */
export function storeForSuite(serverUrl: string, hooks: SuiteHooks): () => PostgresStore {
  let schema: TestSchema | undefined;
  let store: PostgresStore | undefined;
  hooks.beforeAll(async () => {
    schema = await createTestSchema(serverUrl);
    store = await openPostgresStore({ url: schema.url });
  });
  hooks.afterAll(async () => {
    await store?.close();
    await schema?.drop();
  });
  return () => store!;
}
