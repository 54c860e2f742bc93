// The hand-off between the control plane (src/domain/streams) and the processing engine.
// The control plane owns the store and the processor state machine; the engine runs
// pipelines and reports back through ProcessorHost. Nothing else crosses this line.

export type Document = Record<string, unknown>;

/** A stream connection as stored, secrets decrypted: only ever handed to the engine. */
export interface ConnectionDefinition {
  name: string;
  type: 'Kafka' | 'Cluster' | 'Sample' | 'Https' | 'AWSLambda' | 'S3' | 'AWSKinesisDataStreams' | 'SchemaRegistry' | 'AzureBlobStorage' | 'GCPPubSub';
  [field: string]: unknown;
}

export interface DeadLetterQueueOptions {
  connectionName: string;
  db: string;
  coll: string;
}

export interface ProcessorDefinition {
  /** 24-hex processor id. */
  id: string;
  name: string;
  groupId: string;
  instanceName: string;
  /** Stream instance tier (SP2..SP50): sets the memory budget for window state. */
  tier: string;
  pipeline: Document[];
  options?: { dlq?: DeadLetterQueueOptions };
  /** Every connection of the instance by name, secrets included. Never log these. */
  connections: Record<string, ConnectionDefinition>;
}

export interface StartOptions {
  /** Resume from the last checkpoint (true unless the processor was modified with resumeFromCheckpoint: false). */
  resumeFromCheckpoint: boolean;
  /** `:startWith` for change stream sources. */
  startAtOperationTime?: string;
  /**
   * Hand every output document to watchOutput, however fast they come (an interactive
   * `sp.process` run reads them all); by default only the latest are kept.
   */
  keepAllOutput?: boolean;
  /**
   * A runner that holds the processor by lease: sink and dead-letter writes start only while
   * the time stored there has not passed (see runtime/write-fence.ts). Without it, no fence.
   */
  writeFence?: SharedArrayBuffer;
}

export interface WatchOptions {
  /** Begin with the latest documents already output (default); false: only what comes next. */
  includeRecent?: boolean;
}

/** Opaque to the control plane: the engine serializes source positions and window state into it. */
export interface Checkpoint {
  id: number;
  takenAt: string;
  /**
   * Bytes (a Uint8Array, possibly tens of MB) to store as they are; checkpoints written by
   * earlier versions hold a JSON document here instead, and the engine still reads those.
   */
  state: unknown;
}

/** Callbacks the control plane provides; every one persists through the store. */
export interface ProcessorHost {
  loadCheckpoint(processorId: string): Promise<Checkpoint | undefined>;
  saveCheckpoint(processorId: string, checkpoint: Checkpoint): Promise<void>;
  deleteCheckpoint(processorId: string): Promise<void>;
  /** The processor cannot go on: the control plane moves it to FAILED with this message. */
  markFailed(processorId: string, message: string): Promise<void>;
}

/** Per-stage figures, as `sp.processor.stats()` shows them. */
export interface OperatorStats {
  name: string;
  inputMessageCount: number;
  outputMessageCount: number;
  dlqMessageCount: number;
  dlqMessageSize: number;
  /** Known at $source (bytes read) and at the sink (bytes written). */
  inputMessageSize?: number;
  outputMessageSize?: number;
  executionTimeSecs: number;
  executionTimeMillis: number;
  timeSpentMillis: number;
  maxMemoryUsage: number;
  stateSize: number;
}

export interface ProcessorStats {
  name: string;
  processorId: string;
  status: 'starting' | 'running' | 'error' | 'stopping';
  scaleFactor: number;
  inputMessageCount: number;
  inputMessageSize: number;
  outputMessageCount: number;
  outputMessageSize: number;
  dlqMessageCount: number;
  dlqMessageSize: number;
  memoryTrackerBytes: number;
  stateSize: number;
  watermark?: string;
  ok: number;
  operatorStats: OperatorStats[];
  /** worker: which of the processor's workers reads the partition, when its Kafka source runs as several (kafkaSourceParallelism). */
  kafkaPartitions?: Array<{ partition: number; currentOffset: number; checkpointOffset: number; worker?: number }>;
}

export interface ProcessorRunner {
  /** Starts running. Rejects with PipelineError when the pipeline cannot run as written. */
  start(definition: ProcessorDefinition, options: StartOptions): Promise<void>;
  /** Stops after a final checkpoint. No-op when not running. */
  stop(processorId: string): Promise<void>;
  /** Stops without a checkpoint and forgets the processor (processor deleted). */
  drop(processorId: string): Promise<void>;
  isRunning(processorId: string): boolean;
  stats(processorId: string): ProcessorStats | undefined;
  /** Live output of a running processor (its sink's input), until `signal` aborts. */
  watchOutput(processorId: string, signal: AbortSignal, options?: WatchOptions): AsyncIterable<Document>;
  /**
   * A running processor's dead letter queue records (the latest ones kept, then each as it
   * comes), shaped as written to the DLQ collection: {doc, errInfo: {reason}, processorName,
   * instanceName, dlqTime, ...}. Made whether or not options.dlq names a collection.
   */
  watchDeadLetters(processorId: string, signal: AbortSignal): AsyncIterable<Document>;
  /** Stops every processor with a final checkpoint (server shutdown). */
  close(): Promise<void>;
  /** What a processor that stopped or failed output last (up to the kept amount), until it starts again; absent where not kept. */
  lastOutputOf?(processorId: string): Document[];
  /**
   * Fault injection: the processor's sink goes away (every connection refused with this
   * message, now and at its next starts) or, with undefined, comes back. Absent where the
   * processors run elsewhere (runners sharing PostgreSQL).
   */
  setSinkFault?(processorId: string, message: string | undefined): void;
  /** The sinks made to go away, by processor id. */
  sinkFaults?(): Array<{ processorId: string; message: string }>;
}

/** A pipeline that breaks the pipeline rules of src/engine/README.md; the message says what is wrong. */
export class PipelineError extends Error {
  override readonly name = 'PipelineError';
}
