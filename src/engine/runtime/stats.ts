// Live figures for sp.processor.stats(), kept cheaply on the hot path (one update per batch per stage).
import type { OperatorStats, ProcessorStats } from '../contract.js';

export class OperatorCounters {
  inputMessageCount = 0;
  outputMessageCount = 0;
  dlqMessageCount = 0;
  dlqMessageSize = 0;
  /** Bytes in and out, where the processor knows them without re-encoding ($source input, sink output). */
  inputMessageSize: number | undefined;
  outputMessageSize: number | undefined;
  timeSpentMillis = 0;
  maxMemoryUsage = 0;
  stateSize = 0;

  constructor(readonly name: string) {}

  record(input: number, output: number, millis: number): void {
    this.inputMessageCount += input;
    this.outputMessageCount += output;
    this.timeSpentMillis += millis;
  }

  setState(bytes: number): void {
    this.stateSize = bytes;
    if (bytes > this.maxMemoryUsage) this.maxMemoryUsage = bytes;
  }

  snapshot(): OperatorStats {
    return {
      name: this.name,
      inputMessageCount: this.inputMessageCount,
      outputMessageCount: this.outputMessageCount,
      dlqMessageCount: this.dlqMessageCount,
      dlqMessageSize: this.dlqMessageSize,
      ...(this.inputMessageSize === undefined ? {} : { inputMessageSize: this.inputMessageSize }),
      ...(this.outputMessageSize === undefined ? {} : { outputMessageSize: this.outputMessageSize }),
      executionTimeSecs: Math.floor(this.timeSpentMillis / 1000),
      executionTimeMillis: Math.round(this.timeSpentMillis),
      timeSpentMillis: Math.round(this.timeSpentMillis),
      maxMemoryUsage: this.maxMemoryUsage,
      stateSize: this.stateSize,
    };
  }
}

/** The counts a checkpoint keeps, so that stats resume where they were after a restart or a stop and start. */
export interface PersistedCounters {
  totals: Record<(typeof TOTALS)[number], number>;
  operators: Array<Record<(typeof OPERATOR_TOTALS)[number], number> & { inputMessageSize?: number; outputMessageSize?: number }>;
}

const TOTALS = ['inputMessageCount', 'inputMessageSize', 'outputMessageCount', 'outputMessageSize', 'dlqMessageCount', 'dlqMessageSize'] as const;
const OPERATOR_TOTALS = ['inputMessageCount', 'outputMessageCount', 'dlqMessageCount', 'dlqMessageSize', 'timeSpentMillis'] as const;

export class ProcessorCounters {
  status: ProcessorStats['status'] = 'starting';
  inputMessageCount = 0;
  inputMessageSize = 0;
  outputMessageCount = 0;
  outputMessageSize = 0;
  dlqMessageCount = 0;
  dlqMessageSize = 0;
  watermark: number | undefined;
  readonly operators: OperatorCounters[] = [];

  constructor(private readonly name: string, private readonly processorId: string) {}

  persisted(): PersistedCounters {
    return {
      totals: Object.fromEntries(TOTALS.map((field) => [field, this[field]])) as PersistedCounters['totals'],
      operators: this.operators.map((o) => ({
        ...Object.fromEntries(OPERATOR_TOTALS.map((field) => [field, o[field]])) as Record<(typeof OPERATOR_TOTALS)[number], number>,
        ...(o.inputMessageSize === undefined ? {} : { inputMessageSize: o.inputMessageSize }),
        ...(o.outputMessageSize === undefined ? {} : { outputMessageSize: o.outputMessageSize }),
      })),
    };
  }

  /** Resumes from a checkpoint's counts; per-stage counts only when the stages are the same as then. */
  restore(saved: PersistedCounters | undefined): void {
    if (!saved) return;
    for (const field of TOTALS) this[field] = saved.totals[field] ?? 0;
    const sameStages = saved.operators.length === this.operators.length;
    this.operators.forEach((operator, i) => {
      const counts = sameStages ? saved.operators[i] : undefined;
      if (!counts) return;
      for (const field of OPERATOR_TOTALS) operator[field] = counts[field] ?? 0;
      if (counts.inputMessageSize !== undefined) operator.inputMessageSize = counts.inputMessageSize;
      if (counts.outputMessageSize !== undefined) operator.outputMessageSize = counts.outputMessageSize;
    });
  }

  snapshot(kafkaPartitions?: ProcessorStats['kafkaPartitions']): ProcessorStats {
    const operatorStats = this.operators.map((o) => o.snapshot());
    const stateSize = operatorStats.reduce((sum, o) => sum + o.stateSize, 0);
    return {
      name: this.name,
      processorId: this.processorId,
      status: this.status,
      scaleFactor: 1,
      inputMessageCount: this.inputMessageCount,
      inputMessageSize: this.inputMessageSize,
      outputMessageCount: this.outputMessageCount,
      outputMessageSize: this.outputMessageSize,
      dlqMessageCount: this.dlqMessageCount,
      dlqMessageSize: this.dlqMessageSize,
      memoryTrackerBytes: stateSize,
      stateSize,
      // No watermark until a window has seen an event time.
      ...(this.watermark === undefined || !Number.isFinite(this.watermark) ? {} : { watermark: new Date(this.watermark).toISOString() }),
      ok: 1,
      operatorStats,
      ...(kafkaPartitions ? { kafkaPartitions } : {}),
    };
  }
}

/**
 * The stats of a processor whose Kafka source runs as several workers: counts and sizes
 * added up, stage by stage; each Kafka partition listed with the worker that reads it.
 */
export function combineShardStats(shards: ProcessorStats[]): ProcessorStats {
  const [first, ...rest] = shards as [ProcessorStats, ...ProcessorStats[]];
  const combined: ProcessorStats = { ...first, operatorStats: first.operatorStats.map((o) => ({ ...o })) };
  for (const shard of rest) {
    for (const field of SUMMED) combined[field] += shard[field];
    combined.operatorStats.forEach((operator, i) => {
      const other = shard.operatorStats[i];
      if (!other) return;
      for (const field of SUMMED_PER_OPERATOR) operator[field] += other[field];
      for (const field of ['inputMessageSize', 'outputMessageSize'] as const) {
        if (other[field] !== undefined) operator[field] = (operator[field] ?? 0) + other[field];
      }
      operator.executionTimeSecs = Math.floor(operator.timeSpentMillis / 1000);
    });
  }
  // A worker that failed or has not started yet decides the status.
  combined.status = shards.find((s) => s.status !== 'running')?.status ?? 'running';
  combined.kafkaPartitions = shards.flatMap((s, worker) => (s.kafkaPartitions ?? []).map((p) => ({ ...p, worker })));
  return combined;
}

const SUMMED = ['inputMessageCount', 'inputMessageSize', 'outputMessageCount', 'outputMessageSize', 'dlqMessageCount', 'dlqMessageSize', 'memoryTrackerBytes', 'stateSize'] as const;
const SUMMED_PER_OPERATOR = ['inputMessageCount', 'outputMessageCount', 'dlqMessageCount', 'dlqMessageSize', 'executionTimeMillis', 'timeSpentMillis', 'maxMemoryUsage', 'stateSize'] as const;
