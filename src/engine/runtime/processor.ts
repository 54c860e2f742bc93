// One running stream processor: source → stages → sink, with stats, DLQ, checkpoints and
// failure handling. Batches, checkpoints and timer ticks run one at a time (SerialQueue),
// so a checkpoint always sees state and source position after whole batches.
import type { Checkpoint, ProcessorDefinition, ProcessorStats, StartOptions } from '../contract.js';
import type { Doc } from '../expressions/values.js';
import { ClusterClients } from '../connections/cluster.js';
import { ProcessorFailure, type Operator, type StageContext } from '../stages/operator.js';
import type { Source, SourceContext, SourceRead } from '../sources/source.js';
import { UnreachableSink } from '../sinks/unreachable-sink.js';
import { buildPipeline } from './build.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { stateBudgetBytes, type ProcessorEnvironment } from './environment.js';
import { collectSecrets, createRedactor } from './secrets.js';
import { SerialQueue } from './serial.js';
import { OperatorCounters, ProcessorCounters, type PersistedCounters } from './stats.js';
import { TEST_LOG_CONNECTION } from '../pipeline-shape.js';
import { bsonSize } from './bson-size.js';
import { decodeCheckpointState, encodeCheckpointState } from './checkpoint-codec.js';
import { waitForWritePermit } from './write-fence.js';

const TICK_MS = 200;

/** counters: absent in checkpoints taken before stats were kept (they start from zero). */
export interface CheckpointState { source: unknown; operators: unknown[]; counters?: PersistedCounters; sink?: unknown }

export class Processor {
  private readonly counters: ProcessorCounters;
  private readonly queue = new SerialQueue();
  private readonly clusters: ClusterClients;
  private readonly dlq: DeadLetterQueue;
  readonly redact: (text: string) => string;
  private source!: Source;
  private operators: Operator[] = [];
  private operatorCounters: OperatorCounters[] = [];
  private sink!: UnreachableSink;
  private sinkCounters!: OperatorCounters;
  private sourceCounters!: OperatorCounters;
  private sinkIsTestLog = false;
  private position: unknown;
  private checkpointId: number;
  private timers: NodeJS.Timeout[] = [];
  private state: 'idle' | 'running' | 'stopping' | 'stopped' | 'failed' = 'idle';
  private readonly budget: { bytes: number; what: string };

  constructor(
    private readonly definition: ProcessorDefinition,
    private readonly env: ProcessorEnvironment,
    private readonly checkpoint: Checkpoint | undefined,
    private readonly startOptions?: StartOptions,
  ) {
    this.counters = new ProcessorCounters(definition.name, definition.id);
    this.redact = createRedactor(collectSecrets(definition.connections));
    this.clusters = new ClusterClients(definition.connections);
    this.dlq = new DeadLetterQueue(
      { processorName: definition.name, instanceName: definition.instanceName },
      definition.options?.dlq,
      this.clusters,
      (record) => env.publishDeadLetters([record]),
    );
    this.checkpointId = checkpoint?.id ?? 0;
    this.budget = stateBudgetBytes(definition.tier, env.settings);
  }

  /** Compiles the pipeline (throws PipelineError) and restores checkpointed state. Nothing connects yet. */
  compile(): void {
    const restored = this.checkpoint ? (decodeCheckpointState(this.checkpoint.state) as CheckpointState) : undefined;
    this.sourceCounters = new OperatorCounters('$source');
    const sourceContext: Omit<SourceContext, 'stamp' | 'tsField'> = {
      deadLetter: (doc, reason, extra) => this.deadLetter(this.sourceCounters, doc, reason, extra),
      fail: (message) => void this.fail(new ProcessorFailure(message)),
      log: this.env.log,
    };
    const built = buildPipeline(this.definition, {
      sourceContext,
      stageContext: (counters) => this.stageContext(counters),
      clusters: this.clusters,
      settings: this.env.settings,
      startOptions: this.startOptions,
      publishOutput: (docs) => this.env.publishOutput(docs),
      resumePosition: restored?.source,
      shard: this.env.shard,
    });
    this.source = built.source;
    this.operators = built.operators;
    this.operatorCounters = built.operatorCounters;
    this.sink = new UnreachableSink(built.sink, built.sinkConnection ?? built.sink.name);
    this.sinkIsTestLog = built.sinkConnection === TEST_LOG_CONNECTION;
    this.sinkCounters = built.sinkCounters;
    this.counters.operators.push(this.sourceCounters, ...this.operatorCounters, this.sinkCounters);
    this.counters.restore(restored?.counters);
    restored?.operators.forEach((state, i) => { if (state !== undefined) this.operators[i]?.restore?.(state); });
    if (restored?.sink !== undefined) this.sink.restore(restored.sink);
    this.position = restored?.source ?? this.source.position();
  }

  async start(): Promise<void> {
    this.state = 'running';
    try {
      await this.sink.open();
      await this.source.start((docs, read, positionAfter) => this.deliver(docs, read, positionAfter));
    } catch (error) {
      await this.fail(error);
      return;
    }
    if (this.state !== 'running') return;
    this.counters.status = 'running';
    this.env.statsChanged?.();
    this.timers.push(setInterval(() => void this.tick(), TICK_MS));
    this.timers.push(setInterval(() => void this.takeCheckpoint().catch((e) => this.fail(e)), this.env.settings.checkpointIntervalMs));
  }

  /** Fault injection: the sink goes away (connections refused with this message) or comes back (undefined). */
  setSinkFault(message: string | undefined): void {
    this.sink.setFault(message);
  }

  stats(): ProcessorStats {
    return this.counters.snapshot(this.source?.kafkaPartitions?.());
  }

  private deliver(docs: Doc[], read: SourceRead | undefined, positionAfter: unknown): Promise<void> {
    return this.queue.run(async () => {
      if (this.state !== 'running' && this.state !== 'stopping') return;
      try {
        let size = read?.bytes;
        if (size === undefined) {
          size = 0;
          for (const doc of docs) size += bsonSize(doc);
        }
        const messages = read?.messages ?? docs.length;
        this.counters.inputMessageCount += messages;
        this.counters.inputMessageSize += size;
        this.sourceCounters.record(messages, docs.length, 0);
        this.sourceCounters.inputMessageSize = (this.sourceCounters.inputMessageSize ?? 0) + size;
        await this.runFrom(0, docs);
        this.position = positionAfter;
      } catch (error) {
        void this.fail(error);
      }
    });
  }

  /** Runs documents through operators[from..] and the sink, then writes pending DLQ records. */
  private async runFrom(from: number, input: Doc[]): Promise<void> {
    let docs = input;
    for (let i = from; i < this.operators.length && docs.length > 0; i++) {
      const operator = this.operators[i]!;
      const counters = this.operatorCounters[i]!;
      const started = performance.now();
      const result = operator.process(docs);
      const out = result instanceof Promise ? await result : result;
      counters.record(docs.length, out.length, performance.now() - started);
      docs = out;
    }
    this.checkStateBudget();
    await waitForWritePermit(this.startOptions?.writeFence);
    if (docs.length > 0) {
      const started = performance.now();
      if (!this.sinkIsTestLog && this.env.wantsOutput()) this.env.publishOutput(docs);
      const refusedBefore = this.sinkCounters.dlqMessageCount;
      const written = await this.sink.write(docs);
      // Documents the sink sent to the DLQ (bad topic, no time series date) were not output.
      const sent = docs.length - (this.sinkCounters.dlqMessageCount - refusedBefore);
      this.sinkCounters.record(docs.length, sent, performance.now() - started);
      this.counters.outputMessageCount += sent;
      this.counters.outputMessageSize += written;
      this.sinkCounters.outputMessageSize = (this.sinkCounters.outputMessageSize ?? 0) + written;
    }
    await this.dlq.flush();
  }

  private checkStateBudget(): void {
    let total = 0;
    this.operators.forEach((operator, i) => {
      if (!operator.stateSize) return;
      const bytes = operator.stateSize();
      this.operatorCounters[i]!.setState(bytes);
      total += bytes;
      const watermark = operator.watermark?.();
      if (watermark !== undefined) this.counters.watermark = watermark;
    });
    if (total > this.budget.bytes) {
      throw new ProcessorFailure(`stream processing instance out of memory: window state of ${total} bytes exceeds ${this.budget.what} (${Math.floor(this.budget.bytes)} bytes)`);
    }
  }

  private tick(): Promise<void> {
    return this.queue.run(async () => {
      if (this.state !== 'running') return;
      try {
        const now = Date.now();
        for (let i = 0; i < this.operators.length; i++) {
          const operator = this.operators[i]!;
          if (!operator.onTick) continue;
          const out = await operator.onTick(now);
          this.operatorCounters[i]!.outputMessageCount += out.length;
          if (out.length > 0) await this.runFrom(i + 1, out);
        }
        await this.sink.onTick(now);
        this.checkStateBudget();
      } catch (error) {
        void this.fail(error);
      }
    });
  }

  private stageContext(counters: OperatorCounters): StageContext {
    return {
      deadLetter: (doc, reason, extra) => this.deadLetter(counters, doc, reason, extra),
    };
  }

  private deadLetter(counters: OperatorCounters, doc: Doc, reason: string, extra?: Doc): void {
    const size = this.dlq.add(doc, this.redact(reason), extra);
    counters.dlqMessageCount += 1;
    counters.dlqMessageSize += size;
    this.counters.dlqMessageCount += 1;
    this.counters.dlqMessageSize += size;
  }

  takeCheckpoint(): Promise<void> {
    return this.queue.run(async () => {
      if (this.state !== 'running' && this.state !== 'stopping') return;
      const position = this.position;
      const state: CheckpointState = { source: position, operators: this.operators.map((o) => o.snapshot?.()), counters: this.counters.persisted(), sink: this.sink.snapshot() };
      this.checkpointId += 1;
      await this.env.saveCheckpoint({
        id: this.checkpointId,
        takenAt: new Date().toISOString(),
        state: encodeCheckpointState(state),
      });
      await this.source.checkpointSaved?.(position);
    });
  }

  /** Stops the source, lets in-flight work finish, takes the final checkpoint and disconnects. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.counters.status = 'stopping';
    this.clearTimers();
    await this.source.stop();
    try {
      // What the sink could not write stays in the checkpoint and is written after a restart.
      await this.queue.run(async () => { await this.sink.flush(); })
        .catch((error) => this.env.log.warn({ processor: this.definition.name, err: this.redact((error as Error).message) }, 'sink could not write what it held at stop'));
      await this.takeCheckpoint();
    } finally {
      this.state = 'stopped';
      await this.source.close?.().catch(() => undefined);
      await this.release();
    }
  }

  private async fail(error: unknown): Promise<void> {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.state = 'failed';
    this.counters.status = 'error';
    this.clearTimers();
    const message = this.redact(error instanceof Error ? error.message : String(error));
    this.env.log.error({ processor: this.definition.name, err: message }, 'stream processor failed');
    this.env.failed(message);
    await this.source?.stop().catch(() => undefined);
    await this.source?.close?.().catch(() => undefined);
    await this.release();
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private async release(): Promise<void> {
    await Promise.allSettled([
      this.sink?.close(),
      ...this.operators.map((o) => o.close?.()),
    ]);
    await this.clusters.closeAll();
  }
}
