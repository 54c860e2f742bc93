// The operational log of a stream workspace: what happened to its processors (created,
// started, stopped, failed with the engine's message, resumed after a restart, dropped),
// written as it happens and served like the audit log, as gzipped JSON lines.
import type { Logger } from 'pino';
import type { HandlerTable } from '../../http/context.js';
import type { Store, StoreTx } from '../../store/store.js';
import { requireInstance, type StoredProcessor } from './common.js';
import { gzipDownload, logWindow, MAX_LOG_DOWNLOAD_BYTES } from './log-window.js';

export type ProcessorEvent = 'created' | 'started' | 'stopped' | 'failed' | 'resumed' | 'dropped';

/** Distinct from the audit trail's scope (groupId/tenantName) in the same audit table. */
function operationalScope(groupId: string, tenantName: string): string {
  return `operational/${groupId}/${tenantName}`;
}

type ProcessorRef = Pick<StoredProcessor, '_id' | 'name' | 'groupId' | 'instanceName'>;

function line(processor: ProcessorRef, event: ProcessorEvent, at: Date, message?: string): { at: string; [k: string]: unknown } {
  return {
    at: at.toISOString(), level: event === 'failed' ? 'ERROR' : 'INFO', spName: processor.name, processorId: processor._id, event,
    ...(message !== undefined ? { message } : {}),
  };
}

/** Records an event inside a transaction that is changing the processor anyway. */
export async function logProcessorEvent(tx: StoreTx, processor: ProcessorRef, event: ProcessorEvent, at: Date, message?: string): Promise<void> {
  await tx.appendAudit(operationalScope(processor.groupId, processor.instanceName), line(processor, event, at, message));
}

/** Records an event after the fact (the engine's answers arrive outside any request transaction). */
export function recordProcessorEvent(store: Store, log: Logger, processor: ProcessorRef, event: ProcessorEvent, at: Date, message?: string): Promise<void> {
  return store.transaction((tx) => logProcessorEvent(tx, processor, event, at, message))
    .catch((error: unknown) => log.error({ err: error, processorId: processor._id, event }, 'recording an operational log line failed'));
}

export const operationalLogHandlers: HandlerTable = {
  async downloadOperationalLogs(ctx) {
    const instance = await requireInstance(ctx);
    const window = logWindow(ctx, instance);
    // An empty spName means every processor of the workspace, as the spec says.
    const spName = typeof ctx.query['spName'] === 'string' && ctx.query['spName'] !== '' ? ctx.query['spName'] : undefined;
    const lines = (await ctx.tx.listAudit(operationalScope(instance.groupId, instance.name), window.fromIso, window.toIso, MAX_LOG_DOWNLOAD_BYTES))
      .filter((e) => spName === undefined || e['spName'] === spName);
    return gzipDownload(ctx, lines, `${instance.name}_${spName ?? ''}_${window.start}_${window.end}_queries.gz`);
  },
};
