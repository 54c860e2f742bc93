// How $emit writes a document as JSON text (sp-agg-emit `config.outputFormat` and
// `config.dateFormat`), shared by the Kafka, S3 and Kinesis sinks. `basicJson` is refused:
// its encoding is not documented.
import { EJSON } from 'bson';
import { PipelineError } from '../contract.js';
import type { Doc } from '../expressions/values.js';
import { relaxedJson } from './relaxed-json.js';

export type JsonEncoder = (doc: Doc) => string;

export function jsonEncoderOf(config: Doc): JsonEncoder {
  const format = config['outputFormat'] ?? 'relaxedJson';
  if (format !== 'relaxedJson' && format !== 'canonicalJson') throw new PipelineError('$emit.config.outputFormat must be "relaxedJson" or "canonicalJson"');
  const relaxed = format === 'relaxedJson';
  const dateFormat = config['dateFormat'] ?? 'default';
  if (dateFormat !== 'default' && dateFormat !== 'ISO8601') throw new PipelineError('$emit.config.dateFormat must be "default" or "ISO8601"');
  if (dateFormat === 'default') return relaxed ? relaxedJson : (doc) => EJSON.stringify(doc, { relaxed });
  return (doc) => EJSON.stringify(doc, isoDates, undefined, { relaxed });
}

/** JSON.stringify replacer: an Extended JSON date ({$date: ...}) becomes its ISO 8601 string, milliseconds included. */
function isoDates(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== '$date') return value;
  const date = (value as { $date: unknown }).$date;
  const millis = typeof date === 'string' ? Date.parse(date)
    : typeof date === 'number' ? date
      : Number((date as { $numberLong?: string }).$numberLong);
  return Number.isFinite(millis) && Math.abs(millis) <= 8.64e15 ? new Date(millis).toISOString() : value;
}
