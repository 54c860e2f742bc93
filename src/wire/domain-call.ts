// Runs an Admin API operation's domain handler for a wire command, the way the HTTP layer
// does (one store transaction, the request body checked against the spec's schema, engine
// work after the commit), so that both doors apply the same rules and say the same things.
// Authorization is the wire's own (database user roles, privileges.ts), done before this.
import type { Logger } from 'pino';
import { handlers } from '../domain/handlers.js';
import { KIND, type Project } from '../domain/identity/model.js';
import { prepareLargeBody } from '../domain/streams/pipeline-blobs.js';
import type { HandlerResult, HandlerTable, RequestContext, Services } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { withTransactionTasks } from '../http/transaction.js';
import type { Principal } from '../http/principal.js';
import { operationById } from '../protocol/router.js';
import { validateBody } from '../protocol/validate.js';

/**
 * The Admin API operations the wire commands map to, by what they do. The operationIds live
 * here only, so a renamed contract changes one table.
 */
export const OPERATIONS = {
  createProcessor: 'createStreamProcessor',
  deleteProcessor: 'deleteStreamProcessor',
  startProcessor: 'startStreamProcessor',
  startProcessorWith: 'startStreamProcessorWith',
  stopProcessor: 'stopStreamProcessor',
  modifyProcessor: 'updateStreamProcessor',
} as const;

export interface DomainCall {
  operation: keyof typeof OPERATIONS;
  groupId: string;
  params: Record<string, string>;
  body?: unknown;
  /** Who is calling, for logs (the database user). */
  label: string;
}

function principalFor(label: string, groupId: string): Principal {
  return { type: 'apiKey', id: label, label, orgId: '', orgRoles: new Set(), projectRoles: new Map([[groupId, new Set()]]) };
}

export async function callDomain(services: Services, log: Logger, call: DomainCall): Promise<HandlerResult> {
  const op = operationById(OPERATIONS[call.operation]);
  const handler = (handlers as HandlerTable)[op.operationId as keyof HandlerTable];
  if (!handler) throw new Error(`no handler for ${op.operationId}`);
  const params = { groupId: call.groupId, ...call.params };
  const version = op.versions[op.versions.length - 1]!;
  // As the HTTP layer does for a large body: the passes over a pipeline in slices, before the
  // transaction that holds every other one back.
  await prepareLargeBody(op.operationId, call.body);
  return withTransactionTasks(services.store.transaction.bind(services.store), async (tx, tasks) => {
    const project = await tx.get<Project>(KIND.project, call.groupId);
    if (!project) throw new ApiError('GROUP_NOT_FOUND', [call.groupId]);
    const schema = op.requestBody ? op.requestBody.schemas[version] ?? Object.values(op.requestBody.schemas)[0] : undefined;
    if (schema && call.body !== undefined) validateBody(schema, call.body, { pathParams: params });
    const ctx: RequestContext = {
      operation: op, version, params, query: {}, body: call.body, principal: principalFor(call.label, call.groupId), tx, services,
      project, url: new URL(`http://wire.invalid/api/atlas/v2/groups/${call.groupId}`), clientIp: '127.0.0.1', log,
      afterCommit: tasks.afterCommit, unlessCommitted: tasks.unlessCommitted,
    };
    return handler(ctx);
  });
}
