// $emit to a Kinesis data stream against a local stand-in (testing/aws-server.ts) that the
// AWS SDK reaches through AWS_ENDPOINT_URL_KINESIS.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './index.js';
import type { Document, ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually } from './testing/memory-host.js';
import { startAwsStandIn, TEST_ACCESS_KEY, type TestAws } from './testing/aws-server.js';

const AWS_ENV = ['AWS_ENDPOINT_URL_KINESIS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
const savedEnv = Object.fromEntries(AWS_ENV.map((name) => [name, process.env[name]]));
let aws: TestAws;
let engine: ProcessorRunner | undefined;

beforeAll(async () => {
  aws = await startAwsStandIn([], ['readings']);
  // Workers copy the environment when a processor starts, so this reaches the SDK there.
  Object.assign(process.env, { AWS_ENDPOINT_URL_KINESIS: aws.url, AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: 'test-secret' });
});
afterEach(async () => { await engine?.close(); engine = undefined; aws.records.length = 0; });
afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) if (value === undefined) delete process.env[name]; else process.env[name] = value;
  await aws.stop();
});

const kinesis = { stream1: { name: 'stream1', type: 'AWSKinesisDataStreams' as const, aws: { roleArn: 'arn:aws:iam::123456789012:role/streams' } } };
const pipeline = (documents: Document[], emit: Document) => definition([
  { $source: { documents } },
  { $unset: ['_stream_meta', '_ts'] },
  { $emit: { connectionName: 'stream1', stream: 'readings', ...emit } },
], { connections: kinesis });

describe('$emit to Kinesis', () => {
  it('puts one record per document, relaxed JSON by default, keyed by the partitionKey expression', async () => {
    engine = createEngine(new MemoryHost());
    const def = pipeline([{ device: 'a', n: 1 }, { device: 'b', n: 2.5 }], { partitionKey: { $concat: ['dev-', '$device'] } });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => aws.records.length === 2);
    expect(aws.records.map((r) => [r.stream, r.partitionKey, JSON.parse(r.data)])).toEqual([
      ['readings', 'dev-a', { device: 'a', n: 1 }],
      ['readings', 'dev-b', { device: 'b', n: 2.5 }],
    ]);
    await eventually(() => engine!.stats(def.id)?.outputMessageCount === 2);
  });

  it('writes canonical JSON with ISO 8601 dates when asked, and sends records Kinesis throttled again', async () => {
    engine = createEngine(new MemoryHost());
    aws.throttleNext = 1;
    const def = definition([
      { $source: { documents: [{ n: 1 }, { n: 2 }] } },
      { $addFields: { at: { $toDate: 1700000000123 } } },
      { $unset: ['_stream_meta', '_ts'] },
      { $emit: { connectionName: 'stream1', stream: 'readings', partitionKey: '$n', config: { outputFormat: 'canonicalJson', dateFormat: 'ISO8601' } } },
    ], { connections: kinesis });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => aws.records.length === 2);
    expect(aws.records.map((r) => [r.partitionKey, JSON.parse(r.data)]).sort()).toEqual([
      ['1', { n: { $numberInt: '1' }, at: '2023-11-14T22:13:20.123Z' }],
      ['2', { n: { $numberInt: '2' }, at: '2023-11-14T22:13:20.123Z' }],
    ]);
  });

  it('sends a document without a usable partition key to the DLQ', async () => {
    engine = createEngine(new MemoryHost());
    const def = pipeline([{ k: 'x', n: 1 }, { n: 2 }], { partitionKey: '$k' });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => engine!.stats(def.id)?.dlqMessageCount === 1);
    await eventually(() => aws.records.length === 1);
    expect(aws.records[0]!.partitionKey).toBe('x');
  });

  it('fails the processor, naming stream and connection, when the stream does not exist', async () => {
    const host = new MemoryHost();
    engine = createEngine(host);
    const def = definition([{ $source: { documents: [{ n: 1 }] } }, { $emit: { connectionName: 'stream1', stream: 'nowhere' } }], { connections: kinesis });
    await engine.start(def, { resumeFromCheckpoint: false });
    expect(await eventually(() => host.failures.get(def.id), 30_000)).toMatch(/^reaching stream nowhere of Kinesis connection stream1 failed after 4 attempts: Stream nowhere not found/);
  });
});
