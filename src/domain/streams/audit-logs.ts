// The audit trail of a stream workspace: every authenticated call on a path under
// /streams/{tenantName}, recorded by the HTTP layer once its status is known, and served as
// gzip-compressed JSON lines, one call per line.
import type { CompletedCall, HandlerTable } from '../../http/context.js';
import { isoTime } from '../../model/iso-time.js';
import type { Store } from '../../store/store.js';
import { requireInstance } from './common.js';
import { gzipDownload, logWindow, MAX_LOG_DOWNLOAD_BYTES } from './log-window.js';

export function auditScope(groupId: string, tenantName: string): string {
  return `${groupId}/${tenantName}`;
}

/**
 * Records one call after its response, in the store's journal: no write on the request
 * path, so a read stays a read. Only calls that name an instance belong to an instance's
 * trail; the rest are ignored here.
 */
export function recordStreamsAudit(store: Store, call: CompletedCall): void {
  const { groupId, tenantName } = call.params;
  if (groupId === undefined || tenantName === undefined) return;
  const event = { at: isoTime(call.at), principal: call.principal, operationId: call.operationId, method: call.method, path: call.path, status: call.status };
  store.journal(auditScope(groupId, tenantName), event);
}

export const auditLogHandlers: HandlerTable = {
  async downloadAuditLogs(ctx) {
    const instance = await requireInstance(ctx);
    const window = logWindow(ctx, instance);
    const events = await ctx.tx.listAudit(auditScope(instance.groupId, instance.name), window.fromIso, window.toIso, MAX_LOG_DOWNLOAD_BYTES);
    return gzipDownload(ctx, events, `${instance.name}_${window.start}_${window.end}_audit.log.gz`);
  },
};
