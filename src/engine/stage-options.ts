// Option rules Atlas applies when a processor is created or started, before anything
// runs: fields a stage does not define are refused (in MongoDB's IDL wording), and the
// documented limits of $merge and $emit hold (sp-agg-merge: parallelism 1..16; sp-agg-emit:
// a Kafka key needs its keyFormat).
import { PipelineError } from './contract.js';
import { isPlainObject, type Doc, type Value } from './expressions/values.js';

const KNOWN_FIELDS: Record<string, readonly string[]> = {
  $source: ['connectionName', 'topic', 'timeField', 'tsFieldName', 'partitionIdleTimeout', 'schemaRegistry', 'config', 'documents', 'db', 'coll'],
  $tumblingWindow: ['boundary', 'interval', 'pipeline', 'offset', 'idleTimeout', 'allowedLateness'],
  $hoppingWindow: ['boundary', 'interval', 'hopSize', 'pipeline', 'offset', 'idleTimeout', 'allowedLateness'],
  $sessionWindow: ['partitionBy', 'gap', 'pipeline', 'boundary', 'allowedLateness'],
  $https: ['connectionName', 'path', 'method', 'headers', 'parameters', 'payload', 'as', 'onError', 'config'],
  $externalFunction: ['connectionName', 'functionName', 'execution', 'as', 'onError', 'payload'],
  $cachedLookup: ['ttl', 'maxMemUsageBytes', 'from', 'localField', 'foreignField', 'as'],
  $merge: ['into', 'on', 'let', 'whenMatched', 'whenNotMatched', 'parallelism'],
  $emit: ['connectionName', 'topic', 'schemaRegistry', 'config', 'db', 'coll', 'timeseries', 'parallelism', 'bucket', 'region', 'path', 'stream', 'partitionKey'],
};

const EMIT_CONFIG = ['acks', 'compression_type', 'dateFormat', 'headers', 'key', 'keyFormat', 'outputFormat', 'tombstoneWhen',
  'writeOptions', 'delimiter', 'compression', 'compressionLevel']; // the last four: S3
const MAX_PARALLELISM = 16;

/** Refuses fields `stage` does not define; undefined values count as absent. */
export function refuseUnknownFields(stage: string, spec: Doc, known: readonly string[]): void {
  for (const [key, value] of Object.entries(spec)) {
    if (value !== undefined && !known.includes(key)) throw new PipelineError(`BSON field '${stage}.${key}' is an unknown field.`);
  }
}

function checkParallelism(stage: string, value: Value): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PARALLELISM) {
    throw new PipelineError(`${stage}.parallelism must be an integer between 1 and ${MAX_PARALLELISM}, found ${JSON.stringify(value)}`);
  }
}

/** Throws PipelineError when a stage's options break Atlas's documented rules. */
export function checkStageOptions(name: string, body: Value): void {
  const known = KNOWN_FIELDS[name];
  if (!known || !isPlainObject(body)) return;
  refuseUnknownFields(name, body, known);
  if (name === '$merge' || name === '$emit') checkParallelism(name, body['parallelism']);
  if (isPlainObject(body['schemaRegistry'])) {
    refuseUnknownFields(`${name}.schemaRegistry`, body['schemaRegistry'], name === '$source' ? ['connectionName'] : ['connectionName', 'valueSchema']);
  }
  if (name === '$emit' && isPlainObject(body['config'])) {
    const config = body['config'];
    refuseUnknownFields('$emit.config', config, EMIT_CONFIG);
    if (config['key'] !== undefined && config['keyFormat'] === undefined) {
      throw new PipelineError('$emit.config.keyFormat is required when $emit.config.key is set');
    }
  }
}
