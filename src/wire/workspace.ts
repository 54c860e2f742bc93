// The stream workspace a listener serves, and the shared state of its endpoint: every
// connection to it sees the same sample cursors and interactive (sp.process) runs, because a
// driver may send a cursor's next getMore on any connection of its pool.
import type { Logger } from 'pino';
import { STREAMS_KIND, type StoredInstance, type StoredProcessor } from '../domain/streams/common.js';
import type { Services } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import type { StoreTx } from '../store/store.js';
import type { SampleCursors } from './sample-cursors.js';
import { MESSAGES, WireError } from './errors.js';

export interface Endpoint {
  instanceId: string;
  groupId: string;
  /** The workspace's name as last seen (kept current by the listener manager), for messages. */
  instanceName: string;
  services: Services;
  log: Logger;
  cursors: SampleCursors;
}

/** The workspace as it is now (it may have been renamed or deleted since the listener opened). */
export async function loadInstance(tx: StoreTx, endpoint: Endpoint): Promise<StoredInstance> {
  const instance = await tx.get<StoredInstance>(STREAMS_KIND.instance, endpoint.instanceId);
  if (!instance) throw new WireError('CommandFailed', MESSAGES.workspaceGone());
  return instance;
}

/** The named processor of the workspace, or the Admin API's not-found error. */
export async function loadProcessor(tx: StoreTx, instance: StoredInstance, name: string): Promise<StoredProcessor> {
  const processor = await tx.getByName<StoredProcessor>(STREAMS_KIND.processor, instance._id, name);
  if (!processor) throw new ApiError('STREAM_PROCESSOR_NOT_FOUND', [name, instance.name]);
  return processor;
}
