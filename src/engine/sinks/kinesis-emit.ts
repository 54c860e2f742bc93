// $emit to a Kinesis data stream (sp-agg-emit, "AWS Kinesis"): each document is one
// record, JSON as `json-output.ts` writes it (relaxed by default), sent with PutRecords
// in batches of at most 500. `partitionKey` is a string, a field path or an expression
// evaluated per document; without one each record gets a random key, spreading records
// over the shards. A document whose key is not a non-empty string (a number is turned into
// one) or whose record passes Kinesis's 1 MB goes to the DLQ; records Kinesis refuses are
// sent again, and a stream that stays unreachable FAILs the processor.
//
// Emulator difference (docs/differences-from-atlas.md): credentials and endpoint come from
// the AWS SDK's environment (AWS_ENDPOINT_URL_KINESIS, ...), not the connection's role.
import { randomUUID } from 'node:crypto';
import type { KinesisClient, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { httpHandlerLibrary, kinesisLibrary } from '../connections/client-libraries.js';
import { PipelineError, type ConnectionDefinition } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import type { Doc, Evaluate } from '../expressions/values.js';
import { withRetries } from '../runtime/retry.js';
import { ProcessorFailure, type StageContext } from '../stages/operator.js';
import { jsonEncoderOf, type JsonEncoder } from './json-output.js';
import type { Sink } from './sink.js';

const MAX_RECORDS_PER_CALL = 500;
const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_PARTITION_KEY_LENGTH = 256;

export class KinesisSink implements Sink {
  readonly name = '$emit';
  private readonly stream: string;
  private readonly region: string | undefined;
  private readonly partitionKey: Evaluate | undefined;
  private readonly json: JsonEncoder;
  private client: KinesisClient | undefined;

  constructor(spec: Doc, private readonly connection: ConnectionDefinition, private readonly ctx: StageContext) {
    if (typeof spec['stream'] !== 'string' || spec['stream'] === '') throw new PipelineError('$emit to Kinesis needs a stream (a non-empty string)');
    this.stream = spec['stream'];
    if (spec['region'] !== undefined && typeof spec['region'] !== 'string') throw new PipelineError('$emit.region must be a string');
    this.region = spec['region'];
    this.partitionKey = spec['partitionKey'] === undefined ? undefined : compileExpression(spec['partitionKey']);
    this.json = jsonEncoderOf((spec['config'] ?? {}) as Doc);
  }

  async open(): Promise<void> {
    const { DescribeStreamSummaryCommand, KinesisClient } = kinesisLibrary();
    const { NodeHttpHandler } = httpHandlerLibrary();
    this.client = new KinesisClient({
      region: this.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
      maxAttempts: 1, // withRetries retries, as for every sink
      // The client defaults to HTTP/2 for SubscribeToShard; PutRecords works over HTTP/1.1,
      // which LocalStack-style endpoints also speak.
      requestHandler: new NodeHttpHandler(),
    });
    await withRetries(`reaching stream ${this.stream} of Kinesis connection ${this.connection.name}`, () => this.client!.send(new DescribeStreamSummaryCommand({ StreamName: this.stream })));
  }

  async write(docs: Doc[]): Promise<number> {
    const records: PutRecordsRequestEntry[] = [];
    let bytes = 0;
    for (const doc of docs) {
      try {
        const data = Buffer.from(this.json(doc));
        if (data.length > MAX_RECORD_BYTES) throw new Error(`$emit record of ${data.length} bytes exceeds Kinesis's ${MAX_RECORD_BYTES} bytes`);
        records.push({ Data: data, PartitionKey: this.keyOf(doc) });
        bytes += data.length;
      } catch (error) {
        if (error instanceof ProcessorFailure) throw error;
        this.ctx.deadLetter(doc, (error as Error).message);
      }
    }
    for (let i = 0; i < records.length; i += MAX_RECORDS_PER_CALL) await this.put(records.slice(i, i + MAX_RECORDS_PER_CALL));
    return bytes;
  }

  private keyOf(doc: Doc): string {
    if (!this.partitionKey) return randomUUID();
    const value = this.partitionKey(doc);
    const key = typeof value === 'number' ? String(value) : value;
    if (typeof key !== 'string' || key === '' || key.length > MAX_PARTITION_KEY_LENGTH) {
      throw new Error(`$emit partitionKey must evaluate to a string of 1 to ${MAX_PARTITION_KEY_LENGTH} characters, got ${String(value)}`);
    }
    return key;
  }

  /** Sends `records`, then again those Kinesis refused (throttling, internal errors), until none is left or retries run out. */
  private async put(records: PutRecordsRequestEntry[]): Promise<void> {
    let pending = records;
    await withRetries(`writing to stream ${this.stream} of Kinesis connection ${this.connection.name}`, async () => {
      const answer = await this.client!.send(new (kinesisLibrary().PutRecordsCommand)({ StreamName: this.stream, Records: pending }));
      if (!answer.FailedRecordCount) return;
      const failed = pending.filter((_, i) => answer.Records?.[i]?.ErrorCode);
      pending = failed;
      const reason = answer.Records?.find((r) => r.ErrorCode);
      throw new Error(`${failed.length} records refused (${reason?.ErrorCode}: ${reason?.ErrorMessage})`);
    });
  }

  async close(): Promise<void> {
    this.client?.destroy();
  }
}
