// One running stream processor: source → stages → sink, with stats, DLQ, checkpoints and
// failure handling. Batches, checkpoints and timer ticks run one at a time (SerialQueue),
// so a checkpoint always sees state and source position after whole batches.
import type { Checkpoint, ProcessorDefinition, ProcessorStats, StartOptions } from '../contract.js';
import type { Doc } from '../expressions/values.js';
import { ClusterClients } from '../connections/cluster.js';
import { ProcessorFailure, type Operator, type StageContext, type WindowShare } from '../stages/operator.js';
import type { Source, SourceContext, SourceRead } from '../sources/source.js';
import { UnreachableSink } from '../sinks/unreachable-sink.js';
import { buildPipeline } from './build.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { stateBudgetBytes, type ProcessorEnvironment } from './environment.js';
import { collectSecrets, createRedactor } from './secrets.js';
import { JoiningTask, SerialQueue } from './serial.js';
import { OperatorCounters, ProcessorCounters, type PersistedCounters } from './stats.js';
import { TEST_LOG_CONNECTION } from '../pipeline-shape.js';
import { bsonSize } from './bson-size.js';
import { decodeCheckpointState, encodeCheckpointState } from './checkpoint-codec.js';
import { waitForWritePermit } from './write-fence.js';
import { joinShardStates, outputOwner, pack, unpack, type FromShard, type Packed, type ToShard } from './window-shards.js';
import type { MessagePort } from 'node:worker_threads';

const TICK_MS = 200;

/**
 * counters: absent in checkpoints taken before stats were kept (they start from zero).
 * mergedOperators: other shards' operator states, restored into this worker's after its own
 * (a split Kafka source resuming: runtime/sharded-checkpoint.ts).
 * pendingOutput: window output the emitting worker had sent to other shards after asking for
 * their states, for the rest of the pipeline and the sink; run first after a resume.
 */
export interface CheckpointState { source: unknown; operators: unknown[]; counters?: PersistedCounters; sink?: unknown; mergedOperators?: unknown[][]; pendingOutput?: Doc[] }

/**
 * A checkpoint the emitting worker of a split source is collecting from the other shards,
 * until its own state is taken. routed: window output sent to shards meanwhile (in no shard's state).
 */
interface Round { id: number; final: boolean; states: Map<number, Uint8Array>; held: Array<{ from: number; share: Packed<WindowShare> }>; routed: Doc[]; done: Promise<void>; finish(job: Promise<void>): void }

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
  /** The window operator's index, when windows are split across shards. */
  private windowIndex = -1;
  private round: Round | undefined;
  private roundId = 0;
  /** A shard's positions by checkpoint round, committed once the emitting worker says the round is saved. */
  private readonly roundPositions = new Map<number, unknown>();
  /** The newest saved position the source has not been told of yet (commitSaved). */
  private uncommitted: unknown;
  private commits = Promise.resolve();
  /** Set once stop begins: resolves once stopped. */
  private stopped: Promise<void> | undefined;
  /** Set once stop begins: resolves once the source stopped and, on a shard, all it held was handed over. */
  private readingStopped: Promise<void> | undefined;
  /** The final checkpoint's state is taken: nothing more runs (what arrives later is read again after a resume). */
  private sealed = false;
  /** A shard asked for its final state: window output arriving later is in the emitting worker's final checkpoint instead. */
  private finalRequested = false;
  /** A shard: resolves once it answered the final round (its sink is needed until then). */
  private finalAnswered!: () => void;
  private readonly answeredFinal = new Promise<void>((resolve) => { this.finalAnswered = resolve; });
  /** Window output from a checkpoint, run through the rest of the pipeline before anything is read. */
  private pendingOutput: Doc[] = [];
  /** A shard: window output the emitting worker sent, through the rest of the pipeline and the sink. */
  private readonly windowOutput = new JoiningTask<Doc>(this.queue, (docs) => this.runWindowOutput(docs));
  /** The emitting worker: other shards' shares of the windows, merged. */
  private readonly shares = new JoiningTask<{ from: number; share: Packed<WindowShare> }>(this.queue, (shares) => this.mergeShares(shares));

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
    for (const operators of [restored?.operators ?? [], ...(restored?.mergedOperators ?? [])]) {
      operators.forEach((state, i) => { if (state !== undefined) this.operators[i]?.restore?.(state); });
    }
    if (this.env.shardLinks || restored?.pendingOutput) this.windowIndex = this.operators.findIndex((o) => o.takeShare);
    this.pendingOutput = restored?.pendingOutput ?? [];
    if (restored?.sink !== undefined) this.sink.restore(restored.sink);
    this.position = restored?.source ?? this.source.position();
  }

  async start(): Promise<void> {
    this.state = 'running';
    // Listening before the source connects: a stop meanwhile still has its final round answered.
    const links = this.env.shardLinks;
    if (links && 'toEmitter' in links) this.listenAsShard(links.toEmitter);
    else if (links) links.fromShards.forEach((port, i) => this.listenAsEmitter(port, i + 1));
    try {
      await this.sink.open();
      const pending = this.pendingOutput;
      this.pendingOutput = [];
      if (pending.length > 0) await this.queue.run(() => this.runFrom(this.windowIndex + 1, pending));
      await this.source.start((docs, read, positionAfter) => this.deliver(docs, read, positionAfter));
    } catch (error) {
      await this.fail(error);
      return;
    }
    if (this.state !== 'running') return;
    this.counters.status = 'running';
    this.env.statsChanged?.();
    this.timers.push(setInterval(() => void this.tick(), TICK_MS));
    if (links && 'toEmitter' in links) {
      // A shard that hands its windows over: its checkpoints are the emitting worker's to take.
      this.timers.push(setInterval(() => void this.handOver(links.toEmitter), TICK_MS));
      return;
    }
    this.timers.push(setInterval(() => void this.takeCheckpoint(false).catch((e) => this.fail(e)), this.env.settings.checkpointIntervalMs));
  }

  /** A shard that hands its windows over to the emitting worker. */
  private handsOver(): boolean {
    return this.env.shardLinks !== undefined && 'toEmitter' in this.env.shardLinks;
  }

  /** Batches, shares and checkpoints run while running and stopping, until the final checkpoint's state is taken. */
  private working(): boolean {
    return !this.sealed && (this.state === 'running' || this.state === 'stopping');
  }

  private listenAsShard(port: MessagePort): void {
    port.on('message', (message: ToShard) => {
      if (message.type === 'output') {
        if (!this.finalRequested) this.windowOutput.add(unpack(message.docs));
        return;
      }
      if (message.type === 'saved') {
        const position = this.roundPositions.get(message.round);
        for (const round of this.roundPositions.keys()) if (round <= message.round) this.roundPositions.delete(round);
        // Once stopped the consumer has left the group; the checkpoint holds the offsets anyway.
        if (position !== undefined && this.state === 'running') this.commitSaved(position);
        return;
      }
      // Output sent after this request is in the emitting worker's checkpoint, not in this state.
      this.windowOutput.cut();
      // Answered whatever this shard's state (also once stopped): the emitting worker's final checkpoint needs it.
      const answer = () => this.queue.run(async () => {
        const state = this.checkpointState();
        // Nothing follows this shard's final state: what it reads later is read again after a resume.
        if (message.final) this.sealed = true;
        this.roundPositions.set(message.round, state.source);
        const bytes = encodeCheckpointState(state);
        port.postMessage({ type: 'state', round: message.round, state: bytes } satisfies FromShard, [bytes.buffer as ArrayBuffer]);
        if (message.final) this.finalAnswered();
      });
      if (!message.final) {
        void answer();
        return;
      }
      this.finalRequested = true;
      // The emitting worker is stopping: this shard stops too (whichever of the two requests
      // comes first), and answers once it has stopped reading and handed over all it held.
      void this.stop();
      void (this.readingStopped ?? Promise.resolve()).catch(() => undefined).then(answer);
    });
  }

  private handOver(port: MessagePort): Promise<void> {
    return this.queue.run(async () => {
      if (!this.working()) return;
      const share = this.operators[this.windowIndex]!.takeShare!();
      const { packed, transfer } = pack(share, share.plain);
      port.postMessage({ type: 'share', share: packed } satisfies FromShard, transfer);
    });
  }

  private listenAsEmitter(port: MessagePort, from: number): void {
    port.on('message', (message: FromShard) => {
      const round = this.round;
      if (message.type === 'state') {
        if (message.round !== round?.id) return;
        round.states.set(from, message.state);
        if (round.states.size === this.shardCount() - 1) this.finishRound(round);
      } else if (round?.states.has(from)) {
        // After the shard's state: belongs after this worker's own state too.
        round.held.push({ from, share: message.share });
      } else {
        this.shares.add([{ from, share: message.share }]);
      }
    });
  }

  private shardCount(): number {
    const links = this.env.shardLinks;
    return links && 'fromShards' in links ? links.fromShards.length + 1 : 1;
  }

  /** A shard: the rest of the pipeline and the sink for window output the emitting worker sent (outputOwner). */
  private async runWindowOutput(docs: Doc[]): Promise<void> {
    if (!this.working()) return;
    try {
      await this.runFrom(this.windowIndex + 1, docs);
    } catch (error) {
      void this.fail(error);
    }
  }

  /**
   * The emitting worker: each shard runs the rest of the pipeline and the sink for its share
   * of the window output, so that work is split too; this worker's share is returned.
   * Output sent while a checkpoint round is under way goes into that checkpoint (the shards'
   * states are taken), and is run again after a resume from it.
   */
  private routeWindowOutput(docs: Doc[]): Doc[] {
    const links = this.env.shardLinks;
    if (!links || !('fromShards' in links) || docs.length === 0) return docs;
    const ports = links.fromShards;
    const own: Doc[] = [];
    const toShards: Doc[][] = ports.map(() => []);
    for (const doc of docs) {
      const owner = outputOwner(doc['_id'], ports.length + 1);
      if (owner === 0) own.push(doc);
      else toShards[owner - 1]!.push(doc);
    }
    toShards.forEach((batch, i) => {
      if (batch.length === 0) return;
      const { packed, transfer } = pack(batch);
      ports[i]!.postMessage({ type: 'output', docs: packed } satisfies ToShard, transfer);
      if (this.round) for (const doc of batch) this.round.routed.push(doc);
    });
    return own;
  }

  /** Merges shares in the order they came, then runs the windows they closed in one go. */
  private async mergeShares(shares: Array<{ from: number; share: Packed<WindowShare> }>): Promise<void> {
    if (!this.working()) return;
    try {
      const out: Doc[] = [];
      for (const { from, share } of shares) for (const doc of await this.operators[this.windowIndex]!.mergeShare!(from, unpack(share))) out.push(doc);
      this.operatorCounters[this.windowIndex]!.outputMessageCount += out.length;
      await this.runFrom(this.windowIndex + 1, this.routeWindowOutput(out));
    } catch (error) {
      void this.fail(error);
    }
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
      if (!this.working()) return;
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
      docs = i === this.windowIndex ? this.routeWindowOutput(out) : out;
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
          if (out.length > 0) await this.runFrom(i + 1, i === this.windowIndex ? this.routeWindowOutput(out) : out);
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

  private checkpointState(): CheckpointState {
    return { source: this.position, operators: this.operators.map((o) => o.snapshot?.()), counters: this.counters.persisted(), sink: this.sink.snapshot() };
  }

  /** final: the checkpoint at stop, after which nothing more runs. */
  private async takeCheckpoint(final: boolean): Promise<void> {
    const links = this.env.shardLinks;
    if (!links || !('fromShards' in links)) return this.saveOwnCheckpoint([], final);
    // A round under way may hold a shard's state from before that shard stopped reading: the
    // final checkpoint is a round of its own, after it.
    if (final) while (this.round) await this.round.done.catch(() => undefined);
    return this.startRound(links.fromShards, final);
  }

  /**
   * Saves this worker's state (with the other shards' of `round`, when it emits for them);
   * resolves once saved. The round ends as this state is taken: what arrives later belongs after it.
   */
  private saveOwnCheckpoint(shardStates: Uint8Array[], final: boolean, round?: Round, afterSaved?: () => void): Promise<void> {
    return this.queue.run(async () => {
      const working = this.working();
      const state = working ? this.checkpointState() : undefined;
      if (round) {
        this.round = undefined;
        this.shares.add(round.held);
        if (state && round.routed.length > 0) state.pendingOutput = round.routed;
      }
      if (!state) return;
      if (final) this.sealed = true;
      const own = encodeCheckpointState(state);
      this.checkpointId += 1;
      await this.env.saveCheckpoint({
        id: this.checkpointId,
        takenAt: new Date().toISOString(),
        state: shardStates.length === 0 ? own : joinShardStates([own, ...shardStates]),
      });
      afterSaved?.();
      this.commitSaved(state.source);
    });
  }

  /**
   * Tells the source that a checkpoint holding `position` is saved (Kafka commits its offsets),
   * outside the queue and one at a time, skipping to the newest: during a rebalance a commit
   * waits seconds for the group, and batches, whose heartbeats keep this member in the group,
   * must not wait behind it. A commit that fails only makes the group's view lag (the
   * checkpoint holds the offsets, and a resumed processor seeks to them).
   */
  private commitSaved(position: unknown): void {
    const none = this.uncommitted === undefined;
    this.uncommitted = position;
    if (!none) return;
    this.commits = this.commits.then(async () => {
      const newest = this.uncommitted;
      this.uncommitted = undefined;
      await this.source.checkpointSaved?.(newest);
    }).catch((error) => this.env.log.warn({ processor: this.definition.name, err: this.redact((error as Error).message) }, 'could not tell the source a checkpoint was saved'));
  }

  /** Asks every shard for its state; the checkpoint is taken once all have answered (window-shards.ts). */
  private startRound(ports: MessagePort[], final: boolean): Promise<void> {
    if (this.round) return this.round.done;
    let finish!: (job: Promise<void>) => void;
    const done = new Promise<void>((resolve, reject) => { finish = (job) => job.then(resolve, reject); });
    this.roundId += 1;
    this.round = { id: this.roundId, final, states: new Map(), held: [], routed: [], done, finish };
    for (const port of ports) port.postMessage({ type: 'snapshot', round: this.roundId, final } satisfies ToShard);
    return done;
  }

  private finishRound(round: Round): void {
    const links = this.env.shardLinks as { fromShards: MessagePort[] };
    const states = links.fromShards.map((_, i) => round.states.get(i + 1)!);
    round.finish(this.saveOwnCheckpoint(states, round.final, round, () => {
      for (const port of links.fromShards) port.postMessage({ type: 'saved', round: round.id } satisfies ToShard);
    }));
  }

  /** Stops the source, lets in-flight work finish, takes the final checkpoint and disconnects (once, however often called). */
  stop(): Promise<void> {
    if (this.state === 'running') this.stopped = this.stopRunning();
    return this.stopped ?? Promise.resolve();
  }

  private async stopRunning(): Promise<void> {
    this.state = 'stopping';
    this.counters.status = 'stopping';
    this.clearTimers();
    // Set before this returns: a shard's final round waits for it (listenAsShard).
    this.readingStopped = this.stopReading();
    try {
      await this.readingStopped;
      // A shard runs window output for the emitting worker until that one's final round.
      if (this.handsOver()) await this.answeredFinal;
      // What the sink could not write stays in the checkpoint and is written after a restart.
      await this.queue.run(async () => { await this.sink.flush(); })
        .catch((error) => this.env.log.warn({ processor: this.definition.name, err: this.redact((error as Error).message) }, 'sink could not write what it held at stop'));
      // A shard that hands its windows over is in the emitting worker's final checkpoint.
      if (!this.handsOver()) await this.takeCheckpoint(true);
      // The group sees the final offsets before this member leaves it.
      await this.commits;
    } finally {
      this.state = 'stopped';
      await this.source.close?.().catch(() => undefined);
      await this.release();
    }
  }

  /** The source stops; a shard then hands over, behind the batches the source delivered, all it holds. */
  private async stopReading(): Promise<void> {
    await this.source.stop();
    const links = this.env.shardLinks;
    if (links && 'toEmitter' in links) await this.handOver(links.toEmitter);
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
