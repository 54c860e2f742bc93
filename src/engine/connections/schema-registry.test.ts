// The registry client's authentication and URL order, against the local registry stand-in
// (the end-to-end Avro tests through processors are in ../schema-registry.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import avro from 'avsc';
import { SchemaRegistryClient } from './schema-registry.js';
import { startSchemaRegistry, type TestSchemaRegistry } from '../testing/schema-registry-server.js';

const SCHEMA = { type: 'record', name: 'Point', fields: [{ name: 'x', type: 'int' }] };
const SASL = { username: 'kafka-user', password: 'kafka-sasl-pw' };

describe('SchemaRegistryClient', () => {
  let registry: TestSchemaRegistry;
  beforeAll(async () => { registry = await startSchemaRegistry(SASL); });
  afterAll(async () => { await registry?.stop(); });

  const framedPoint = (id: number, x: number) => {
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    return Buffer.concat([header, avro.Type.forSchema(SCHEMA as avro.Schema).toBuffer({ x })]);
  };

  it('SASL_INHERIT authenticates with the Kafka connection\'s SASL credentials; a URL that does not answer is skipped for the next', async () => {
    const id = registry.register('points-value', SCHEMA);
    const client = new SchemaRegistryClient(
      { name: 'reg', type: 'SchemaRegistry', schemaRegistryUrls: ['http://127.0.0.1:9', `${registry.url}/`], schemaRegistryAuthentication: { type: 'SASL_INHERIT' } },
      { name: 'kafka', type: 'Kafka', authentication: { mechanism: 'PLAIN', ...SASL } },
    );
    await client.load([id, id]);
    expect(client.decode(framedPoint(id, 5))).toEqual({ x: 5 });
    const fetched = registry.requests.filter((r) => r.url === `/schemas/ids/${id}`);
    expect(fetched).toHaveLength(1);
    expect(fetched[0]!.headers.authorization).toBe(`Basic ${Buffer.from('kafka-user:kafka-sasl-pw').toString('base64')}`);
  });

  it('without credentials the registry refuses, and the error names the connection and the call, not a secret', async () => {
    const client = new SchemaRegistryClient({ name: 'reg', type: 'SchemaRegistry', schemaRegistryUrls: [registry.url] });
    await expect(client.load([1])).rejects.toThrow(`schema registry reg did not answer GET /schemas/ids/1 (${registry.url}: HTTP 401)`);
  });

  it('looks a schema up under its subject without registering it when autoRegisterSchemas is false', async () => {
    const client = new SchemaRegistryClient(
      { name: 'reg', type: 'SchemaRegistry', schemaRegistryUrls: [registry.url], schemaRegistryAuthentication: { type: 'USER_INFO', ...SASL } },
    );
    const text = JSON.stringify(SCHEMA);
    expect(await client.idFor('points-value', text, false)).toBe(registry.subjectIds('points-value')[0]);
    expect(await client.idFor('absent-value', text, false)).toBeUndefined();
    expect(registry.subjectIds('absent-value')).toEqual([]);
  });
});
