// Processors and their stats as the wire commands answer them (WIRE.md §2-3): BSON values
// (dates as dates, counts as Int64), the pipeline as the user wrote it.
import { EJSON, Long, type Document } from 'bson';
import type { StoredInstance, StoredProcessor } from '../domain/streams/common.js';
import { loadPipeline, ownedPipelineText } from '../domain/streams/pipeline-blobs.js';
import { RawJson } from '../http/json.js';
import type { BlobStore } from '../store/blob-files.js';
import type { CommandContext } from './commands/types.js';

/**
 * How a reply carries a large (blob) pipeline: `text`, its stored JSON text (RawJson), which
 * encodeReplyFrame turns into BSON off the event loop (large-frames.ts); `values` otherwise.
 */
export type LargePipelineAs = 'values' | 'text';

export function largePipelineAs(ctx: CommandContext): LargePipelineAs {
  return ctx.pipelinesAsText ? 'text' : 'values';
}

/** A stored (JSON) pipeline back to BSON values: EJSON wrappers such as {$date} become dates again. */
export async function pipelineOf(blobs: BlobStore, processor: StoredProcessor, large: LargePipelineAs): Promise<Document[] | RawJson> {
  if (large === 'text' && processor.pipelineBlob) {
    return ownedPipelineText(blobs, processor._id, processor.pipelineBlob);
  }
  const pipeline = await loadPipeline(blobs, processor);
  return EJSON.deserialize(pipeline as unknown as Document, { relaxed: true }) as unknown as Document[];
}

/** Values a large frame's decoding (large-frames.ts) already turned into what toJsonValue makes. */
const alreadyJson = new WeakSet<object>();

export function markAsJsonValue<T extends object>(value: T): T {
  alreadyJson.add(value);
  return value;
}

/** A command's BSON value as the domain (JSON) keeps it. */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && alreadyJson.has(value)) return value;
  return EJSON.serialize(value as Document, { relaxed: true });
}

export async function renderListed(blobs: BlobStore, processor: StoredProcessor, instance: StoredInstance, large: LargePipelineAs): Promise<Document> {
  const out: Document = {
    id: processor._id,
    name: processor.name,
    pipeline: await pipelineOf(blobs, processor, large),
    state: processor.state,
    tier: instance.streamConfig.tier,
    errorMsg: processor.errorMsg ?? '',
    lastModified: new Date(processor.lastStateChange),
    lastStateChange: new Date(processor.lastStateChange),
    hasStarted: processor.state !== 'CREATED',
  };
  if (processor.options?.dlq) out['options'] = { dlq: { ...processor.options.dlq } };
  return out;
}

const SIZE_FIELDS = new Set(['inputMessageSize', 'outputMessageSize', 'dlqMessageSize', 'stateSize', 'memoryTrackerBytes', 'memoryUsageBytes',
  'maxMemoryUsage']);
const COUNT_FIELDS = new Set(['inputMessageCount', 'outputMessageCount', 'dlqMessageCount']);

function figure(field: string, value: unknown, scale: number): unknown {
  if (typeof value !== 'number') return value;
  if (SIZE_FIELDS.has(field)) return Long.fromNumber(Math.trunc(value / scale));
  if (COUNT_FIELDS.has(field)) return Long.fromNumber(value);
  return value;
}

/** The stats document: counts as Int64, sizes divided by `scale`, operatorStats only when verbose. */
export function renderStats(raw: Record<string, unknown>, scale: number, verbose: boolean): Document {
  const out: Document = {};
  for (const [field, value] of Object.entries(raw)) {
    if (field === 'operatorStats' || field === 'kafkaPartitions' || field === 'ok') continue;
    if (field === 'watermark') {
      if (value) out['watermark'] = new Date(value as string);
      continue;
    }
    out[field] = figure(field, value, scale);
  }
  out['scaleFactor'] = scale;
  if (typeof raw['memoryTrackerBytes'] === 'number') out['memoryUsageBytes'] = figure('memoryUsageBytes', raw['memoryTrackerBytes'], scale);
  if (verbose) {
    out['operatorStats'] = ((raw['operatorStats'] as Document[] | undefined) ?? []).map((op) => {
      const rendered: Document = {};
      for (const [field, value] of Object.entries(op)) rendered[field] = figure(field, value, scale);
      if (typeof op['executionTimeSecs'] === 'number') rendered['executionTimeMillis'] = Long.fromNumber(Math.round(op['executionTimeSecs'] * 1000));
      return rendered;
    });
    const partitions = raw['kafkaPartitions'] as Array<{ partition: number; currentOffset: number; checkpointOffset: number }> | undefined;
    if (partitions) {
      out['kafkaPartitions'] = partitions.map((p) => ({ ...p, partitionOffsetLag: Long.fromNumber(Math.max(0, p.currentOffset - p.checkpointOffset)) }));
      out['kafkaTotalOffsetLag'] = Long.fromNumber(partitions.reduce((sum, p) => sum + Math.max(0, p.currentOffset - p.checkpointOffset), 0));
    }
  }
  return out;
}
