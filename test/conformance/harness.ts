// Runs a pipeline the way a started processor runs it (the same Processor the worker
// thread runs, here in the test's own thread so a case costs milliseconds), and returns
// what a user would see: the sink's input, the dead letter queue, the FAILED reason and
// the stats. Shape refusals go through the same checks the engine applies at start.
import { afterAll, beforeAll } from 'vitest';
import { MongoClient } from 'mongodb';
import { PipelineError, type ConnectionDefinition, type Document, type ProcessorStats } from '../../src/engine/contract.js';
import { checkPipelineShape } from '../../src/engine/pipeline-shape.js';
import { Processor } from '../../src/engine/runtime/processor.js';
import { definition, eventually } from '../../src/engine/testing/memory-host.js';
import { MongoDouble } from '../../src/engine/testing/mongo-double.js';

export { eventually };

export interface RunResult {
  output: Document[];
  dlq: Document[];
  failure: string | undefined;
  stats: ProcessorStats;
}

export interface RunOptions {
  connections?: Record<string, ConnectionDefinition>;
  /** Keep running until this holds (timers: idle timeouts, processing time); otherwise until the source is drained. */
  until?: (result: RunResult) => boolean;
  extraCaCertificates?: string[];
  lambdaEndpoint?: string;
}

let mongo: MongoDouble | undefined;
let client: MongoClient | undefined;
let runs = 0;

/** Starts the MongoDB double the DLQ writes to, once per test file. */
export function useConformanceHarness(): void {
  beforeAll(async () => {
    mongo = new MongoDouble();
    await mongo.start();
    client = new MongoClient(mongo.uri);
  });
  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });
}

export function clusterConnection(name = 'cluster0'): ConnectionDefinition {
  return { name, type: 'Cluster', connectionString: mongo!.uri };
}

export function mongoClient(): MongoClient {
  return client!;
}

/** Runs a whole pipeline ($source ... sink) and reports what came out. */
export async function runPipeline(pipeline: Document[], options: RunOptions = {}): Promise<RunResult> {
  runs += 1;
  const dlqColl = `dlq${runs}`;
  const def = definition(pipeline, {
    connections: { cluster0: clusterConnection(), ...options.connections },
    options: { dlq: { connectionName: 'cluster0', db: 'conformance', coll: dlqColl } },
  });
  checkPipelineShape(pipeline);
  const output: Document[] = [];
  let failure: string | undefined;
  const processor = new Processor(def, {
    settings: {
      sampleRatePerSecond: 0,
      checkpointIntervalMs: 3_600_000,
      ...(options.extraCaCertificates ? { extraCaCertificates: options.extraCaCertificates } : {}),
      ...(options.lambdaEndpoint ? { lambdaEndpoint: options.lambdaEndpoint } : {}),
    },
    log: { info() {}, warn() {}, error() {} },
    saveCheckpoint: async () => {},
    publishOutput: (docs) => { output.push(...docs); },
    publishDeadLetters: () => {},
    wantsOutput: () => true,
    failed: (message) => { failure = message; },
  }, undefined);
  processor.compile();
  await processor.start();
  const dlq = async () => client!.db('conformance').collection(dlqColl).find({}, { projection: { _id: 0 } }).toArray();
  if (options.until) {
    await eventually(async () => options.until!({ output, dlq: await dlq(), failure, stats: processor.stats() }) || failure !== undefined);
  }
  // Stopping waits for the source's batch in flight, so every document went through.
  await processor.stop();
  return { output, dlq: await dlq(), failure, stats: processor.stats() };
}

/** Documents in, stages, __testLog out. */
export function streamOf(documents: Document[], stages: Document[], source: Document = {}): Document[] {
  return [{ $source: { documents, ...source } }, ...stages, { $emit: { connectionName: '__testLog' } }];
}

/** Runs `stages` over `documents` and returns the sink's input. */
export async function outputOf(documents: Document[], stages: Document[]): Promise<Document[]> {
  const { output, failure } = await runPipeline(streamOf(documents, stages));
  if (failure) throw new Error(`processor failed: ${failure}`);
  return output;
}

/** Evaluates one expression over one document, as `$project: {v: expr}` would. */
export async function evaluate(expression: unknown, doc: Document = {}): Promise<unknown> {
  const { output, dlq } = await runPipeline(streamOf([doc], [{ $project: { _id: 0, v: expression } }]));
  if (dlq.length > 0) throw new Error(String((dlq[0]!['errInfo'] as Document)['reason']));
  return output[0]?.['v'];
}

/** The message the engine refuses the pipeline with at create/start, or undefined when it runs. */
export function refusal(pipeline: Document[], connections: Record<string, ConnectionDefinition> = {}): string | undefined {
  const def = definition(pipeline, { connections: { cluster0: { name: 'cluster0', type: 'Cluster', connectionString: 'mongodb://127.0.0.1:1' }, ...connections } });
  try {
    checkPipelineShape(pipeline);
    new Processor(def, {
      settings: { sampleRatePerSecond: 0, checkpointIntervalMs: 3_600_000 },
      log: { info() {}, warn() {}, error() {} },
      saveCheckpoint: async () => {},
      publishOutput: () => {},
      publishDeadLetters: () => {},
      wantsOutput: () => false,
      failed: () => {},
    }, undefined).compile();
    return undefined;
  } catch (error) {
    if (error instanceof PipelineError) return error.message;
    throw error;
  }
}

// Event times on 2024-01-01, in seconds from midnight UTC.
const EPOCH = Date.UTC(2024, 0, 1);
export const at = (seconds: number): Date => new Date(EPOCH + seconds * 1000);
/** A `$source.timeField` reading the `t` date of each document. */
export const BY_T = { timeField: '$t' };
