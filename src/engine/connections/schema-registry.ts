// A SchemaRegistry connection (Confluent) and Avro in Confluent's wire format: magic byte 0,
// the schema id as a 4-byte big-endian integer, then the Avro body. Schemas are fetched by
// id (`GET /schemas/ids/{id}`) and registered or looked up under a subject
// (`POST /subjects/{subject}/versions`, `POST /subjects/{subject}`), trying the connection's
// URLs in order. `avsc` does the Avro encoding; the registry's REST calls are a handful of
// fetches, so no registry client library (the npm ones pull in a second Avro implementation).
import type avro from 'avsc';
import { Binary } from 'bson';
import { PipelineError, type ConnectionDefinition } from '../contract.js';
import { avroLibrary } from './client-libraries.js';
import { isPlainObject, type Doc, type Value } from '../expressions/values.js';

const MAGIC_BYTE = 0;
const HEADER_BYTES = 5;

/** A message or document that cannot be decoded or encoded: it goes to the DLQ with this reason. */
export class AvroRecordError extends Error {}

export class SchemaRegistryClient {
  private readonly urls: string[];
  private readonly authorization: string | undefined;
  private readonly byId = new Map<number, avro.Type>();

  /** `kafka` supplies the SASL credentials a `SASL_INHERIT` registry reuses. */
  constructor(private readonly connection: ConnectionDefinition, kafka?: ConnectionDefinition) {
    const urls = connection['schemaRegistryUrls'];
    if (!Array.isArray(urls) || urls.length === 0) throw new PipelineError(`SchemaRegistry connection ${connection.name} has no schemaRegistryUrls`);
    this.urls = urls.map((u) => String(u).replace(/\/+$/, ''));
    const auth = (connection['schemaRegistryAuthentication'] ?? {}) as { type?: string; username?: string; password?: string };
    const kafkaAuth = (kafka?.['authentication'] ?? {}) as { username?: string; password?: string };
    const credentials = auth.type === 'SASL_INHERIT' ? kafkaAuth : auth.type === 'USER_INFO' ? auth : undefined;
    if (credentials?.username !== undefined) {
      this.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}`;
    }
  }

  /** Fetches (once) the schemas of `ids` not seen yet; an id the registry does not know stays unknown. */
  async load(ids: Iterable<number>): Promise<void> {
    for (const id of new Set(ids)) {
      if (this.byId.has(id)) continue;
      const body = await this.request('GET', `/schemas/ids/${id}`);
      if (body === undefined) continue;
      this.byId.set(id, parseSchema(body['schema'], `schema id ${id}`));
    }
  }

  /** Decodes one framed Avro message with a schema `load` fetched. */
  decode(value: Buffer | null): Doc {
    if (!value || value.length < HEADER_BYTES || value[0] !== MAGIC_BYTE) {
      throw new AvroRecordError('Input message is not Avro in the schema registry wire format (magic byte 0 and a 4-byte schema id)');
    }
    const id = value.readInt32BE(1);
    const type = this.byId.get(id);
    if (!type) throw new AvroRecordError(`schema id ${id} was not found in schema registry ${this.connection.name}`);
    let decoded: unknown;
    try {
      decoded = type.fromBuffer(value.subarray(HEADER_BYTES));
    } catch (error) {
      throw new AvroRecordError(`Input message could not be decoded with schema id ${id}: ${(error as Error).message}`);
    }
    const doc = fromAvro(decoded);
    if (!isPlainObject(doc)) throw new AvroRecordError(`schema id ${id} does not describe a record`);
    return doc;
  }

  /** The id of `schema` under `subject`, registering it when `register` is set; undefined when the registry does not have it. */
  async idFor(subject: string, schema: string, register: boolean): Promise<number | undefined> {
    const body = register
      ? await this.request('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema, schemaType: 'AVRO' })
      : await this.request('POST', `/subjects/${encodeURIComponent(subject)}`, { schema, schemaType: 'AVRO' });
    return typeof body?.['id'] === 'number' ? body['id'] : undefined;
  }

  /** The JSON body of a 2xx answer; undefined for 404; throws for anything else, after trying every URL. */
  private async request(method: string, path: string, body?: object): Promise<Record<string, unknown> | undefined> {
    const failures: string[] = [];
    for (const base of this.urls) {
      let response: Response;
      try {
        response = await fetch(`${base}${path}`, {
          method,
          headers: {
            accept: 'application/vnd.schemaregistry.v1+json, application/json',
            ...(body ? { 'content-type': 'application/vnd.schemaregistry.v1+json' } : {}),
            ...(this.authorization ? { authorization: this.authorization } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(10_000),
        });
      } catch (error) {
        failures.push(`${base}: ${(error as Error).message}`);
        continue;
      }
      if (response.status === 404) return undefined;
      if (!response.ok) {
        failures.push(`${base}: HTTP ${response.status}`);
        continue;
      }
      return (await response.json()) as Record<string, unknown>;
    }
    throw new Error(`schema registry ${this.connection.name} did not answer ${method} ${path} (${failures.join('; ')})`);
  }
}

export function parseSchema(schema: unknown, what: string): avro.Type {
  try {
    const definition = typeof schema === 'string' ? JSON.parse(schema) : schema;
    return avroLibrary().Type.forSchema(definition as avro.Schema);
  } catch (error) {
    throw new PipelineError(`${what} is not a valid Avro schema: ${(error as Error).message}`);
  }
}

/** Frames an Avro body with its schema id. */
export function encodeFramed(type: avro.Type, schemaId: number, doc: Doc): Buffer {
  const value = toAvro(doc);
  const problems: string[] = [];
  if (!type.isValid(value, { errorHook: (path) => problems.push(path.join('.') || '(root)') })) {
    throw new AvroRecordError(`document does not match the Avro schema at ${problems.join(', ')}`);
  }
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(MAGIC_BYTE, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

// avsc decodes records into class instances and bytes/fixed into Buffers; documents hold
// plain objects and BSON binData.
function fromAvro(value: unknown): Value {
  if (Buffer.isBuffer(value)) return new Binary(value);
  if (Array.isArray(value)) return value.map(fromAvro);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, fromAvro(v)]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromAvro(v)]));
  }
  return value as Value;
}

// BSON values Avro has no type for become the nearest Avro value: binData bytes, dates
// milliseconds (Avro's timestamp-millis), ObjectIds and decimals strings. Matched by
// `_bsontype`: documents may carry values of another copy of the bson package (the driver's).
function toAvro(value: unknown): unknown {
  if (value instanceof Date) return value.getTime();
  if (Array.isArray(value)) return value.map(toAvro);
  if (value === null || typeof value !== 'object') return value;
  const bson = value as { _bsontype?: string; buffer?: Uint8Array; toNumber?: () => number; valueOf(): unknown; toString(): string };
  switch (bson._bsontype) {
    case 'Binary': return Buffer.from(bson.buffer!.subarray(0, (value as { position: number }).position));
    case 'ObjectId': case 'Decimal128': return bson.toString();
    case 'Long': return bson.toNumber!();
    case 'Int32': case 'Double': return bson.valueOf();
    case undefined: return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toAvro(v)]));
    default: return value;
  }
}

/** The registry a `$source`/`$emit` names in `schemaRegistry.connectionName`, or undefined without one. */
export function schemaRegistryOf(
  spec: Doc,
  stage: string,
  connections: Record<string, ConnectionDefinition>,
  kafka: ConnectionDefinition,
): { registry: SchemaRegistryClient; spec: Doc } | undefined {
  const registrySpec = spec['schemaRegistry'];
  if (registrySpec === undefined) return undefined;
  if (!isPlainObject(registrySpec)) throw new PipelineError(`${stage}.schemaRegistry must be a document`);
  const name = registrySpec['connectionName'];
  const connection = typeof name === 'string' ? connections[name] : undefined;
  if (!connection) throw new PipelineError(`connection named ${String(name)} does not exist. Check sp.listConnections() for available connections`);
  if (connection.type !== 'SchemaRegistry') throw new PipelineError(`connection ${connection.name} is of type ${connection.type}; ${stage}.schemaRegistry needs SchemaRegistry`);
  return { registry: new SchemaRegistryClient(connection, kafka), spec: registrySpec };
}
