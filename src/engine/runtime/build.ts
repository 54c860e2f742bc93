// Turns a processor definition into its source, operators and sink.
import { PipelineError, type ConnectionDefinition, type ProcessorDefinition, type StartOptions } from '../contract.js';
import { checkPipelineShape, stageName, TEST_LOG_CONNECTION } from '../pipeline-shape.js';
import type { Doc } from '../expressions/values.js';
import type { ClusterClients } from '../connections/cluster.js';
import type { Operator, StageContext } from '../stages/operator.js';
import { statelessStage } from '../stages/stateless.js';
import { windowOnlyStage } from '../stages/window-only.js';
import { createHttpsStage } from '../stages/https.js';
import { createLookupStage } from '../stages/lookup.js';
import { createExternalFunctionStage } from '../stages/external-function.js';
import { createWindowOperator, WINDOW_STAGES } from '../windows/window-operator.js';
import { createStamper, type Source, type SourceContext } from '../sources/source.js';
import { SampleSolarSource } from '../sources/sample-solar.js';
import { DocumentsSource, sourceDocuments } from '../sources/documents.js';
import { KafkaSource } from '../sources/kafka.js';
import { ChangeStreamSource } from '../sources/change-stream.js';
import type { Sink } from '../sinks/sink.js';
import { TestLogSink } from '../sinks/test-log.js';
import { KafkaSink } from '../sinks/kafka-emit.js';
import { AvroValueEncoder } from '../sinks/avro-value.js';
import { schemaRegistryOf } from '../connections/schema-registry.js';
import { MergeSink } from '../sinks/merge.js';
import { createHttpsSink } from '../sinks/https-sink.js';
import { TimeSeriesEmitSink } from '../sinks/time-series-emit.js';
import { S3Sink } from '../sinks/s3-emit.js';
import { KinesisSink } from '../sinks/kinesis-emit.js';
import type { EngineSettings } from './environment.js';
import type { SourceShard } from '../sources/kafka-shards.js';
import { OperatorCounters } from './stats.js';

export interface BuildDeps {
  sourceContext: Omit<SourceContext, 'stamp' | 'tsField'>;
  stageContext(counters: OperatorCounters): StageContext;
  clusters: ClusterClients;
  settings: EngineSettings;
  startOptions?: StartOptions;
  publishOutput(docs: Doc[]): void;
  resumePosition: unknown;
  shard?: SourceShard;
}

export interface BuiltPipeline {
  source: Source;
  operators: Operator[];
  operatorCounters: OperatorCounters[];
  sink: Sink;
  sinkCounters: OperatorCounters;
  sinkConnection: string | undefined;
}

export function buildPipeline(definition: ProcessorDefinition, deps: BuildDeps): BuiltPipeline {
  checkPipelineShape(definition.pipeline);
  const stages = definition.pipeline as Doc[];
  const sourceSpec = stages[0]!['$source'] as Doc;
  const { tsField, stamp } = createStamper(sourceSpec);
  const sourceContext: SourceContext = { ...deps.sourceContext, stamp, tsField };
  const source = buildSource(definition, sourceSpec, sourceContext, deps);

  const operators: Operator[] = [];
  const operatorCounters: OperatorCounters[] = [];
  for (const [i, stage] of stages.slice(1, -1).entries()) {
    const name = stageName(stage, i + 1);
    const counters = new OperatorCounters(name);
    const ctx = deps.stageContext(counters);
    const spec = stage[name];
    const operator = WINDOW_STAGES.has(name)
      ? createWindowOperator(name, spec, ctx, {
        tsField,
        sourceWatermark: source.watermark ? () => source.watermark!() : undefined,
        buildInner: (inner) => inner.map((s, j) => buildStage(definition, s, j, ctx, deps)),
        handsOver: (deps.shard?.index ?? 0) > 0,
        emitsOnTick: deps.shard?.index === 0,
      })
      : buildStage(definition, stage, i + 1, ctx, deps);
    operators.push(operator);
    operatorCounters.push(counters);
  }

  const sinkStage = stages[stages.length - 1]!;
  const sinkName = stageName(sinkStage, stages.length - 1);
  const sinkSpec = sinkStage[sinkName] as Doc;
  const sinkCounters = new OperatorCounters(sinkName);
  const { sink, connection } = buildSink(definition, sinkName, sinkSpec, deps.stageContext(sinkCounters), deps);
  return { source, operators, operatorCounters, sink, sinkCounters, sinkConnection: connection };
}

function connectionOf(definition: ProcessorDefinition, name: unknown, expected: ConnectionDefinition['type'][]): ConnectionDefinition {
  if (typeof name !== 'string') throw new PipelineError('connectionName must be a string');
  const connection = definition.connections[name];
  if (!connection) throw new PipelineError(`connection named ${name} does not exist. Check sp.listConnections() for available connections`);
  if (!expected.includes(connection.type)) {
    throw new PipelineError(`connection ${name} is of type ${connection.type}; this stage needs ${expected.join(' or ')}`);
  }
  return connection;
}

function buildSource(definition: ProcessorDefinition, spec: Doc, ctx: SourceContext, deps: BuildDeps): Source {
  if (spec === null || typeof spec !== 'object') throw new PipelineError('$source must be an object');
  if (spec['documents'] !== undefined) {
    onlyKafkaReadsAvro(spec, '$source', 'a document array');
    return new DocumentsSource(ctx, sourceDocuments(spec['documents']), deps.resumePosition);
  }
  const connection = connectionOf(definition, spec['connectionName'], ['Sample', 'Kafka', 'Cluster']);
  if (connection.type !== 'Kafka') onlyKafkaReadsAvro(spec, '$source', `a ${connection.type} connection`);
  const config = (spec['config'] ?? {}) as Doc;
  switch (connection.type) {
    case 'Sample': {
      if (connection.name !== 'sample_stream_solar') throw new PipelineError(`unknown sample connection ${connection.name}`);
      const seed = config['seed'];
      if (seed !== undefined && typeof seed !== 'number') throw new PipelineError('$source.config.seed must be a number');
      return new SampleSolarSource(ctx, { seed, ratePerSecond: deps.settings.sampleRatePerSecond }, deps.resumePosition);
    }
    case 'Kafka': {
      const registry = schemaRegistryOf(spec, '$source', definition.connections, connection)?.registry;
      return new KafkaSource(ctx, spec, connection, { processorId: definition.id, settings: deps.settings, resumePosition: deps.resumePosition, registry, shard: deps.shard });
    }
    default:
      return new ChangeStreamSource(ctx, spec, connection.name, deps.clusters, deps.resumePosition, deps.startOptions?.startAtOperationTime);
  }
}

function buildStage(definition: ProcessorDefinition, stage: Doc, index: number, ctx: StageContext, deps: BuildDeps): Operator {
  const name = stageName(stage, index);
  const spec = stage[name];
  const stateless = statelessStage(name, spec, ctx);
  if (stateless) return stateless;
  const windowOnly = windowOnlyStage(name, spec);
  if (windowOnly) return windowOnly;
  if (name === '$https') {
    const connection = connectionOf(definition, (spec as Doc)['connectionName'], ['Https']);
    return createHttpsStage(spec as Doc, connection, ctx, deps.settings);
  }
  if (name === '$lookup') return createLookupStage(spec as Doc, deps.clusters, ctx);
  if (name === '$cachedLookup') return createLookupStage(spec as Doc, deps.clusters, ctx, { cached: true });
  if (name === '$externalFunction') {
    const connection = connectionOf(definition, (spec as Doc)['connectionName'], ['AWSLambda']);
    return createExternalFunctionStage(spec as Doc, connection, ctx, deps.settings);
  }
  throw new PipelineError(`unsupported stage ${name}`);
}

/** A schema registry serves Kafka messages only; elsewhere it would be silently ignored. */
function onlyKafkaReadsAvro(spec: Doc, stage: string, what: string): void {
  if (spec['schemaRegistry'] !== undefined) throw new PipelineError(`${stage}.schemaRegistry applies to Kafka connections only, not to ${what}`);
}

// Atlas emits to these; the emulator does not yet (docs/differences-from-atlas.md says why),
// and says so rather than calling them the wrong type.
const UNSUPPORTED_EMIT_TYPES: ConnectionDefinition['type'][] = ['AzureBlobStorage', 'GCPPubSub'];

function buildSink(definition: ProcessorDefinition, name: string, spec: Doc, ctx: StageContext, deps: BuildDeps): { sink: Sink; connection: string | undefined } {
  if (name === '$https') {
    const connection = connectionOf(definition, spec['connectionName'], ['Https']);
    return { sink: createHttpsSink(spec, connection, ctx, deps.settings), connection: connection.name };
  }
  if (name === '$merge') {
    const into = (spec['into'] ?? {}) as Doc;
    connectionOf(definition, into['connectionName'], ['Cluster']);
    return { sink: new MergeSink(spec, deps.clusters, ctx), connection: into['connectionName'] as string };
  }
  const connectionName = spec['connectionName'];
  if (connectionName === TEST_LOG_CONNECTION) {
    onlyKafkaReadsAvro(spec, '$emit', TEST_LOG_CONNECTION);
    return { sink: new TestLogSink(deps.publishOutput, ctx), connection: TEST_LOG_CONNECTION };
  }
  const connection = connectionOf(definition, connectionName, ['Kafka', 'Cluster', 'S3', 'AWSKinesisDataStreams', ...UNSUPPORTED_EMIT_TYPES]);
  if (UNSUPPORTED_EMIT_TYPES.includes(connection.type)) {
    throw new PipelineError(`$emit to an ${connection.type} connection (${connection.name}) is not supported by this emulator yet; see docs/differences-from-atlas.md`);
  }
  if (connection.type !== 'Kafka') onlyKafkaReadsAvro(spec, '$emit', `a ${connection.type} connection`);
  if (connection.type === 'S3') return { sink: new S3Sink(spec, connection, ctx, definition.id), connection: connection.name };
  if (connection.type === 'AWSKinesisDataStreams') return { sink: new KinesisSink(spec, connection, ctx), connection: connection.name };
  if (connection.type === 'Cluster') {
    if (spec['timeseries'] !== undefined) return { sink: new TimeSeriesEmitSink(spec, deps.clusters, ctx), connection: connection.name };
    // $emit to a plain collection writes like an insert-only $merge.
    const mergeSpec = { into: { connectionName, db: spec['db'], coll: spec['coll'] }, whenMatched: 'keepExisting', whenNotMatched: 'insert' };
    return { sink: new MergeSink(mergeSpec, deps.clusters, ctx), connection: connection.name };
  }
  const registry = schemaRegistryOf(spec, '$emit', definition.connections, connection);
  const avro = registry && new AvroValueEncoder(registry.spec, registry.registry);
  return { sink: new KafkaSink(spec, connection, ctx, { processorId: definition.id, settings: deps.settings, avro }), connection: connection.name };
}
