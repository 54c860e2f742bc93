// Interactive runs: a pipeline run once over its source without being stored or listed, the way
// `sp.process(pipeline)` runs it in mongosh (src/wire/interactive-runs.ts) and the console's
// "Try a pipeline" runs it over pasted documents (tryPipeline). Checked like any processor,
// run by the engine with every output document kept; a pipeline without a sink gets the
// built-in one.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { newObjectId } from '../../crypto/ids.js';
import { PipelineError, type Document, type ProcessorRunner } from '../../engine/contract.js';
import type { Services } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import type { StoredInstance, StoredProcessor } from './common.js';
import { checkShapeAhead, TEST_LOG_CONNECTION } from './pipelines.js';
import { buildDefinition, checkDefinition, serially } from './processors.js';

/** Output must have stopped changing for this long before a finite run counts as complete. */
const SETTLE_MS = 250;
const POLL_MS = 50;

function withSink(pipeline: Document[]): Document[] {
  const last = pipeline[pipeline.length - 1];
  const name = last && typeof last === 'object' ? Object.keys(last)[0] : undefined;
  return name === '$emit' || name === '$merge' ? pipeline : [...pipeline, { $emit: { connectionName: TEST_LOG_CONNECTION } }];
}

/** How many documents a `{$source: {documents: [...]}}` holds; undefined for endless sources. */
function finiteInput(pipeline: Document[]): number | undefined {
  const source = (pipeline[0] as { $source?: { documents?: unknown } } | undefined)?.$source;
  return Array.isArray(source?.documents) ? source.documents.length : undefined;
}

export interface InteractiveRun {
  name: string;
  processorId: string;
  /** True once a finite source has all come out and the output has settled (never for endless sources). */
  isComplete(received: number): boolean;
  /** Stops the run and forgets it. */
  drop(): Promise<void>;
}

/** Checks and starts an interactive run of `pipeline` (plain JSON values) on the workspace. */
export async function startInteractive(services: Services, log: Logger, instance: StoredInstance, pipeline: Document[], dlq?: Document): Promise<InteractiveRun> {
  const now = services.now();
  const name = `process_${randomBytes(6).toString('hex')}`;
  const runPipeline = withSink(pipeline);
  const processor: StoredProcessor = {
    _id: newObjectId(now.getTime()), instanceId: instance._id, groupId: instance.groupId, instanceName: instance.name, name, pipeline: runPipeline,
    state: 'STARTED', resumeFromCheckpoint: false, createdAt: now.toISOString(), lastStateChange: now.toISOString(),
  };
  if (dlq) processor.options = { dlq: dlq as { connectionName: string; db: string; coll: string } };
  // The walk over a large pipeline, before the transaction that holds every other one back.
  await checkShapeAhead(runPipeline);
  const definition = await services.store.read(async (tx) => {
    await checkDefinition(tx, instance, name, runPipeline, dlq);
    return buildDefinition(tx, services, instance, processor);
  });
  const { runner } = services;
  try {
    await serially(runner, processor._id, () => runner.start(definition, { resumeFromCheckpoint: false, keepAllOutput: true }));
  } catch (error) {
    if (error instanceof PipelineError) throw new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', [name, error.message]);
    throw error;
  }
  log.info({ processor: name, processorId: processor._id }, 'interactive stream processor started');
  return {
    name,
    processorId: processor._id,
    isComplete: completionCheck(runner, processor._id, finiteInput(runPipeline)),
    async drop() {
      await serially(runner, processor._id, () => runner.drop(processor._id))
        .catch((error: unknown) => log.error({ err: error, processor: name }, 'dropping an interactive processor failed'));
      log.info({ processor: name }, 'interactive stream processor dropped');
    },
  };
}

function completionCheck(runner: ProcessorRunner, processorId: string, total: number | undefined): (received: number) => boolean {
  let lastOutput = -1;
  let settledSince = 0;
  return (received) => {
    if (total === undefined) return false;
    const stats = runner.stats(processorId);
    if (!stats) return !runner.isRunning(processorId);
    if (stats.inputMessageCount + stats.dlqMessageCount < total || received < stats.outputMessageCount) return false;
    if (stats.outputMessageCount !== lastOutput) {
      lastOutput = stats.outputMessageCount;
      settledSince = Date.now();
      return false;
    }
    return Date.now() - settledSince >= SETTLE_MS;
  };
}

export interface TriedPipeline {
  /** The sink's input, in order, at most `limit` documents. */
  results: Document[];
  /** False when the run was cut short by the limit or the time allowed. */
  complete: boolean;
  inputMessageCount: number;
  outputMessageCount: number;
  dlqMessageCount: number;
}

/**
 * Runs the pipeline until its finite source has all come out, `limit` documents have been
 * output or `timeoutMs` has passed, then drops it: nothing is created or kept.
 */
export async function tryPipeline(services: Services, log: Logger, instance: StoredInstance, pipeline: Document[],
  bounds: { limit: number; timeoutMs: number }): Promise<TriedPipeline> {
  const run = await startInteractive(services, log, instance, pipeline);
  const results: Document[] = [];
  const abort = new AbortController();
  let complete = false;
  const deadline = Date.now() + bounds.timeoutMs;
  const poll = setInterval(() => {
    if (run.isComplete(results.length)) complete = true;
    if (complete || results.length >= bounds.limit || Date.now() > deadline) abort.abort();
  }, POLL_MS);
  try {
    for await (const doc of services.runner.watchOutput(run.processorId, abort.signal)) {
      if (results.length < bounds.limit) results.push(doc);
      if (abort.signal.aborted) break;
    }
    const stats = services.runner.stats(run.processorId);
    return {
      results, complete,
      inputMessageCount: stats?.inputMessageCount ?? 0, outputMessageCount: stats?.outputMessageCount ?? results.length, dlqMessageCount: stats?.dlqMessageCount ?? 0,
    };
  } finally {
    clearInterval(poll);
    await run.drop();
  }
}
