// Avro through a SchemaRegistry connection (sp-agg-source, sp-agg-emit `schemaRegistry`):
// against librdkafka's mock cluster and a local Confluent-compatible registry stand-in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import avro from 'avsc';
import { Binary } from 'bson';
import { Kafka, logLevel } from 'kafkajs';
import { createEngine } from './index.js';
import type { ConnectionDefinition, Document } from './contract.js';
import { MemoryHost, collectOutput, definition, eventually } from './testing/memory-host.js';
import { kcatAvailable, startMockKafka, type MockKafka } from './testing/kcat-mock.js';
import { MongoDouble } from './testing/mongo-double.js';
import { startSchemaRegistry, type TestSchemaRegistry } from './testing/schema-registry-server.js';

const READING = {
  type: 'record', name: 'Reading', namespace: 'solar',
  fields: [
    { name: 'device', type: 'string' },
    { name: 'watts', type: 'int' },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'raw', type: 'bytes' },
    { name: 'site', type: { type: 'record', name: 'Site', fields: [{ name: 'id', type: 'long' }] } },
  ],
};
const CREDENTIALS = { username: 'registry-user', password: 'registry-secret-pw' };

/** Confluent wire format, built here independently of the engine: magic byte 0, schema id, Avro body. */
function framed(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

describe.skipIf(!kcatAvailable() && !process.env['CI'])('Avro with a schema registry (kcat mock cluster, registry stand-in)', () => {
  let mock: MockKafka;
  let kafka: Kafka;
  let registry: TestSchemaRegistry;
  let mongo: MongoDouble;

  beforeAll(async () => {
    mock = await startMockKafka();
    kafka = new Kafka({ brokers: [mock.bootstrapServers], logLevel: logLevel.NOTHING });
    registry = await startSchemaRegistry(CREDENTIALS);
    mongo = new MongoDouble();
    await mongo.start();
  });

  afterAll(async () => {
    await mongo?.stop();
    await registry?.stop();
    await mock?.stop();
  });

  const connections = (registryUrls = [registry.url]): Record<string, ConnectionDefinition> => ({
    kafka1: { name: 'kafka1', type: 'Kafka', bootstrapServers: mock.bootstrapServers },
    registry1: {
      name: 'registry1', type: 'SchemaRegistry', provider: 'CONFLUENT', schemaRegistryUrls: registryUrls,
      schemaRegistryAuthentication: { type: 'USER_INFO', ...CREDENTIALS },
    },
    cluster0: { name: 'cluster0', type: 'Cluster', connectionString: mongo.uri },
  });

  it('$source decodes Avro values with the schema their id names; other messages go to the DLQ', async () => {
    const id = registry.register('avro-in-value', READING);
    const type = avro.Type.forSchema(READING as avro.Schema);
    const reading = { device: 'panel-1', watts: 42, note: 'sunny', raw: Buffer.from([1, 2, 3]), site: { id: 7 } };
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'avro-in',
      messages: [
        { key: 'a', value: framed(id, type.toBuffer(reading)) },
        { key: 'b', value: framed(id, type.toBuffer({ ...reading, device: 'panel-2', note: null })) },
        { key: 'c', value: Buffer.from(JSON.stringify({ device: 'json' })) },
        { key: 'd', value: framed(9999, type.toBuffer(reading)) },
      ],
    });
    await producer.disconnect();

    const engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { connectionName: 'kafka1', topic: 'avro-in', schemaRegistry: { connectionName: 'registry1' }, config: { auto_offset_reset: 'earliest' } } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: connections(), options: { dlq: { connectionName: 'cluster0', db: 'avro', coll: 'dlq' } } });
    await engine.start(def, { resumeFromCheckpoint: false });
    const out = await collectOutput(engine, def.id, 2);
    const byDevice = Object.fromEntries(out.map((d) => [d['device'], d]));
    expect(byDevice['panel-1']).toMatchObject({ device: 'panel-1', watts: 42, note: 'sunny', site: { id: 7 } });
    expect(Buffer.from((byDevice['panel-1']!['raw'] as Binary).buffer)).toEqual(Buffer.from([1, 2, 3]));
    expect(byDevice['panel-1']!['_stream_meta']).toMatchObject({ source: { type: 'kafka', topic: 'avro-in' } });
    expect(byDevice['panel-2']).toMatchObject({ watts: 42, note: null });

    const dlq = await eventually(() => { const d = mongo.databases.get('avro')?.get('dlq'); return d && d.length >= 2 ? d : undefined; });
    const reasons = dlq.map((d) => (d['errInfo'] as Document)['reason']).sort();
    expect(reasons).toEqual([
      'Input message is not Avro in the schema registry wire format (magic byte 0 and a 4-byte schema id)',
      'schema id 9999 was not found in schema registry registry1',
    ]);
    // Every registry call carried the connection's USER_INFO credentials.
    const calls = registry.requests.filter((r) => r.url.startsWith('/schemas/ids/'));
    expect(calls.map((r) => r.url).sort()).toEqual([`/schemas/ids/${id}`, '/schemas/ids/9999']);
    expect(calls.every((r) => r.headers.authorization === `Basic ${Buffer.from('registry-user:registry-secret-pw').toString('base64')}`)).toBe(true);
    await engine.close();
  }, 120_000);

  it('$emit registers the value schema under <topic>-value and writes framed Avro; documents that do not fit go to the DLQ', async () => {
    const host = new MemoryHost();
    const engine = createEngine(host);
    const def = definition([
      {
        $source: {
          documents: [
            { device: 'p1', watts: 10, raw64: 'eHk=', site: { id: 1 } },
            { device: 'p2', watts: 'not an int', raw64: 'eg==', site: { id: 2 } },
            { device: 'p3', watts: 30, note: 'cloudy', raw64: '', site: { id: 3 } },
          ],
        },
      },
      // binData made in the pipeline: a definition's own BSON values do not survive the trip to the worker.
      { $addFields: { raw: { $convert: { input: '$raw64', to: 'binData', format: 'base64' } } } },
      {
        $emit: {
          connectionName: 'kafka1', topic: 'avro-out',
          schemaRegistry: { connectionName: 'registry1', valueSchema: { type: 'avro', schema: READING, options: { autoRegisterSchemas: true } } },
        },
      },
    ], { connections: connections(), options: { dlq: { connectionName: 'cluster0', db: 'avro', coll: 'emit_dlq' } } });

    const values: Buffer[] = [];
    const reader = kafka.consumer({ groupId: 'avro-out-reader', maxWaitTimeInMs: 200 });
    await reader.connect();
    await reader.subscribe({ topic: 'avro-out', fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => { values.push(message.value!); } });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => values.length >= 2 || host.failures.get(def.id), 60_000);
    await reader.disconnect();
    expect(host.failures.get(def.id)).toBeUndefined();

    const [id] = registry.subjectIds('avro-out-value');
    expect(id).toBeDefined();
    const type = avro.Type.forSchema(READING as avro.Schema);
    const decoded = values.map((value) => {
      expect(value[0]).toBe(0);
      expect(value.readInt32BE(1)).toBe(id);
      return type.fromBuffer(value.subarray(5)) as Record<string, unknown>;
    });
    const rows = decoded.map((d) => [d['device'], d['watts'], d['note'], (d['site'] as { id: number }).id, (d['raw'] as Buffer).toString()]);
    expect(rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([
      ['p1', 10, null, 1, 'xy'],
      ['p3', 30, 'cloudy', 3, ''],
    ]);
    const dlq = await eventually(() => mongo.databases.get('avro')?.get('emit_dlq')?.[0]);
    expect((dlq['errInfo'] as Document)['reason']).toBe('document does not match the Avro schema at watts');
    await engine.close();
  }, 120_000);

  it('with autoRegisterSchemas false, a schema the registry lacks sends documents to the DLQ; subjectNameStrategy then is refused', async () => {
    const engine = createEngine(new MemoryHost());
    const emit = (options: Document) => definition([
      { $source: { documents: [{ device: 'p9', watts: 9, site: { id: 9 } }] } },
      { $addFields: { raw: { $convert: { input: '', to: 'binData', format: 'base64' } } } },
      { $emit: { connectionName: 'kafka1', topic: 'avro-unregistered', schemaRegistry: { connectionName: 'registry1', valueSchema: { type: 'avro', schema: READING, options } } } },
    ], { connections: connections(), options: { dlq: { connectionName: 'cluster0', db: 'avro', coll: 'unregistered_dlq' } } });
    const def = emit({ autoRegisterSchemas: false });
    await engine.start(def, { resumeFromCheckpoint: false });
    const dlq = await eventually(() => mongo.databases.get('avro')?.get('unregistered_dlq')?.[0], 60_000);
    expect((dlq['errInfo'] as Document)['reason']).toBe('the value schema is not registered under subject avro-unregistered-value and autoRegisterSchemas is false');
    expect(registry.subjectIds('avro-unregistered-value')).toEqual([]);
    await expect(engine.start(emit({ autoRegisterSchemas: false, subjectNameStrategy: 'RecordNameStrategy' }), { resumeFromCheckpoint: false }))
      .rejects.toThrow('$emit.schemaRegistry.valueSchema.options.subjectNameStrategy can only be set when autoRegisterSchemas is true');
    await engine.close();
  }, 120_000);

  it('a registry that cannot be reached fails the processor, naming the connection and never the password', async () => {
    const type = avro.Type.forSchema(READING as avro.Schema);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'avro-unreachable', messages: [{ value: framed(1, type.toBuffer({ device: 'x', watts: 1, note: null, raw: Buffer.alloc(0), site: { id: 1 } })) }] });
    await producer.disconnect();
    const host = new MemoryHost();
    const engine = createEngine(host);
    // Port 9 (discard) on loopback: nothing listens there.
    const def = definition([
      { $source: { connectionName: 'kafka1', topic: 'avro-unreachable', schemaRegistry: { connectionName: 'registry1' }, config: { auto_offset_reset: 'earliest' } } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: connections(['http://127.0.0.1:9']) });
    await engine.start(def, { resumeFromCheckpoint: false });
    const message = await eventually(() => host.failures.get(def.id), 60_000);
    expect(message).toContain('schema registry registry1 did not answer GET /schemas/ids/1');
    expect(message).not.toContain('registry-secret-pw');
    await engine.close();
  }, 120_000);

  it('refuses a schemaRegistry naming a connection that is not a SchemaRegistry, unknown fields, and one beside anything but Kafka', async () => {
    const engine = createEngine(new MemoryHost());
    const wrongType = definition([
      { $source: { connectionName: 'kafka1', topic: 't', schemaRegistry: { connectionName: 'cluster0' } } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: connections() });
    await expect(engine.start(wrongType, { resumeFromCheckpoint: false })).rejects.toThrow('connection cluster0 is of type Cluster; $source.schemaRegistry needs SchemaRegistry');
    const unknownField = definition([
      { $source: { connectionName: 'kafka1', topic: 't', schemaRegistry: { connectionName: 'registry1', keySchema: {} } } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: connections() });
    await expect(engine.start(unknownField, { resumeFromCheckpoint: false })).rejects.toThrow("BSON field '$source.schemaRegistry.keySchema' is an unknown field.");
    const notKafka = definition([
      { $source: { documents: [{ a: 1 }], schemaRegistry: { connectionName: 'registry1' } } },
      { $emit: { connectionName: '__testLog' } },
    ], { connections: connections() });
    await expect(engine.start(notKafka, { resumeFromCheckpoint: false })).rejects.toThrow('$source.schemaRegistry applies to Kafka connections only, not to a document array');
    const emitToCluster = definition([
      { $source: { documents: [{ a: 1 }] } },
      { $emit: { connectionName: 'cluster0', db: 'd', coll: 'c', schemaRegistry: { connectionName: 'registry1', valueSchema: { type: 'avro', schema: READING } } } },
    ], { connections: connections() });
    await expect(engine.start(emitToCluster, { resumeFromCheckpoint: false })).rejects.toThrow('$emit.schemaRegistry applies to Kafka connections only, not to a Cluster connection');
    await engine.close();
  });
});
