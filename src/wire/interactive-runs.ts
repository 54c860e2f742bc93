// `sp.process(pipeline)`: an interactive processor that is never stored or listed. Checked
// like any processor (the domain's rules), run by the engine with every output document kept,
// and read through a sample cursor. A pipeline without a sink gets the built-in one. A
// `documents` source is finite: the cursor ends once all of it has come out. The run is
// dropped when its cursor closes: at the end, on dropStreamProcessor, when the connection
// that started it closes, when abandoned, or after ten minutes.
import { randomBytes } from 'node:crypto';
import type { Document } from 'bson';
import { newObjectId } from '../crypto/ids.js';
import { PipelineError } from '../engine/contract.js';
import type { StoredInstance, StoredProcessor } from '../domain/streams/common.js';
import { TEST_LOG_CONNECTION } from '../domain/streams/pipelines.js';
import { buildDefinition, checkDefinition, serially } from '../domain/streams/processors.js';
import { ApiError } from '../http/errors.js';
import { toJsonValue } from './render.js';
import type { SampleCursor } from './sample-cursors.js';
import type { Endpoint } from './workspace.js';

export const INTERACTIVE_LIFETIME_MS = 10 * 60_000;
/** Output must have stopped changing for this long before a finite run counts as complete. */
const SETTLE_MS = 250;

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

export interface InteractiveRequest {
  pipeline: Document[];
  limit?: number;
  dlq?: Document;
  connectionId: number;
}

export async function startInteractiveRun(endpoint: Endpoint, instance: StoredInstance, request: InteractiveRequest): Promise<{ name: string; cursor: SampleCursor }> {
  const { services } = endpoint;
  const now = services.now();
  const name = `process_${randomBytes(6).toString('hex')}`;
  const pipeline = toJsonValue(withSink(request.pipeline)) as StoredProcessor['pipeline'];
  const processor: StoredProcessor = {
    _id: newObjectId(now.getTime()), instanceId: instance._id, groupId: instance.groupId, instanceName: instance.name, name, pipeline,
    state: 'STARTED', resumeFromCheckpoint: false, createdAt: now.toISOString(), lastStateChange: now.toISOString(),
  };
  const dlq = request.dlq ? (toJsonValue(request.dlq) as { connectionName: string; db: string; coll: string }) : undefined;
  if (dlq) processor.options = { dlq };
  const definition = await services.store.read(async (tx) => {
    await checkDefinition(tx, instance, name, pipeline, dlq);
    return buildDefinition(tx, services, instance, processor);
  });
  const { runner } = services;
  try {
    await serially(runner, processor._id, () => runner.start(definition, { resumeFromCheckpoint: false, keepAllOutput: true }));
  } catch (error) {
    if (error instanceof PipelineError) throw new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', [name, error.message]);
    throw error;
  }
  endpoint.log.info({ processor: name, processorId: processor._id }, 'interactive stream processor started');

  const total = finiteInput(pipeline);
  let lastOutput = -1;
  let settledSince = 0;
  const cursor = endpoint.cursors.open({
    processorId: processor._id,
    processorName: name,
    lossless: true,
    ...(request.limit !== undefined ? { limit: request.limit } : {}),
    expiresAt: Date.now() + INTERACTIVE_LIFETIME_MS,
    ownerConnection: request.connectionId,
    isComplete(received) {
      if (total === undefined) return false;
      const stats = runner.stats(processor._id);
      if (!stats) return !runner.isRunning(processor._id);
      if (stats.inputMessageCount + stats.dlqMessageCount < total || received < stats.outputMessageCount) return false;
      if (stats.outputMessageCount !== lastOutput) {
        lastOutput = stats.outputMessageCount;
        settledSince = Date.now();
        return false;
      }
      return Date.now() - settledSince >= SETTLE_MS;
    },
    async onClose() {
      await serially(runner, processor._id, () => runner.drop(processor._id))
        .catch((error: unknown) => endpoint.log.error({ err: error, processor: name }, 'dropping an interactive processor failed'));
      endpoint.log.info({ processor: name }, 'interactive stream processor dropped');
    },
  });
  return { name, cursor };
}
