// The engine as the control plane sees it: createEngine() returns a ProcessorRunner that
// runs each processor in its own worker thread and relays checkpoints, failures, stats
// and output through the ProcessorHost callbacks.
import { Worker } from 'node:worker_threads';
import { EJSON } from 'bson';
import {
  PipelineError,
  type Document, type ProcessorDefinition, type ProcessorHost, type ProcessorRunner, type ProcessorStats, type StartOptions, type WatchOptions,
} from './contract.js';
import { checkConnectionsExist, checkPipelineShape } from './pipeline-shape.js';
import type { EngineSettings, Logger } from './runtime/environment.js';
import type { FromWorker, ToWorker } from './runtime/messages.js';
import { collectSecrets, createRedactor } from './runtime/secrets.js';

export { PipelineError } from './contract.js';
export type { ProcessorRunner, ProcessorHost } from './contract.js';

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
}

const STOP_TIMEOUT_MS = 60_000;
const silentLogger: Logger = { info() {}, warn() {}, error() {} };

interface Running {
  definition: ProcessorDefinition;
  worker: Worker;
  stats: ProcessorStats | undefined;
  ring: Document[];
  watchers: Set<(doc: Document) => void>;
  stopped: Promise<void>;
  redact(text: string): string;
}

export function createEngine(host: ProcessorHost, options: EngineOptions = {}): ProcessorRunner {
  return new Engine(host, options);
}

class Engine implements ProcessorRunner {
  private readonly running = new Map<string, Running>();
  private readonly settings: EngineSettings;
  private readonly log: Logger;
  private readonly ringSize: number;

  constructor(private readonly host: ProcessorHost, options: EngineOptions) {
    this.log = options.logger ?? silentLogger;
    this.ringSize = options.outputRingSize ?? 1000;
    this.settings = {
      sampleRatePerSecond: options.sampleRatePerSecond ?? 10,
      checkpointIntervalMs: options.checkpointIntervalMs ?? 5000,
      ...(options.stateBudgetBytes === undefined ? {} : { stateBudgetBytes: options.stateBudgetBytes }),
      ...(options.extraCaCertificates ? { extraCaCertificates: options.extraCaCertificates } : {}),
    };
  }

  async start(definition: ProcessorDefinition, options: StartOptions): Promise<void> {
    if (this.running.has(definition.id)) throw new PipelineError(`stream processor ${definition.name} is already running`);
    const used = checkPipelineShape(definition.pipeline);
    if (definition.options?.dlq) used.add(definition.options.dlq.connectionName);
    checkConnectionsExist(used, new Set(Object.keys(definition.connections)));
    const checkpoint = options.resumeFromCheckpoint ? await this.host.loadCheckpoint(definition.id) : undefined;

    const worker = spawnWorker();
    let markStopped!: () => void;
    const entry: Running = {
      definition,
      worker,
      stats: undefined,
      ring: [],
      watchers: new Set(),
      stopped: new Promise<void>((resolve) => { markStopped = resolve; }),
      redact: createRedactor(collectSecrets(definition.connections)),
    };
    this.running.set(definition.id, entry);
    const compiled = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'compiled') resolve();
        else if (message.type === 'compile-error') reject(new PipelineError(message.message));
        else if (message.type === 'stopped') markStopped();
        else this.onMessage(entry, message);
      });
      worker.on('error', (error) => {
        const message = `stream processor crashed: ${entry.redact(error.message)}`;
        reject(new Error(message));
        void this.failed(entry, message);
      });
      worker.on('exit', () => markStopped());
    });
    this.post(entry, { type: 'start', definition, checkpoint, startOptions: options, settings: this.settings,
      outputLimit: options.keepAllOutput ? Number.MAX_SAFE_INTEGER : this.ringSize });
    try {
      await compiled;
    } catch (error) {
      this.forget(entry);
      throw error;
    }
  }

  private onMessage(entry: Running, message: FromWorker): void {
    const id = entry.definition.id;
    switch (message.type) {
      case 'stats': entry.stats = message.stats; break;
      case 'output': this.publish(entry, message.docs); break;
      case 'checkpoint':
        this.host.saveCheckpoint(id, message.checkpoint).then(
          () => this.post(entry, { type: 'checkpoint-saved', id: message.checkpoint.id }),
          (error: Error) => this.post(entry, { type: 'checkpoint-failed', id: message.checkpoint.id, message: error.message }),
        );
        break;
      case 'failed': void this.failed(entry, message.message); break;
      case 'log': this.log[message.level]({ processor: entry.definition.name, ...message.obj }, message.msg); break;
    }
  }

  private publish(entry: Running, serialized: unknown[]): void {
    for (const item of serialized) {
      const doc = EJSON.deserialize(item as Document) as Document;
      entry.ring.push(doc);
      for (const watcher of entry.watchers) watcher(doc);
    }
    if (entry.ring.length > this.ringSize) entry.ring.splice(0, entry.ring.length - this.ringSize);
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
    if (this.running.get(entry.definition.id) === entry) this.running.delete(entry.definition.id);
    void entry.worker.terminate();
  }

  private post(entry: Running, message: ToWorker): void {
    entry.worker.postMessage(message);
  }

  async stop(processorId: string): Promise<void> {
    const entry = this.running.get(processorId);
    if (!entry) return;
    this.post(entry, { type: 'stop' });
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref());
    await Promise.race([entry.stopped, timeout]);
    this.forget(entry);
  }

  async drop(processorId: string): Promise<void> {
    const entry = this.running.get(processorId);
    if (entry) this.forget(entry);
  }

  isRunning(processorId: string): boolean {
    return this.running.has(processorId);
  }

  stats(processorId: string): ProcessorStats | undefined {
    const entry = this.running.get(processorId);
    if (!entry) return undefined;
    return entry.stats ?? emptyStats(entry.definition);
  }

  async *watchOutput(processorId: string, signal: AbortSignal, options: WatchOptions = {}): AsyncIterable<Document> {
    const entry = this.running.get(processorId);
    if (!entry) return;
    const queue: Document[] = options.includeRecent === false ? [] : [...entry.ring];
    let wake: (() => void) | undefined;
    const watcher = (doc: Document) => { queue.push(doc); wake?.(); };
    const onAbort = () => wake?.();
    entry.watchers.add(watcher);
    signal.addEventListener('abort', onAbort);
    this.post(entry, { type: 'watch', watching: true });
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) { yield next; continue; }
        if (this.running.get(processorId) !== entry) return;
        await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 500).unref(); });
        wake = undefined;
      }
    } finally {
      entry.watchers.delete(watcher);
      signal.removeEventListener('abort', onAbort);
      if (entry.watchers.size === 0 && this.running.get(processorId) === entry) this.post(entry, { type: 'watch', watching: false });
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.stop(id)));
  }
}

function spawnWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url));
  // Running from TypeScript sources (vitest): Node 20 workers ignore `execArgv: ['--import', 'tsx']`,
  // so the worker registers tsx's loader itself before loading the TypeScript entry.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true });
}

function emptyStats(definition: ProcessorDefinition): ProcessorStats {
  return {
    name: definition.name, processorId: definition.id, status: 'starting', scaleFactor: 1,
    inputMessageCount: 0, inputMessageSize: 0, outputMessageCount: 0, outputMessageSize: 0,
    dlqMessageCount: 0, dlqMessageSize: 0, memoryTrackerBytes: 0, stateSize: 0, ok: 1, operatorStats: [],
  };
}
