// Messages between the engine (main thread) and a processor's worker thread.
import type { Checkpoint, ProcessorDefinition, ProcessorStats, StartOptions } from '../contract.js';
import type { EngineSettings } from './environment.js';
import type { SourceShard } from '../sources/kafka-shards.js';
import type { ShardLinks } from './window-shards.js';

export type ToWorker =
  /** The definition's pipeline travels as its JSON text (pipelineJson), the definition's own left empty. */
  | { type: 'start'; definition: ProcessorDefinition; pipelineJson: Uint8Array[]; checkpoint: Checkpoint | undefined; startOptions: StartOptions; settings: EngineSettings; outputLimit: number; deadLetterLimit: number; sinkFault?: string; shard?: SourceShard; shardLinks?: ShardLinks }
  | { type: 'sink-fault'; message: string | undefined }
  | { type: 'stop' }
  | { type: 'checkpoint-saved'; id: number }
  | { type: 'checkpoint-failed'; id: number; message: string }
  | { type: 'watch'; watching: boolean };

export type FromWorker =
  | { type: 'compiled' }
  /** The pipeline cannot run as written (compiling only reads the definition). */
  | { type: 'compile-error'; message: string }
  | { type: 'stats'; stats: ProcessorStats }
  /**
   * Documents as canonical Extended JSON text (structured clone would strip BSON classes):
   * a flat string crosses cheaply, and the main thread parses one only for a watcher.
   */
  | { type: 'output'; docs: string[] }
  /** Dead letter queue records, as Atlas writes them to the DLQ collection; same text form as output. */
  | { type: 'dead-letters'; docs: string[] }
  | { type: 'checkpoint'; checkpoint: Checkpoint }
  | { type: 'failed'; message: string }
  | { type: 'stopped' }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; obj: object; msg?: string };
