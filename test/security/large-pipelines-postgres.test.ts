// Large pipelines on PostgreSQL, where they are rows of the `blobs` table written before the
// processor's own transaction commits, and transactions run again after losing a race.
// What can be seen from outside: a create whose first run lost its race at COMMIT leaves
// only its processor's pipeline in the table, and a read whose snapshot names a pipeline
// version a modify has since replaced and deleted runs again and answers the new one.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS_KIND, type StoredProcessor } from '../../src/domain/streams/common.js';
import { loadPipeline } from '../../src/domain/streams/pipeline-blobs.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres.js';
import { ACCEPT, callDigest, startTestServer, type TestServer } from '../../src/testing/harness.js';
import { createTestSchema, SKIP_MESSAGE, testDatabaseUrl, type TestSchema } from '../../src/testing/postgres.js';

const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);

/**
 * A pipeline well past the size kept in the processor's row (64 KiB), and read back from the
 * table in more than one piece (1 MiB each); `marker` tells versions apart.
 */
function largePipeline(marker: string): unknown[] {
  return [
    { $source: { connectionName: 'sample_stream_solar' } },
    { $match: { device_id: { $in: Array.from({ length: 80_000 }, (_, i) => `${marker}-é-${i}`) } } },
    { $emit: { connectionName: '__testLog' } },
  ];
}

describe.skipIf(!serverUrl)('large pipelines on PostgreSQL', () => {
  let schema: TestSchema;
  let server: TestServer;
  let sql: pg.Client;
  const workspace = () => `${server.url}/api/atlas/v2/groups/${server.projectId}/streams/large`;
  const pipelineRows = async () => (await sql.query<{ owner: string }>('SELECT owner FROM blobs WHERE kind = $1 ORDER BY owner', [STREAMS_KIND.processor])).rows.map((r) => r.owner);

  beforeAll(async () => {
    schema = await createTestSchema(serverUrl!);
    server = await startTestServer({ databaseUrl: schema.url });
    sql = new pg.Client({ connectionString: schema.url });
    await sql.connect();
    const created = await callDigest(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams:withSampleConnections`, server.owner, {
      method: 'POST', accept: ACCEPT.serviceAccounts, body: { name: 'large', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } },
    });
    expect(created.status, created.text).toBe(200);
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
    await schema?.drop();
  });

  it('a create whose first run fails at COMMIT (a serialization failure) is run again and leaves only its own pipeline', async () => {
    // A deferred constraint trigger fails the first COMMIT that inserts a processor, as a lost
    // SERIALIZABLE race does (SQLSTATE 40001); a sequence, which no rollback undoes, counts the commits.
    await sql.query(`CREATE SEQUENCE processor_commits;
      CREATE FUNCTION fail_first_processor_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.kind = '${STREAMS_KIND.processor}' AND nextval('processor_commits') = 1 THEN
          RAISE EXCEPTION 'could not serialize access (lost race, made by the test)' USING ERRCODE = '40001';
        END IF;
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER fail_first_processor_commit AFTER INSERT ON entities DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION fail_first_processor_commit();`);
    try {
      const pipeline = largePipeline('retried');
      const created = await callDigest(`${workspace()}/processor`, server.owner, { method: 'POST', accept: ACCEPT.processors, body: { name: 'retried', pipeline } });
      expect(created.status, created.text.slice(0, 300)).toBe(200);
      expect((await sql.query<{ last_value: string }>('SELECT last_value FROM processor_commits')).rows[0]!.last_value).toBe('2');
      expect(await pipelineRows()).toEqual([created.json._id]);
      const read = await callDigest(`${workspace()}/processor/retried`, server.owner, { accept: ACCEPT.processors });
      expect(read.status).toBe(200);
      expect(read.text).toContain(`"pipeline":${JSON.stringify(pipeline)}`);
    } finally {
      await sql.query('DROP TRIGGER fail_first_processor_commit ON entities; DROP FUNCTION fail_first_processor_commit(); DROP SEQUENCE processor_commits');
    }
  });

  it('a conflicting create leaves nothing', async () => {
    const before = await pipelineRows();
    const conflict = await callDigest(`${workspace()}/processor`, server.owner, { method: 'POST', accept: ACCEPT.processors, body: { name: 'retried', pipeline: largePipeline('conflict') } });
    expect({ status: conflict.status, errorCode: conflict.json?.errorCode }).toEqual({ status: 409, errorCode: 'STREAM_PROCESSOR_NAME_ALREADY_EXISTS' });
    expect(await pipelineRows()).toEqual(before);
  });

  describe('a read racing a modify', () => {
    let store: PostgresStore;
    beforeAll(async () => {
      store = await openPostgresStore({ url: schema.url });
    });
    afterAll(async () => {
      await store?.close();
    });

    it('whose snapshot names a pipeline version the modify deleted runs again and answers the new pipeline', async () => {
      const first = largePipeline('first');
      const second = largePipeline('second');
      const created = await callDigest(`${workspace()}/processor`, server.owner, { method: 'POST', accept: ACCEPT.processors, body: { name: 'raced', pipeline: first } });
      expect(created.status, created.text.slice(0, 300)).toBe(200);
      const id = created.json._id as string;
      const seen: string[] = [];
      const loaded = await store.read(async (tx) => {
        const processor = (await tx.get<StoredProcessor>(STREAMS_KIND.processor, id))!;
        seen.push(processor.pipelineBlob!.version);
        if (seen.length === 1) {
          // Another node's modify commits after this snapshot, and deletes the version it names before the answer.
          const modified = await callDigest(`${workspace()}/processor/raced`, server.owner, { method: 'PATCH', accept: ACCEPT.processors, body: { pipeline: second } });
          expect(modified.status, modified.text.slice(0, 300)).toBe(200);
        }
        return loadPipeline(store.blobs, processor);
      });
      expect({ runs: seen.length, versionChanged: seen[0] !== seen[1] }).toEqual({ runs: 2, versionChanged: true });
      expect(JSON.stringify(loaded)).toBe(JSON.stringify(second));
    });
  });
});
