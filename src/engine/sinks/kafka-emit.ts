// $emit to Kafka. The topic may be an expression (a document whose topic cannot be
// computed goes to the DLQ); key and headers are expressions too. Values are relaxed
// (default) or canonical Extended JSON (`json-output.ts`, dates optionally ISO 8601); `tombstoneWhen` turns a document into a
// tombstone (its key, a null value). `compression_type` compresses each batch. With
// `schemaRegistry`, values are Avro in the registry's wire format (`avro-value.ts`).
import { EJSON, Binary } from 'bson';
import type { CompressionTypes, Producer, Message } from 'kafkajs';
import { PipelineError, type ConnectionDefinition } from '../contract.js';
import { kafkaLibrary } from '../connections/client-libraries.js';
import { createKafka } from '../connections/kafka.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { isPlainObject, truthy, type Doc, type Evaluate, type Value } from '../expressions/values.js';
import type { EngineSettings } from '../runtime/environment.js';
import { withRetries } from '../runtime/retry.js';
import { ProcessorFailure, type StageContext } from '../stages/operator.js';
import type { Sink } from './sink.js';
import type { AvroValueEncoder } from './avro-value.js';
import { jsonEncoderOf, type JsonEncoder } from './json-output.js';

const silentLog = { info() {}, warn() {}, error() {} };

// kafkajs ships gzip only; librdkafka's snappy, lz4 and zstd would need codecs this
// emulator does not have, and refusing says so rather than sending uncompressed.
const compressionNamed = (name: string): CompressionTypes | undefined => {
  const { CompressionTypes: types } = kafkaLibrary();
  return ({ none: types.None, gzip: types.GZIP } as Record<string, CompressionTypes>)[name];
};

export class KafkaSink implements Sink {
  readonly name = '$emit';
  private readonly topic: Evaluate;
  private readonly key: Evaluate | undefined;
  private readonly keyFormat: string;
  private readonly headers: Evaluate | undefined;
  private readonly json: JsonEncoder;
  private readonly acks: number;
  private readonly compression: CompressionTypes;
  private readonly tombstoneWhen: Evaluate | undefined;
  private producer: Producer | undefined;

  constructor(
    spec: Doc,
    private readonly connection: ConnectionDefinition,
    private readonly ctx: StageContext,
    private readonly options: { processorId: string; settings: EngineSettings; avro?: AvroValueEncoder },
  ) {
    if (spec['topic'] === undefined) throw new PipelineError('$emit to Kafka needs a topic');
    this.topic = compileExpression(spec['topic']);
    const config = (spec['config'] ?? {}) as Doc;
    this.key = config['key'] === undefined ? undefined : compileExpression(config['key']);
    this.keyFormat = config['keyFormat'] ?? 'string';
    this.headers = config['headers'] === undefined ? undefined : compileExpression(config['headers']);
    this.json = jsonEncoderOf(config);
    this.acks = config['acks'] === undefined || config['acks'] === 'all' ? -1 : Number(config['acks']);
    const compression = compressionNamed(String(config['compression_type'] ?? 'none').toLowerCase());
    if (compression === undefined) throw new PipelineError(`$emit.config.compression_type ${String(config['compression_type'])} is not supported by this emulator (none or gzip)`);
    this.compression = compression;
    this.tombstoneWhen = config['tombstoneWhen'] === undefined ? undefined : compileExpression(config['tombstoneWhen']);
  }

  async open(): Promise<void> {
    const kafka = createKafka(this.connection, `asp-${this.options.processorId}-producer`, this.options.settings, silentLog);
    this.producer = kafka.producer({ allowAutoTopicCreation: true });
    await withRetries(`connecting to Kafka connection ${this.connection.name}`, () => this.producer!.connect());
  }

  async write(docs: Doc[]): Promise<number> {
    const byTopic = new Map<string, Message[]>();
    let bytes = 0;
    for (const doc of docs) {
      let message: Message;
      let topic: Value;
      try {
        topic = this.topic(doc);
        if (typeof topic !== 'string' || topic === '') throw new Error(`$emit topic expression must evaluate to a non-empty string, got ${String(topic)}`);
        const tombstone = this.tombstoneWhen !== undefined && truthy(this.tombstoneWhen(doc));
        // Avro values wait for the registry; JSON ones are written without a promise per message,
        // and as text: kafkajs writes it into the request as UTF-8, with no Buffer in between.
        const value = tombstone ? null : this.options.avro ? await this.options.avro.encode(topic, doc) : this.json(doc);
        message = this.message(doc, value);
      } catch (error) {
        if (error instanceof ProcessorFailure) throw error;
        this.ctx.deadLetter(doc, (error as Error).message);
        continue;
      }
      if (message.value) bytes += typeof message.value === 'string' ? Buffer.byteLength(message.value) : message.value.length;
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(message);
    }
    if (byTopic.size === 0) return 0;
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await withRetries(`writing to Kafka connection ${this.connection.name}`, () => this.producer!.sendBatch({ topicMessages, acks: this.acks, compression: this.compression }));
    return bytes;
  }

  /** The message for `doc` with its value (null: a tombstone), key and headers. */
  private message(doc: Doc, value: Buffer | string | null): Message {
    const message: Message = { value };
    if (this.key) message.key = encodeKey(this.key(doc), this.keyFormat);
    if (this.headers) {
      const headers = this.headers(doc);
      if (!isPlainObject(headers)) throw new Error('$emit headers expression must evaluate to a document');
      message.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, headerValue(v)]));
    }
    return message;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}

function encodeKey(value: Value, format: string): Buffer | null {
  if (value === null || value === undefined) return null;
  switch (format) {
    case 'string': return Buffer.from(typeof value === 'string' ? value : EJSON.stringify(value));
    case 'json': return Buffer.from(EJSON.stringify(value, { relaxed: true }));
    case 'int': { const b = Buffer.alloc(4); b.writeInt32BE(Number(value)); return b; }
    case 'long': { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(value)); return b; }
    case 'double': { const b = Buffer.alloc(8); b.writeDoubleBE(Number(value)); return b; }
    case 'binData': return value instanceof Binary ? Buffer.from(value.buffer) : Buffer.from(String(value));
    default: throw new Error(`unsupported keyFormat ${format}`);
  }
}

function headerValue(v: Value): string | Buffer {
  if (v instanceof Binary) return Buffer.from(v.buffer);
  if (typeof v === 'string') return v;
  return EJSON.stringify(v, { relaxed: true });
}
