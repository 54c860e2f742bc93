// What every source provides to the processor, and the stamping every source applies:
// the event time field (`_ts` or tsFieldName) and `_stream_meta.source`.
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import type { Doc, Evaluate, Value } from '../expressions/values.js';
import type { Logger } from '../runtime/environment.js';

/**
 * What a source read to make a batch, when it knows better than the documents: input
 * is counted at `$source`, so messages it sent to the DLQ (unparseable, bad key) count
 * too, and `bytes` is their wire size.
 */
export interface SourceRead { messages: number; bytes: number }

/**
 * Hands a batch to the pipeline; resolves once it went through. `positionAfter` is the
 * JSON-safe source position once this batch is processed: the processor checkpoints it,
 * so a source never reports a position ahead of what the pipeline finished.
 * Without `read`, the documents are counted with their BSON size.
 */
export type Deliver = (docs: Doc[], read: SourceRead | undefined, positionAfter: unknown) => Promise<void>;

export interface Source {
  /** Begins delivering; resolves once connected. */
  start(deliver: Deliver): Promise<void>;
  /** The position to checkpoint before the first batch. */
  position(): unknown;
  /** The checkpoint holding `position` is persisted (Kafka commits offsets now). */
  checkpointSaved?(position: unknown): Promise<void>;
  /** Event-time watermark when the source knows better than "largest event time seen" (Kafka partitions). */
  watermark?(): number | undefined;
  kafkaPartitions?(): Array<{ partition: number; currentOffset: number; checkpointOffset: number }>;
  /** Stops delivering and waits for the batch in flight; connections stay open for the final checkpoint. */
  stop(): Promise<void>;
  /** Releases connections, after the final checkpoint. */
  close?(): Promise<void>;
}

export interface SourceContext {
  deadLetter(doc: Doc, reason: string, extra?: Doc): void;
  /** Sets the event time and `_stream_meta.source` (`meta`, a fresh object per document, plus `ts`). */
  stamp(doc: Doc, sourceTime: Date, meta: Doc): Doc;
  /** The field stamp() writes the event time to. */
  readonly tsField: string;
  /** Called when the source cannot go on (connection lost for good). */
  fail(message: string): void;
  readonly log: Logger;
}

const TIME_FIELD_REASON = 'timeField expression did not evaluate to a date';

/** Builds the stamp function for a `$source` spec: `timeField` overrides the source's own time. */
export function createStamper(spec: Doc): { tsField: string; stamp: (doc: Doc, sourceTime: Date, meta: Doc) => Doc } {
  const tsField = (spec['tsFieldName'] as string | undefined) ?? '_ts';
  if (typeof tsField !== 'string' || tsField === '' || tsField.includes('.') || tsField.startsWith('$')) {
    throw new PipelineError('$source.tsFieldName must be a top-level field name');
  }
  const timeField: Evaluate | undefined = spec['timeField'] === undefined ? undefined : compileExpression(spec['timeField']);
  return {
    tsField,
    stamp(doc, sourceTime, meta) {
      let time: Value = sourceTime;
      if (timeField) {
        time = timeField(doc);
        if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw new Error(TIME_FIELD_REASON);
      }
      doc[tsField] = time;
      // sp-agg-meta: stream.source.ts is the record's date and time at ingestion. `meta` is
      // the source's fresh object for this document: adding to it costs less than a copy.
      meta['ts'] = sourceTime;
      doc['_stream_meta'] = { source: meta };
      return doc;
    },
  };
}
