// $emit to S3 against a local stand-in (testing/aws-server.ts) that the AWS SDK reaches
// through AWS_ENDPOINT_URL_S3, as a user would point the emulator at MinIO or LocalStack.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from './index.js';
import { PipelineError, type Document, type ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually } from './testing/memory-host.js';
import { startAwsStandIn, TEST_ACCESS_KEY, type TestAws } from './testing/aws-server.js';

const AWS_ENV = ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'];
const savedEnv = Object.fromEntries(AWS_ENV.map((name) => [name, process.env[name]]));
let aws: TestAws;
let engine: ProcessorRunner | undefined;

beforeAll(async () => {
  aws = await startAwsStandIn(['archive']);
  // Workers copy the environment when a processor starts, so this reaches the SDK there.
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: aws.url, AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_REGION: 'eu-west-1' });
});
afterEach(async () => { await engine?.close(); engine = undefined; aws.objects.length = 0; });
afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) if (value === undefined) delete process.env[name]; else process.env[name] = value;
  await aws.stop();
});

const s3 = { s3out: { name: 's3out', type: 'S3' as const, aws: { roleArn: 'arn:aws:iam::123456789012:role/streams' } } };
const emit = (spec: Document) => ({ $emit: { connectionName: 's3out', bucket: 'archive', ...spec } });
const objectsUnder = (prefix: string) => aws.objects.filter((o) => o.key.startsWith(prefix));

describe('$emit to S3', () => {
  it('writes an object per path every `count` documents, entries joined by the delimiter; stop writes the rest', async () => {
    engine = createEngine(new MemoryHost());
    const docs = [1, 2, 3, 4, 5].map((n) => ({ n, kind: n % 2 ? 'odd' : 'even' }));
    const def = definition([
      { $source: { documents: docs } },
      { $project: { n: 1, kind: 1 } },
      emit({ path: { $concat: ['by-kind/', '$kind'] }, config: { delimiter: '|', writeOptions: { count: 2, interval: { size: 1, unit: 'day' } } } }),
    ], { connections: s3 });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => aws.objects.length >= 2);
    await eventually(() => engine!.stats(def.id)?.outputMessageCount === 5);
    expect(aws.objects).toHaveLength(2); // the fifth document waits for a second odd one
    await engine.stop(def.id);
    const entries = (prefix: string) => objectsUnder(prefix).map((o) => aws.text(o).split('|').map((e) => (JSON.parse(e) as { n: number }).n));
    expect(entries('by-kind/odd/')).toEqual([[1, 3], [5]]);
    expect(entries('by-kind/even/')).toEqual([[2, 4]]);
    for (const object of aws.objects) {
      expect(object.bucket).toBe('archive');
      expect(object.key).toMatch(new RegExp(`^by-kind/(odd|even)/\\d+-${def.id}-\\d+\\.json$`));
    }
  });

  it('keeps what it could not write at stop in the checkpoint, and writes it after a restart', async () => {
    const host = new MemoryHost();
    engine = createEngine(host);
    const def = definition([
      { $source: { documents: [{ n: 1 }, { n: 2 }, { n: 3 }] } },
      { $project: { _id: 0, n: 1 } },
      emit({ path: 'held', config: { writeOptions: { count: 100, interval: { size: 1, unit: 'day' } } } }),
    ], { connections: s3 });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => engine!.stats(def.id)?.outputMessageCount === 3);
    aws.refusePuts = true;
    try {
      await engine.stop(def.id);
    } finally {
      aws.refusePuts = false;
    }
    expect(aws.objects).toHaveLength(0);
    await engine.start(def, { resumeFromCheckpoint: true });
    await eventually(() => engine!.stats(def.id)?.status === 'running');
    await engine.stop(def.id);
    expect(aws.objects.map((o) => aws.text(o).split('\n').map((e) => (JSON.parse(e) as { n: number }).n))).toEqual([[1, 2, 3]]);
  });

  it('writes what it holds once the interval has passed, without waiting for count', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { documents: [{ n: 1 }, { n: 2 }, { n: 3 }] } },
      { $project: { n: 1 } },
      emit({ path: 'ticks', config: { writeOptions: { count: 1000, interval: { size: 300, unit: 'ms' } } } }),
    ], { connections: s3 });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => aws.objects.flatMap((o) => aws.text(o).split('\n')).length === 3);
    expect(engine.stats(def.id)?.status).toBe('running');
    expect(aws.objects.flatMap((o) => aws.text(o).split('\n').map((e) => (JSON.parse(e) as { n: number }).n))).toEqual([1, 2, 3]);
  });

  it('writes an object as soon as it holds `bytes` BSON bytes', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { documents: [{ n: 1 }, { n: 2 }, { n: 3 }] } },
      { $project: { _id: 0, n: 1 } },
      { $unset: '_stream_meta' },
      emit({ path: 'big', config: { writeOptions: { bytes: 1, interval: { size: 1, unit: 'day' } } } }),
    ], { connections: s3 });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => aws.objects.length === 3);
    expect(aws.objects.map((o) => JSON.parse(aws.text(o)))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('gzips the object and writes canonical Extended JSON with ISO 8601 dates when asked', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { documents: [{ n: 1 }] } },
      { $addFields: { at: { $toDate: 1700000000123 } } },
      { $project: { _id: 0, n: 1, at: 1 } },
      { $unset: '_stream_meta' },
      emit({ path: 'zipped', config: { outputFormat: 'canonicalJson', dateFormat: 'ISO8601', compression: 'gzip', compressionLevel: 9, writeOptions: { count: 1 } } }),
    ], { connections: s3 });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => aws.objects.length === 1);
    const [object] = aws.objects;
    expect(object!.key).toMatch(/^zipped\/.*\.json\.gz$/);
    expect(object!.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(JSON.parse(aws.text(object!))).toEqual({ n: { $numberInt: '1' }, at: '2023-11-14T22:13:20.123Z' });
  });

  it('writes relaxed Extended JSON dates by default', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { documents: [{ n: 1 }] } },
      { $addFields: { at: { $toDate: 1700000000123 } } },
      { $project: { _id: 0, at: 1 } },
      { $unset: '_stream_meta' },
      emit({ path: 'plain', config: { writeOptions: { count: 1 } } }),
    ], { connections: s3 });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => aws.objects.length === 1);
    expect(JSON.parse(aws.text(aws.objects[0]!))).toEqual({ at: { $date: '2023-11-14T22:13:20.123Z' } });
  });

  it('sends a document whose path is not a string to the DLQ and writes the others', async () => {
    engine = createEngine(new MemoryHost());
    const def = definition([
      { $source: { documents: [{ p: 'ok', n: 1 }, { p: 7, n: 2 }] } },
      { $project: { p: 1, n: 1 } },
      emit({ path: '$p', config: { writeOptions: { count: 1 } } }),
    ], { connections: s3 });
    await engine.start(def, { resumeFromCheckpoint: false });
    await eventually(() => engine!.stats(def.id)?.dlqMessageCount === 1);
    await eventually(() => aws.objects.length === 1);
    expect(JSON.parse(aws.text(aws.objects[0]!))).toMatchObject({ p: 'ok', n: 1 });
    expect(engine.stats(def.id)?.outputMessageCount).toBe(1);
  });

  it('fails the processor, naming bucket and connection, when S3 cannot be reached', async () => {
    const host = new MemoryHost();
    engine = createEngine(host);
    const def = definition([{ $source: { documents: [{ n: 1 }] } }, emit({ path: 'x' })], { connections: s3 });
    process.env['AWS_ENDPOINT_URL_S3'] = 'http://127.0.0.1:1';
    try {
      await engine.start(def, { resumeFromCheckpoint: false });
    } finally {
      process.env['AWS_ENDPOINT_URL_S3'] = aws.url;
    }
    const failure = await eventually(() => host.failures.get(def.id), 30_000);
    expect(failure).toMatch(/^reaching bucket archive of S3 connection s3out failed after 4 attempts/);
  });

  it('fails the processor when the bucket does not exist', async () => {
    const host = new MemoryHost();
    engine = createEngine(host);
    const def = definition([{ $source: { documents: [{ n: 1 }] } }, { $emit: { connectionName: 's3out', bucket: 'missing', path: 'x' } }], { connections: s3 });
    await engine.start(def, { resumeFromCheckpoint: false });
    expect(await eventually(() => host.failures.get(def.id), 30_000)).toMatch(/^reaching bucket missing of S3 connection s3out failed/);
  });

  it('refuses at start what it cannot honour or Atlas does not allow', async () => {
    engine = createEngine(new MemoryHost());
    const start = (spec: Document) => engine!.start(definition([{ $source: { documents: [] } }, emit(spec)], { connections: s3 }), { resumeFromCheckpoint: false });
    await expect(start({ path: 'x', config: { compression: 'snappy' } })).rejects.toThrow('$emit.config.compression "snappy" is not supported by this emulator (gzip is)');
    await expect(start({ path: 'x', config: { writeOptions: { interval: { size: 8, unit: 'day' } } } })).rejects.toThrow('at most 7 days');
    await expect(start({ path: 'x', config: { writeOptions: { interval: { size: 0 } } } })).rejects.toThrow('interval.size must be a positive integer');
    await expect(start({ path: 'x', config: { outputFormat: 'basicJson' } })).rejects.toBeInstanceOf(PipelineError);
    await expect(start({ config: {} })).rejects.toThrow('$emit to S3 needs a path');
    await expect(start({ path: 'x', config: { writeOptions: { lines: 3 } } })).rejects.toThrow("BSON field '$emit.config.writeOptions.lines' is an unknown field.");
  }, 120_000);
});
