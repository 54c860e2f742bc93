// The unit the processor chains: every stage, window and the sink's input side.
import type { Doc } from '../expressions/values.js';
import { markProgress } from '../runtime/progress.js';

export interface Operator {
  readonly name: string;
  /** Transforms a batch; async only for stages that call the network ($https, $lookup). */
  process(docs: Doc[]): Doc[] | Promise<Doc[]>;
  /** Timer hook for windows (idle timeouts, processing-time boundaries): documents to send downstream. */
  onTick?(now: number): Doc[] | Promise<Doc[]>;
  /** Bytes of state held (window contents); drives stats and the memory budget. */
  stateSize?(): number;
  /** Event-time watermark, for the stats (windows only). */
  watermark?(): number | undefined;
  snapshot?(): unknown;
  restore?(state: unknown): void;
  /**
   * Windows of a Kafka source split across workers (runtime/window-shards.ts): a shard hands
   * over what it accumulated since the last call, and the worker that emits merges it in
   * (returning the windows that closes, to send downstream).
   */
  takeShare?(): WindowShare;
  mergeShare?(from: number, share: WindowShare): Promise<Doc[]>;
  close?(): Promise<void>;
}

/** A shard's window contents since its last hand-over, and how far its partitions' event time has got. */
export interface WindowShare {
  windows: Array<{ start: number; contents: unknown }>;
  sourceType: string | undefined;
  /** The smallest event time over the shard's partitions that are not idle (none before any event). */
  sourceWatermark: number | undefined;
  maxEventTime: number | null;
  /** Every window's contents are plain data, known as they were added: the share goes as it is, unwalked (runtime/window-shards.ts). */
  plain: boolean;
}

/** What a stage may ask of the processor it runs in. */
export interface StageContext {
  /** Sends one document to the dead letter queue (counted against this stage). */
  deadLetter(doc: Doc, reason: string, extra?: Doc): void;
}

/** Thrown by a stage to stop the processor; the message reaches the user as the FAILED reason. */
export class ProcessorFailure extends Error {
  override readonly name = 'ProcessorFailure';
}

/**
 * A stage that maps each document to zero, one or many documents. A document whose
 * evaluation throws goes to the DLQ with the error as its reason, as Atlas does.
 */
export function perDocument(name: string, ctx: StageContext, transform: (doc: Doc) => Doc | Doc[] | undefined): Operator {
  return {
    name,
    process(docs) {
      const out: Doc[] = [];
      for (const doc of docs) {
        let result: Doc | Doc[] | undefined;
        try {
          result = transform(doc);
        } catch (error) {
          if (error instanceof ProcessorFailure) throw error;
          ctx.deadLetter(doc, (error as Error).message);
          continue;
        }
        markProgress();
        if (result === undefined) continue;
        if (Array.isArray(result)) out.push(...result);
        else out.push(result);
      }
      return out;
    },
  };
}
