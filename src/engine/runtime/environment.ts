// What a running processor needs from where it runs (a worker thread in production, the
// bench's own thread when measuring).
import type { Checkpoint } from '../contract.js';
import type { Doc } from '../expressions/values.js';
import type { SourceShard } from '../sources/kafka-shards.js';
import type { ShardLinks } from './window-shards.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EngineSettings {
  /** sample_stream_solar documents per second (0 = as fast as the pipeline goes). */
  sampleRatePerSecond: number;
  checkpointIntervalMs: number;
  /** Overrides 80% of the tier's memory as the window state budget (tests). */
  stateBudgetBytes?: number;
  /** The most window state the worker's heap limit leaves room for; caps the tier's budget. */
  heapBudgetBytes?: number;
  /** PEM certificates trusted for Https connections and Kafka TLS besides the system ones. */
  extraCaCertificates?: string[];
  /** Where $externalFunction sends AWS Lambda Invoke calls (an emulator-only setting). */
  lambdaEndpoint?: string;
}

export interface ProcessorEnvironment {
  readonly settings: EngineSettings;
  readonly log: Logger;
  /** This worker's share of a Kafka source split across workers (kafkaSourceParallelism). */
  readonly shard?: SourceShard;
  /** With a window and a split source: the channels between this shard and the others. */
  readonly shardLinks?: ShardLinks;
  /** Persists a checkpoint; resolves once the control plane stored it. */
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
  /** The sink's input, for __testLog and anyone watching the output. */
  publishOutput(docs: Doc[]): void;
  /** Dead letter queue records as they are made, whether or not options.dlq stores them. */
  publishDeadLetters(records: Doc[]): void;
  /** Whether anyone watches the output (other sinks only publish then). */
  wantsOutput(): boolean;
  /** The processor stopped for good; the message is already free of secrets. */
  failed(message: string): void;
  /** The status or figures changed enough to be worth reporting. */
  statsChanged?(): void;
}

const GB = 1024 ** 3;
const TIER_MEMORY_BYTES: Record<string, number> = { SP2: 0.5 * GB, SP5: 1 * GB, SP10: 2 * GB, SP30: 8 * GB, SP50: 32 * GB };

/**
 * Atlas fails a processor whose window state exceeds 80% of its tier's memory; here the
 * worker's heap limit may leave less room than the tier, and then that is the budget.
 */
export function stateBudgetBytes(tier: string, settings: Pick<EngineSettings, 'stateBudgetBytes' | 'heapBudgetBytes'>): { bytes: number; what: string } {
  if (settings.stateBudgetBytes !== undefined) return { bytes: settings.stateBudgetBytes, what: `80% of the ${tier} tier's memory` };
  const tierBytes = 0.8 * (TIER_MEMORY_BYTES[tier] ?? TIER_MEMORY_BYTES['SP10']!);
  if (settings.heapBudgetBytes !== undefined && settings.heapBudgetBytes < tierBytes) {
    return { bytes: settings.heapBudgetBytes, what: "the share of the processor worker's heap limit set aside for window state" };
  }
  return { bytes: tierBytes, what: `80% of the ${tier} tier's memory` };
}
