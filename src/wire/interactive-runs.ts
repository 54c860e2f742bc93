// `sp.process(pipeline)`: an interactive run (src/domain/streams/interactive.ts) read through
// a sample cursor. A `documents` source is finite: the cursor ends once all of it has come
// out. The run is dropped when its cursor closes: at the end, on dropStreamProcessor, when
// the connection that started it closes, when abandoned, or after ten minutes.
import type { Document } from 'bson';
import type { StoredInstance } from '../domain/streams/common.js';
import { startInteractive } from '../domain/streams/interactive.js';
import { toJsonValue } from './render.js';
import type { SampleCursor } from './sample-cursors.js';
import type { Endpoint } from './workspace.js';

export const INTERACTIVE_LIFETIME_MS = 10 * 60_000;

export interface InteractiveRequest {
  pipeline: Document[];
  limit?: number;
  dlq?: Document;
  connectionId: number;
}

export async function startInteractiveRun(endpoint: Endpoint, instance: StoredInstance, request: InteractiveRequest): Promise<{ name: string; cursor: SampleCursor }> {
  const pipeline = toJsonValue(request.pipeline) as Document[];
  const dlq = request.dlq ? (toJsonValue(request.dlq) as Document) : undefined;
  const run = await startInteractive(endpoint.services, endpoint.log, instance, pipeline, dlq);
  const cursor = endpoint.cursors.open({
    processorId: run.processorId,
    processorName: run.name,
    lossless: true,
    ...(request.limit !== undefined ? { limit: request.limit } : {}),
    expiresAt: Date.now() + INTERACTIVE_LIFETIME_MS,
    ownerConnection: request.connectionId,
    isComplete: run.isComplete,
    onClose: run.drop,
  });
  return { name: run.name, cursor };
}
