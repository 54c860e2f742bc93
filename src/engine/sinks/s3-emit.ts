// $emit to an S3 bucket (sp-agg-emit, "AWS S3"). Documents are gathered per object path
// (`path`, a string or an expression evaluated per document) and written as one object
// once `config.writeOptions` says so: `count` documents, at least `bytes` BSON bytes, or
// `interval` (default 1 minute) since the object's first document, whichever comes first.
// Entries are JSON (`json-output.ts`) joined by `delimiter` (default "\n"), optionally gzip.
//
// Emulator differences (docs/differences-from-atlas.md): the emulator cannot assume the
// connection's IAM role, so the AWS SDK's own configuration applies (AWS_ACCESS_KEY_ID,
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, ...; path-style addressing when an endpoint is
// set, e.g. MinIO or LocalStack). Object keys are `<path>/<epoch ms>-<processor id>-<n>.json`
// (`.gz` added when compressed): the page does not say how Atlas names them. snappy is
// refused: no maintained snappy codec for Node 20 works without native binaries.
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Library } from '../connections/client-libraries.js';
import { PipelineError, type ConnectionDefinition } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { isPlainObject, type Doc, type Evaluate } from '../expressions/values.js';
import { refuseUnknownFields } from '../stage-options.js';
import { bsonSize } from '../runtime/bson-size.js';
import { withRetries } from '../runtime/retry.js';
import { ProcessorFailure, type StageContext } from '../stages/operator.js';
import { jsonEncoderOf, type JsonEncoder } from './json-output.js';
import type { Sink } from './sink.js';

const INTERVAL_UNIT_MS: Record<string, number> = { ms: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MAX_INTERVAL_MS = 7 * 86_400_000;

/** Documents waiting to become one object. */
interface PendingObject { path: string; entries: string[]; bsonBytes: number; openedAt: number }

export class S3Sink implements Sink {
  readonly name = '$emit';
  private readonly bucket: string;
  private readonly region: string | undefined;
  private readonly path: Evaluate;
  private readonly maxCount: number | undefined;
  private readonly maxBytes: number | undefined;
  private readonly intervalMs: number;
  private readonly delimiter: string;
  private readonly json: JsonEncoder;
  private readonly gzipLevel: number | undefined;
  private pending = new Map<string, PendingObject>();
  private written = 0;
  private client: S3Client | undefined;

  constructor(
    spec: Doc,
    private readonly connection: ConnectionDefinition,
    private readonly ctx: StageContext,
    private readonly processorId: string,
  ) {
    if (typeof spec['bucket'] !== 'string' || spec['bucket'] === '') throw new PipelineError('$emit to S3 needs a bucket (a non-empty string)');
    this.bucket = spec['bucket'];
    if (spec['region'] !== undefined && typeof spec['region'] !== 'string') throw new PipelineError('$emit.region must be a string');
    this.region = spec['region'];
    if (spec['path'] === undefined) throw new PipelineError('$emit to S3 needs a path');
    this.path = compileExpression(spec['path']);
    const config = (spec['config'] ?? {}) as Doc;
    const writeOptions = (config['writeOptions'] ?? {}) as Doc;
    if (!isPlainObject(writeOptions)) throw new PipelineError('$emit.config.writeOptions must be a document');
    refuseUnknownFields('$emit.config.writeOptions', writeOptions, ['count', 'bytes', 'interval']);
    this.maxCount = positiveInteger(writeOptions['count'], '$emit.config.writeOptions.count');
    this.maxBytes = positiveInteger(writeOptions['bytes'], '$emit.config.writeOptions.bytes');
    this.intervalMs = intervalMs(writeOptions['interval']);
    const delimiter = config['delimiter'] ?? '\n';
    if (typeof delimiter !== 'string') throw new PipelineError('$emit.config.delimiter must be a string');
    this.delimiter = delimiter;
    this.json = jsonEncoderOf(config);
    const compression = config['compression'];
    if (compression === 'snappy') throw new PipelineError('$emit.config.compression "snappy" is not supported by this emulator (gzip is); see docs/differences-from-atlas.md');
    if (compression !== undefined && compression !== 'gzip') throw new PipelineError('$emit.config.compression must be "gzip" or "snappy"');
    const level = config['compressionLevel'];
    if (level !== undefined && (compression === undefined || typeof level !== 'number' || !Number.isInteger(level) || level < 1 || level > 9)) {
      throw new PipelineError('$emit.config.compressionLevel must be an integer from 1 to 9, with compression "gzip"');
    }
    this.gzipLevel = compression === 'gzip' ? level ?? 6 : undefined;
  }

  async open(): Promise<void> {
    const endpointOverride = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
    const { HeadBucketCommand, S3Client } = s3Library();
    this.client = new S3Client({
      region: this.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
      forcePathStyle: endpointOverride !== undefined,
      maxAttempts: 1, // withRetries retries, as for every sink
    });
    await withRetries(`reaching bucket ${this.bucket} of S3 connection ${this.connection.name}`, () => this.client!.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  async write(docs: Doc[]): Promise<number> {
    let bytes = 0;
    const now = Date.now();
    for (const doc of docs) {
      let path: string;
      let entry: string;
      try {
        const value = this.path(doc);
        if (typeof value !== 'string' || value === '') throw new Error(`$emit path expression must evaluate to a non-empty string, got ${String(value)}`);
        path = value;
        entry = this.json(doc);
      } catch (error) {
        if (error instanceof ProcessorFailure) throw error;
        this.ctx.deadLetter(doc, (error as Error).message);
        continue;
      }
      let object = this.pending.get(path);
      if (!object) this.pending.set(path, (object = { path, entries: [], bsonBytes: 0, openedAt: now }));
      object.entries.push(entry);
      object.bsonBytes += bsonSize(doc);
      bytes += Buffer.byteLength(entry);
      if (this.full(object)) await this.put(object);
    }
    await this.onTick(now);
    return bytes;
  }

  /** Writes the objects whose interval has run out. */
  async onTick(now: number): Promise<void> {
    for (const object of [...this.pending.values()]) {
      if (now - object.openedAt >= this.intervalMs) await this.put(object);
    }
  }

  /** Writes every pending object (at stop, so nothing waits for a restart). */
  async flush(): Promise<void> {
    for (const object of [...this.pending.values()]) await this.put(object);
  }

  snapshot(): unknown {
    return [...this.pending.values()];
  }

  restore(state: unknown): void {
    this.pending = new Map((state as PendingObject[]).map((object) => [object.path, object]));
  }

  private full(object: PendingObject): boolean {
    return (this.maxCount !== undefined && object.entries.length >= this.maxCount)
      || (this.maxBytes !== undefined && object.bsonBytes >= this.maxBytes);
  }

  private async put(object: PendingObject): Promise<void> {
    this.written += 1;
    const text = Buffer.from(object.entries.join(this.delimiter));
    const body = this.gzipLevel === undefined ? text : gzipSync(text, { level: this.gzipLevel });
    const key = `${object.path.replace(/\/+$/, '')}/${Date.now()}-${this.processorId}-${this.written}.json${this.gzipLevel === undefined ? '' : '.gz'}`;
    await withRetries(`writing ${key} to bucket ${this.bucket} of S3 connection ${this.connection.name}`, () => this.client!.send(new (s3Library().PutObjectCommand)({
      Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json', ...(this.gzipLevel === undefined ? {} : { ContentEncoding: 'gzip' }),
    })));
    this.pending.delete(object.path);
  }

  async close(): Promise<void> {
    this.client?.destroy();
  }
}

function positiveInteger(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new PipelineError(`${field} must be a positive integer`);
  return value;
}

function intervalMs(interval: unknown): number {
  if (interval === undefined) return INTERVAL_UNIT_MS['minute']!;
  if (!isPlainObject(interval)) throw new PipelineError('$emit.config.writeOptions.interval must be a document {size, unit}');
  const size = interval['size'] ?? 1;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) throw new PipelineError('$emit.config.writeOptions.interval.size must be a positive integer');
  const unit = interval['unit'] ?? 'minute';
  const unitMs = typeof unit === 'string' ? INTERVAL_UNIT_MS[unit] : undefined;
  if (unitMs === undefined) throw new PipelineError('$emit.config.writeOptions.interval.unit must be one of ms, second, minute, hour, day');
  if (size * unitMs > MAX_INTERVAL_MS) throw new PipelineError('$emit.config.writeOptions.interval must be at most 7 days');
  return size * unitMs;
}
