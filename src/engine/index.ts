// The engine as the control plane sees it: createEngine() returns a ProcessorRunner that
// runs each processor in its own worker thread and relays checkpoints, failures, stats
// and output through the ProcessorHost callbacks.
import { randomUUID } from 'node:crypto';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { EJSON } from 'bson';
import {
  PipelineError,
  type Checkpoint, type Document, type ProcessorDefinition, type ProcessorHost, type ProcessorRunner, type ProcessorStats, type StartOptions, type WatchOptions,
} from './contract.js';
import { checkConnectionsExist, checkPipelineShapeInSlices, WINDOWS } from './pipeline-shape.js';
import { boundedMessage } from './limits.js';
import type { EngineSettings, Logger } from './runtime/environment.js';
import type { FromWorker, ToWorker } from './runtime/messages.js';
import type { SourceShard } from './sources/kafka-shards.js';
import type { ShardLinks } from './runtime/window-shards.js';
import { createProgressBuffer } from './runtime/progress.js';
import { collectSecrets, createRedactor } from './runtime/secrets.js';
import { Watchdog } from './runtime/watchdog.js';
import { jsonTexts, sliceBreaks } from './runtime/sliced-json.js';
import { startModuleWorker } from './runtime/module-worker.js';
import { ShardedCheckpoints, splitCheckpoint } from './runtime/sharded-checkpoint.js';
import { combineShardStats } from './runtime/stats.js';

export { PipelineError } from './contract.js';
export type { ProcessorRunner, ProcessorHost } from './contract.js';
export { allowWritesUntil, createWriteFence, fenceClockMs, type WriteFence } from './runtime/write-fence.js';

export interface EngineOptions {
  logger?: Logger;
  /** sample_stream_solar documents per second per processor (default 10; 0 = unthrottled). */
  sampleRatePerSecond?: number;
  /** Periodic checkpoint interval (default 5000 ms); stop always takes one. */
  checkpointIntervalMs?: number;
  /** Overrides the window state budget (80% of the tier's memory). */
  stateBudgetBytes?: number;
  /** Extra trusted CA certificates (PEM) for Https connections and Kafka TLS. */
  extraCaCertificates?: string[];
  /** How many __testLog documents each processor keeps for watchOutput (default 1000). */
  outputRingSize?: number;
  /** Heap limit of each processor's worker (default 1024 MB); past it the worker is stopped and the processor FAILs. */
  workerHeapMb?: number;
  /** How long one document (or compiling the pipeline) may hold a worker (default 30 s) before it is terminated. */
  documentTimeoutMs?: number;
  /** How long stop waits for the final checkpoint before terminating the worker (default 10 s). */
  stopTimeoutMs?: number;
  /** AWS Lambda-compatible endpoint for $externalFunction (default: ATLAS_STREAMS_LAMBDA_ENDPOINT). */
  lambdaEndpoint?: string;
  /**
   * Worker threads per processor reading a Kafka topic (default 1): its partitions are split
   * among them through the consumer group, with tumbling and hopping window state split to
   * match (splitOf says which pipelines). An emulator setting: Atlas has no such option.
   */
  kafkaSourceParallelism?: number;
}

const DEFAULT_WORKER_HEAP_MB = 1024;
/** Output kept per processor for watchOutput, in characters of EJSON (besides outputRingSize documents). */
const MAX_RING_CHARS = 64 * 1024 * 1024;
const DEFAULT_DOCUMENT_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/** A worker whose heartbeat has stopped this long is busy on one thing: stop does not wait for it. */
const STALLED_MS = 2000;
const STOP_POLL_MS = 100;
/** Window state estimates count BSON bytes; objects in a JS heap take a few times that. */
const HEAP_PER_STATE_BYTE = 4;
const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Dead letter queue records kept per processor for watchDeadLetters. */
const DEAD_LETTER_RING_SIZE = 100;

/** One watch of a channel: documents reach it once it has caught up with the worker's recent output. */
interface Watcher {
  deliver(text: string): void;
  includeRecent: boolean;
  caughtUp: boolean;
}

/**
 * The latest documents of one kind (output, dead letters) as EJSON text, parsed only when
 * someone watches. A live channel's documents always cross from the worker (dead letters,
 * and an interactive run's output, which must lose nothing); other output crosses only
 * while someone watches it, so its ring is current only then (and after a stop or a failure).
 */
interface Channel {
  ring: string[];
  ringChars: number;
  ringSize: number;
  live: boolean;
  watchers: Set<Watcher>;
  /** The workers' recent output was asked for with this number and has not all come yet. */
  request: number | undefined;
  /** Answers to `request` still to come: one from each worker of the processor. */
  awaitedReplies: number;
  /** Each worker's recent output as it last sent it: with a split source, the ring is all of theirs. */
  recentByWorker: Map<ShardWorker, string[]>;
}

function newChannel(ringSize: number, live: boolean): Channel {
  return { ring: [], ringChars: 0, ringSize, live, watchers: new Set(), request: undefined, awaitedReplies: 0, recentByWorker: new Map() };
}

/** One worker thread of a processor: the only one, or one shard of its Kafka source. */
interface ShardWorker {
  worker: Worker;
  stats: ProcessorStats | undefined;
  stopped: Promise<void>;
  /** Its key with the watchdog. */
  watchKey: string;
}

interface Running {
  definition: ProcessorDefinition;
  shards: ShardWorker[];
  /** With more than one shard: their checkpoints, written as one. */
  shardedCheckpoints: ShardedCheckpoints | undefined;
  /** Combined checkpoints are written one after another, in the order they were made. */
  saving: Promise<void>;
  output: Channel;
  deadLetters: Channel;
  /** stop() was called: no longer counts as running while the final checkpoint is taken. */
  stopping: boolean;
  redact(text: string): string;
}

export function createEngine(host: ProcessorHost, options: EngineOptions = {}): ProcessorRunner {
  return new Engine(host, options);
}

class Engine implements ProcessorRunner {
  private readonly running = new Map<string, Running>();
  /** The last output of processors that stopped or failed, readable until they start again or go. */
  private readonly lastOutput = new Map<string, string[]>();
  private readonly unreachableSinks = new Map<string, string>();
  private readonly settings: EngineSettings;
  private readonly log: Logger;
  private readonly ringSize: number;
  private readonly heapMb: number;
  private readonly stopTimeoutMs: number;
  private readonly watchdog: Watchdog;
  private readonly kafkaSourceParallelism: number;
  private outputRequests = 0;

  constructor(private readonly host: ProcessorHost, options: EngineOptions) {
    this.log = options.logger ?? silentLogger;
    this.ringSize = options.outputRingSize ?? 1000;
    this.heapMb = options.workerHeapMb ?? DEFAULT_WORKER_HEAP_MB;
    this.stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.watchdog = new Watchdog(options.documentTimeoutMs ?? DEFAULT_DOCUMENT_TIMEOUT_MS);
    this.kafkaSourceParallelism = options.kafkaSourceParallelism ?? 1;
    this.settings = {
      sampleRatePerSecond: options.sampleRatePerSecond ?? 10,
      checkpointIntervalMs: options.checkpointIntervalMs ?? 5000,
      // The budget fails a processor with Atlas's message before its heap limit stops the worker.
      heapBudgetBytes: (this.heapMb * 1024 * 1024) / HEAP_PER_STATE_BYTE,
      ...(options.stateBudgetBytes === undefined ? {} : { stateBudgetBytes: options.stateBudgetBytes }),
      ...(options.extraCaCertificates ? { extraCaCertificates: options.extraCaCertificates } : {}),
    };
    const lambdaEndpoint = options.lambdaEndpoint ?? process.env['ATLAS_STREAMS_LAMBDA_ENDPOINT'];
    if (lambdaEndpoint) this.settings.lambdaEndpoint = lambdaEndpoint;
  }

  async start(definition: ProcessorDefinition, options: StartOptions): Promise<void> {
    if (this.running.has(definition.id)) throw new PipelineError(`stream processor ${definition.name} is already running`);
    const used = await checkPipelineShapeInSlices(definition.pipeline);
    if (definition.options?.dlq) used.add(definition.options.dlq.connectionName);
    checkConnectionsExist(used, new Set(Object.keys(definition.connections)));
    const stored = options.resumeFromCheckpoint ? await this.host.loadCheckpoint(definition.id) : undefined;
    const { count, windowed } = splitOf(definition, this.kafkaSourceParallelism);
    const resumed = splitCheckpoint(stored, count);
    const pipelineJson = await pipelineText(definition.pipeline);
    const entry: Running = {
      definition,
      shards: [],
      // With a window the emitting worker takes the whole checkpoint itself (runtime/window-shards.ts).
      shardedCheckpoints: count > 1 && !windowed ? new ShardedCheckpoints(resumed, stored?.id ?? 0) : undefined,
      saving: Promise.resolve(),
      output: newChannel(this.ringSize, options.keepAllOutput === true),
      deadLetters: newChannel(DEAD_LETTER_RING_SIZE, true),
      stopping: false,
      redact: createRedactor(collectSecrets(definition.connections)),
    };
    this.running.set(definition.id, entry);
    this.lastOutput.delete(definition.id);
    const run = randomUUID();
    const links = count > 1 && windowed ? windowShardLinks(count) : [];
    const compiled = Promise.all(resumed.map((checkpoint, index) => this.startShard(entry, pipelineJson, checkpoint, options, count > 1 ? { index, count, run } : undefined, links[index])));
    try {
      await compiled;
    } catch (error) {
      this.forget(entry);
      throw error;
    }
  }

  /** Starts one worker; resolves once its pipeline compiled. */
  private startShard(entry: Running, pipelineJson: Uint8Array | undefined, checkpoint: Checkpoint | undefined, options: StartOptions, shard: SourceShard | undefined, shardLinks: ShardLinks | undefined): Promise<void> {
    const { definition } = entry;
    const progress = createProgressBuffer();
    const worker = spawnWorker(progress, this.heapMb);
    let markStopped!: () => void;
    const self: ShardWorker = {
      worker,
      stats: undefined,
      stopped: new Promise<void>((resolve) => { markStopped = resolve; }),
      watchKey: `${definition.id}:${shard?.index ?? 0}`,
    };
    entry.shards.push(self);
    let compiled = false;
    const ready = new Promise<void>((resolve, reject) => {
      // Before this worker's pipeline compiled, a failure answers the start call; afterwards it FAILs the processor.
      const abort = (error: Error) => {
        if (!compiled) reject(error);
        else void this.failed(entry, error.message);
      };
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'compiled') { compiled = true; resolve(); }
        else if (message.type === 'compile-error') reject(new PipelineError(boundedMessage(message.message)));
        else if (message.type === 'stopped') markStopped();
        else this.onMessage(entry, self, message);
      });
      worker.on('error', (error: Error & { code?: string }) => {
        abort(new Error(error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `stream processing instance out of memory: the processor's worker went past its ${this.heapMb} MB heap limit and was stopped`
          : `stream processor crashed: ${boundedMessage(entry.redact(error.message))}`));
      });
      worker.on('exit', (code) => {
        markStopped();
        // Exits the engine did not ask for (it forgets a processor before terminating it), and
        // a worker still compiling when another failed the processor.
        if (this.running.get(definition.id) === entry || !compiled) abort(new Error(`stream processor crashed: its worker exited unexpectedly (exit code ${code})`));
      });
      this.watchdog.watch(self.watchKey, progress, () => {
        const seconds = this.watchdog.limitMs / 1000;
        abort(compiled
          ? new Error(`stream processor stopped: one document was still being processed after ${seconds} s (the processor's worker was terminated)`)
          : new PipelineError(`compiling the pipeline took longer than ${seconds} s`));
      });
    });
    worker.postMessage({ type: 'start', definition: pipelineJson ? { ...definition, pipeline: [] } : definition, ...(pipelineJson ? { pipelineJson } : {}), checkpoint, startOptions: options, settings: this.settings,
      outputLimit: options.keepAllOutput ? Number.MAX_SAFE_INTEGER : this.ringSize, recentOutputLimit: this.ringSize, sinkFault: this.unreachableSinks.get(definition.id),
      deadLetterLimit: DEAD_LETTER_RING_SIZE, ...(shard ? { shard } : {}), ...(shardLinks ? { shardLinks } : {}) } satisfies ToWorker,
    shardLinks ? ('toEmitter' in shardLinks ? [shardLinks.toEmitter] : shardLinks.fromShards) : []);
    return ready;
  }

  private onMessage(entry: Running, shard: ShardWorker, message: FromWorker): void {
    switch (message.type) {
      case 'stats': shard.stats = message.stats; break;
      case 'output': publish(entry.output, message.docs); break;
      case 'recent-output': catchUp(entry.output, shard, message.docs, message.request); break;
      case 'dead-letters': publish(entry.deadLetters, message.docs); break;
      case 'checkpoint': this.saveCheckpoint(entry, shard, message.checkpoint); break;
      case 'failed': void this.failed(entry, boundedMessage(message.message)); break;
      case 'log': this.log[message.level]({ processor: entry.definition.name, ...message.obj }, message.msg); break;
    }
  }

  /** Persists a worker's checkpoint (as part of the combined one when sharded) and tells the worker how it went. */
  private saveCheckpoint(entry: Running, shard: ShardWorker, checkpoint: Checkpoint): void {
    const { id } = checkpoint;
    const index = entry.shards.indexOf(shard);
    const save = () => this.host.saveCheckpoint(entry.definition.id, entry.shardedCheckpoints?.update(index, checkpoint.state) ?? checkpoint);
    const saved = entry.shardedCheckpoints ? entry.saving.then(save) : save();
    entry.saving = saved.catch(() => undefined);
    saved.then(
      () => shard.worker.postMessage({ type: 'checkpoint-saved', id } satisfies ToWorker),
      (error: Error) => shard.worker.postMessage({ type: 'checkpoint-failed', id, message: error.message } satisfies ToWorker),
    );
  }

  private async failed(entry: Running, message: string): Promise<void> {
    if (this.running.get(entry.definition.id) !== entry) return;
    this.forget(entry);
    try {
      await this.host.markFailed(entry.definition.id, message);
    } catch (error) {
      this.log.error({ processor: entry.definition.name, err: (error as Error).message }, 'could not record the failure');
    }
  }

  private forget(entry: Running): void {
    if (this.running.get(entry.definition.id) === entry) {
      this.running.delete(entry.definition.id);
      for (const shard of entry.shards) this.watchdog.unwatch(shard.watchKey);
      if (entry.output.ring.length > 0) this.lastOutput.set(entry.definition.id, entry.output.ring);
    }
    for (const shard of entry.shards) void shard.worker.terminate();
  }

  /** To every worker of the processor. */
  private post(entry: Running, message: ToWorker): void {
    for (const shard of entry.shards) shard.worker.postMessage(message);
  }

  async stop(processorId: string): Promise<void> {
    const entry = this.running.get(processorId);
    if (!entry) return;
    entry.stopping = true;
    // Every worker at once: with split windows the emitting worker's final round also stops
    // the shards that have not had this message yet (runtime/window-shards.ts), and no worker
    // is terminated before all have stopped (or the limits below), so that round completes.
    this.post(entry, { type: 'stop' });
    // A worker held by one document cannot take a final checkpoint: once its heartbeat has
    // stood still for STALLED_MS it is terminated (it resumes from its last checkpoint,
    // at-least-once); any other worker gets stopTimeoutMs to finish.
    const deadline = Date.now() + this.stopTimeoutMs;
    let done = false;
    const stopped = Promise.all(entry.shards.map((shard) => shard.stopped));
    void stopped.then(() => { done = true; });
    while (!done && Date.now() < deadline && !entry.shards.some((shard) => this.watchdog.stalledFor(shard.watchKey, STALLED_MS))) {
      await Promise.race([stopped, new Promise<void>((resolve) => setTimeout(resolve, STOP_POLL_MS).unref())]);
    }
    this.forget(entry);
  }

  async drop(processorId: string): Promise<void> {
    const entry = this.running.get(processorId);
    if (entry) this.forget(entry);
    this.lastOutput.delete(processorId);
    this.unreachableSinks.delete(processorId);
  }

  lastOutputOf(processorId: string): Document[] {
    return (this.lastOutput.get(processorId) ?? []).map((text) => EJSON.parse(text) as Document);
  }

  setSinkFault(processorId: string, message: string | undefined): void {
    if (message === undefined) this.unreachableSinks.delete(processorId);
    else this.unreachableSinks.set(processorId, message);
    const entry = this.running.get(processorId);
    if (entry) this.post(entry, { type: 'sink-fault', message });
  }

  sinkFaults(): Array<{ processorId: string; message: string }> {
    return [...this.unreachableSinks].map(([processorId, message]) => ({ processorId, message }));
  }

  isRunning(processorId: string): boolean {
    const entry = this.running.get(processorId);
    return entry !== undefined && !entry.stopping;
  }

  stats(processorId: string): ProcessorStats | undefined {
    const entry = this.running.get(processorId);
    if (!entry) return undefined;
    if (entry.shards.length === 1) return entry.shards[0]!.stats ?? emptyStats(entry.definition);
    const reported = entry.shards.map((shard) => shard.stats);
    return reported.every((stats) => stats !== undefined) ? combineShardStats(reported as ProcessorStats[]) : emptyStats(entry.definition);
  }

  watchOutput(processorId: string, signal: AbortSignal, options: WatchOptions = {}): AsyncIterable<Document> {
    return this.watch(processorId, 'output', signal, options);
  }

  watchDeadLetters(processorId: string, signal: AbortSignal): AsyncIterable<Document> {
    return this.watch(processorId, 'deadLetters', signal, {});
  }

  private async *watch(processorId: string, kind: 'output' | 'deadLetters', signal: AbortSignal, options: WatchOptions): AsyncIterable<Document> {
    const entry = this.running.get(processorId);
    if (!entry) return;
    const channel = entry[kind];
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    const watcher: Watcher = { deliver: (text) => { queue.push(text); wake?.(); }, includeRecent: options.includeRecent !== false, caughtUp: true };
    if (!channel.live && channel.watchers.size === 0) {
      // The first watch: the worker kept the output to itself; it answers with its recent
      // output, then sends output as it comes until the last watch ends.
      channel.request = ++this.outputRequests;
      channel.awaitedReplies = entry.shards.length;
      this.post(entry, { type: 'watch', request: channel.request });
    }
    if (channel.request !== undefined) watcher.caughtUp = false;
    else if (watcher.includeRecent) queue.push(...channel.ring);
    const onAbort = () => wake?.();
    channel.watchers.add(watcher);
    signal.addEventListener('abort', onAbort);
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next !== undefined) { yield EJSON.parse(next) as Document; continue; }
        if (this.running.get(processorId) !== entry) return;
        await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 500).unref(); });
        wake = undefined;
      }
    } finally {
      channel.watchers.delete(watcher);
      signal.removeEventListener('abort', onAbort);
      if (!channel.live && channel.watchers.size === 0 && this.running.get(processorId) === entry) {
        channel.request = undefined;
        this.post(entry, { type: 'unwatch' });
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }
}

function publish(channel: Channel, texts: string[]): void {
  for (const text of texts) {
    channel.ring.push(text);
    channel.ringChars += text.length;
    for (const watcher of channel.watchers) if (watcher.caughtUp) watcher.deliver(text);
  }
  trim(channel);
}

/** The workers' recent output replaces the ring; the watches waiting for it (`request`) start from it once every worker answered. */
function catchUp(channel: Channel, worker: ShardWorker, texts: string[], request: number | undefined): void {
  channel.recentByWorker.set(worker, texts);
  channel.ring = newestOfEach([...channel.recentByWorker.values()]);
  channel.ringChars = channel.ring.reduce((sum, text) => sum + text.length, 0);
  trim(channel);
  if (request === undefined || request !== channel.request || --channel.awaitedReplies > 0) return;
  channel.request = undefined;
  for (const watcher of channel.watchers) {
    if (watcher.caughtUp) continue;
    watcher.caughtUp = true;
    if (watcher.includeRecent) for (const text of channel.ring) watcher.deliver(text);
  }
}

/**
 * The pipeline as JSON text for its workers, written in slices into memory they share: the
 * structured clone of a 16 MB pipeline held the API thread for a quarter of a second, and so
 * did posting its text as buffers (each is copied); a SharedArrayBuffer crosses as it is, to
 * every worker of the processor. The text is written straight into it (no buffer of its own
 * first, which cost 16 MB more to allocate, copy and collect). Undefined when JSON would change
 * a value (dates and BSON values, which a library caller may pass; the control plane's
 * pipelines are plain JSON): that pipeline is cloned.
 */
async function pipelineText(pipeline: Document[]): Promise<Uint8Array | undefined> {
  let plain = true;
  const texts: string[] = [];
  let bytes = 0;
  for await (const text of jsonTexts(pipeline, function (this: unknown, key, value) {
    if (plain && !isPlainJson((this as Record<string, unknown>)[key])) plain = false;
    return value;
  })) {
    texts.push(text);
    bytes += Buffer.byteLength(text, 'utf8');
  }
  if (!plain) return undefined;
  // Encoded in slices too: filling 16 MB of new memory took over 100 ms here.
  const shared = Buffer.from(new SharedArrayBuffer(bytes));
  const sliceBreak = sliceBreaks();
  let at = 0;
  for (const text of texts) {
    at += shared.write(text, at, 'utf8');
    await sliceBreak();
  }
  return new Uint8Array(shared.buffer, 0, bytes);
}

function isPlainJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string': case 'boolean': return true;
    case 'number': return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      const prototype = Object.getPrototypeOf(value);
      return prototype === Object.prototype || prototype === Array.prototype || prototype === null;
    }
    default: return false;
  }
}

/** The workers' lists merged oldest to newest, taking each worker's newest in turn, so trimming the ring keeps some of every worker's. */
function newestOfEach(lists: string[][]): string[] {
  const merged: string[] = [];
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let back = 1; back <= longest; back++) for (const list of lists) if (list.length >= back) merged.push(list[list.length - back]!);
  return merged.reverse();
}

/** Bounded in count and in size: a pipeline of large documents cannot fill the main heap. */
function trim(channel: Channel): void {
  while (channel.ring.length > channel.ringSize || (channel.ringChars > MAX_RING_CHARS && channel.ring.length > 1)) {
    channel.ringChars -= channel.ring.shift()!.length;
  }
}

function spawnWorker(progress: SharedArrayBuffer, heapMb: number): Worker {
  // A hard heap limit: past it Node stops this worker (ERR_WORKER_OUT_OF_MEMORY) instead of
  // the whole process running out of memory.
  return startModuleWorker(import.meta.url, 'worker', { workerData: { progress }, resourceLimits: { maxOldGenerationSizeMb: heapMb } });
}

/**
 * How many workers run the processor: kafkaSourceParallelism for a Kafka source whose sink
 * does not batch into named objects (S3 object names would collide) and whose window, if
 * any, is a tumbling or hopping one on event time without idleTimeout (windows the workers
 * can close together on the watermark over all partitions); one for everything else.
 */
function splitOf(definition: ProcessorDefinition, parallelism: number): { count: number; windowed: boolean } {
  const single = { count: 1, windowed: false };
  if (parallelism <= 1) return single;
  const stages = definition.pipeline as Document[];
  const source = stages[0]?.['$source'] as Document | undefined;
  if (definition.connections[String(source?.['connectionName'])]?.type !== 'Kafka') return single;
  const emit = stages.at(-1)?.['$emit'] as Document | undefined;
  if (emit && definition.connections[String(emit['connectionName'])]?.type === 'S3') return single;
  const windows = stages.filter((stage) => WINDOWS.has(Object.keys(stage)[0]!));
  const splittable = windows.every((stage) => {
    const [name, spec] = Object.entries(stage)[0] as [string, Document];
    return name !== '$sessionWindow' && spec?.['boundary'] !== 'processingTime' && !spec?.['idleTimeout'];
  });
  return splittable ? { count: parallelism, windowed: windows.length > 0 } : single;
}

/** One channel between the emitting worker (shard 0) and each other shard. */
function windowShardLinks(count: number): ShardLinks[] {
  const channels = Array.from({ length: count - 1 }, () => new MessageChannel());
  return [
    { fromShards: channels.map((channel): MessagePort => channel.port1) },
    ...channels.map((channel): ShardLinks => ({ toEmitter: channel.port2 })),
  ];
}

function emptyStats(definition: ProcessorDefinition): ProcessorStats {
  return {
    name: definition.name, processorId: definition.id, status: 'starting', scaleFactor: 1,
    inputMessageCount: 0, inputMessageSize: 0, outputMessageCount: 0, outputMessageSize: 0,
    dlqMessageCount: 0, dlqMessageSize: 0, memoryTrackerBytes: 0, stateSize: 0, ok: 1, operatorStats: [],
  };
}
