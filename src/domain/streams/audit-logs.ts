// The audit trail of a stream instance: every authenticated call on a path under
// /streams/{tenantName}, recorded by the HTTP layer once its status is known, and served as
// gzip-compressed JSON lines, one call per line.
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { CompletedCall, HandlerTable } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import type { Store } from '../../store/store.js';
import { requireInstance } from './common.js';

const DEFAULT_WINDOW_SECONDS = 30 * 24 * 3600;

export function auditScope(groupId: string, tenantName: string): string {
  return `${groupId}/${tenantName}`;
}

/**
 * Records one call (fire and forget, in its own transaction, after the response). Only calls
 * that name an instance belong to an instance's trail; the rest are ignored here.
 */
export function recordStreamsAudit(store: Store, log: Logger, call: CompletedCall): void {
  const { groupId, tenantName } = call.params;
  if (groupId === undefined || tenantName === undefined) return;
  const event = { at: new Date().toISOString(), principal: call.principal, operationId: call.operationId, method: call.method, path: call.path, status: call.status };
  store.transaction((tx) => tx.appendAudit(auditScope(groupId, tenantName), event))
    .catch((error: unknown) => log.error({ err: error, operationId: call.operationId }, 'recording an audit event failed'));
}

export const auditLogHandlers: HandlerTable = {
  async downloadAuditLogs(ctx) {
    const instance = await requireInstance(ctx);
    const nowSeconds = Math.floor(ctx.services.now().getTime() / 1000);
    const end = (ctx.query['endDate'] as number | undefined) ?? nowSeconds;
    const start = (ctx.query['startDate'] as number | undefined) ?? end - DEFAULT_WINDOW_SECONDS;
    if (start > end) throw new ApiError('INVALID_QUERY_PARAMETER', ['startDate']);
    // An instance made again under an old name does not inherit its predecessor's trail.
    const from = new Date(Math.max(start * 1000, Date.parse(instance.createdAt))).toISOString();
    // End is inclusive to the second.
    const to = new Date(end * 1000 + 999).toISOString();
    const events = await ctx.tx.listAudit(auditScope(instance.groupId, instance.name), from, to);
    const text = events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : '');
    return {
      raw: {
        data: gzipSync(Buffer.from(text, 'utf8')),
        headers: {
          'Content-Type': `application/vnd.atlas.${ctx.version}+gzip`,
          'Content-Disposition': `attachment; filename="${instance.name}_${start}_${end}_audit.log.gz"`,
        },
      },
    };
  },
};
