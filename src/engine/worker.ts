// Entry of a processor's worker thread: one processor per thread, so a busy or stuck
// pipeline cannot stall the API or other processors.
import { parentPort, workerData } from 'node:worker_threads';
import type { Checkpoint, ProcessorDefinition } from './contract.js';
import type { FromWorker, ToWorker } from './runtime/messages.js';
import type { Logger } from './runtime/environment.js';
import { boundedMessage } from './limits.js';
import { OutputRelay, RecentOutput } from './runtime/output-relay.js';
import { installProgress } from './runtime/progress.js';
import { Processor } from './runtime/processor.js';

const STATS_INTERVAL_MS = 250;

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;
const post = (message: FromWorker) => port.postMessage(message);
// The heartbeat starts before anything compiles, so the watchdog also sees a stuck compile.
installProgress((workerData as { progress: SharedArrayBuffer }).progress);

let processor: Processor | undefined;
let output: OutputRelay | undefined;
let recentOutput: RecentOutput | undefined;
let deadLetters: OutputRelay | undefined;
let watching = false;
let redact: (text: string) => string = (text) => text;
const pendingCheckpoints = new Map<number, { resolve(): void; reject(error: Error): void }>();

/** A log line for the main thread: secrets masked, and no larger than a message may be. */
function logLine(level: 'info' | 'warn' | 'error', obj: object, msg?: string): void {
  const text = redact(JSON.stringify(obj));
  const bounded = boundedMessage(text);
  post({ type: 'log', level, obj: bounded === text ? JSON.parse(text) : { truncated: bounded }, msg });
}

const log: Logger = {
  info: (obj, msg) => logLine('info', obj, msg),
  warn: (obj, msg) => logLine('warn', obj, msg),
  error: (obj, msg) => logLine('error', obj, msg),
};

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'start': void start(message); break;
    case 'stop': void stop(); break;
    case 'watch':
      watching = true;
      // Output still waiting to cross belongs to an earlier watch: the recent output holds it.
      output?.discard();
      sendRecentOutput(message.request);
      break;
    case 'unwatch': watching = false; break;
    case 'sink-fault': processor?.setSinkFault(message.message); break;
    case 'checkpoint-saved': pendingCheckpoints.get(message.id)?.resolve(); pendingCheckpoints.delete(message.id); break;
    case 'checkpoint-failed': pendingCheckpoints.get(message.id)?.reject(new Error(message.message)); pendingCheckpoints.delete(message.id); break;
  }
});

/** The latest output for the main thread (a watch begins, the processor stops or fails). */
function sendRecentOutput(request?: number): void {
  // Always answered, even with nothing: a watch waits for the answer.
  post({ type: 'recent-output', docs: recentOutput?.encode() ?? [], ...(request === undefined ? {} : { request }) });
}

async function start(message: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  output = new OutputRelay(message.outputLimit, (docs) => post({ type: 'output', docs }));
  const relay = output;
  recentOutput = new RecentOutput(message.recentOutputLimit);
  // An interactive run's output all crosses, watched or not: its reader must lose nothing.
  watching = message.startOptions.keepAllOutput === true;
  const recent = recentOutput;
  deadLetters = new OutputRelay(message.deadLetterLimit, (docs) => post({ type: 'dead-letters', docs }));
  const dlqRelay = deadLetters;
  const pipeline = message.pipelineJson ? JSON.parse(Buffer.from(message.pipelineJson.buffer, message.pipelineJson.byteOffset, message.pipelineJson.byteLength).toString('utf8')) as ProcessorDefinition['pipeline'] : message.definition.pipeline;
  const current = new Processor({ ...message.definition, pipeline }, {
    settings: message.settings,
    log,
    ...(message.shard ? { shard: message.shard } : {}),
    ...(message.shardLinks ? { shardLinks: message.shardLinks } : {}),
    saveCheckpoint: (checkpoint: Checkpoint) => new Promise<void>((resolve, reject) => {
      pendingCheckpoints.set(checkpoint.id, { resolve, reject });
      // Transferred: the main thread gets the bytes without a copy or a structured clone.
      const transfer = checkpoint.state instanceof Uint8Array ? [checkpoint.state.buffer as ArrayBuffer] : [];
      port.postMessage({ type: 'checkpoint', checkpoint } satisfies FromWorker, transfer);
    }),
    publishOutput: (docs) => {
      recent.push(docs);
      if (watching) relay.push(docs);
    },
    publishDeadLetters: (records) => dlqRelay.push(records),
    wantsOutput: () => watching,
    failed: (reason) => {
      // Before the failure: the main thread keeps a failed processor's last output.
      sendRecentOutput();
      post({ type: 'failed', message: boundedMessage(reason) });
    },
    statsChanged: () => post({ type: 'stats', stats: current.stats() }),
  }, message.checkpoint, message.startOptions);
  redact = current.redact;
  try {
    current.compile();
  } catch (error) {
    post({ type: 'compile-error', message: boundedMessage(redact((error as Error).message)) });
    return;
  }
  processor = current;
  current.setSinkFault(message.sinkFault);
  post({ type: 'compiled' });
  setInterval(() => post({ type: 'stats', stats: current.stats() }), STATS_INTERVAL_MS).unref();
  await current.start();
}

async function stop(): Promise<void> {
  try {
    await processor?.stop();
  } catch (error) {
    log.error({ err: (error as Error).message }, 'final checkpoint failed');
  }
  output?.flush();
  sendRecentOutput();
  deadLetters?.flush();
  if (processor) post({ type: 'stats', stats: processor.stats() });
  post({ type: 'stopped' });
}
