// The emulator's own state control, outside Atlas's paths, authenticated like the API:
//
//   POST /emulator/v1/admin/reset                      everything back to a first start
//        (Organization Owner of the server's organization)
//   POST /emulator/v1/admin/reset?projectId=<24 hex>   one project emptied
//        (whoever may delete that project: Project Owner or above)
//   GET|POST|DELETE /emulator/v1/admin/faults, DELETE /emulator/v1/admin/faults/{id}
//        list, add, clear or remove fault-injection rules (faults.ts; Organization Owner)
//   POST /emulator/v1/admin/faults/processor   {groupId, tenantName, processorName, message}
//        fail a running processor now with that message (Organization Owner)
//   GET|POST|DELETE /emulator/v1/admin/lifecycles, DELETE /emulator/v1/admin/lifecycles/{id}
//        list, add, clear or remove lifecycle rules: transitions that take time
//        (domain/streams/lifecycles.ts; Organization Owner)
//   GET|POST|DELETE /emulator/v1/admin/faults/sink   {groupId, tenantName, processorName, message}
//        a processor's sink goes away (connections refused with that message: retries, then
//        FAILED), listed, or back again (Organization Owner)
//   GET  /emulator/v1/admin/journal?status=&operationId=&limit=
//        the last API calls, newest first (Organization Owner)
//
// Seeding and exporting go through the Atlas API itself (seed.ts, export.ts), from the
// library and the CLI, so they need no route of their own.
import { STREAMS_KIND, type StoredInstance, type StoredProcessor } from '../domain/streams/common.js';
import { markProcessorFailed } from '../domain/streams/processors.js';
import { authorize } from '../http/authorize.js';
import { readJsonBody, sendJson } from '../http/extension-io.js';
import type { ExtensionRequest, RouteExtension } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { operationById } from '../protocol/router.js';
import type { RequestJournal } from '../observability/journal.js';
import type { Lifecycles } from '../domain/streams/lifecycles.js';
import type { FaultInjector } from './faults.js';
import { resetState } from './reset.js';

export const ADMIN_PREFIX = '/emulator/v1/admin/';
const OBJECT_ID = /^[a-f0-9]{24}$/;

/** Organization Owner of the caller's own organization. */
async function requireOrgOwner(r: ExtensionRequest): Promise<void> {
  await r.services.store.read((tx) => authorize(operationById('deleteOrgApiKey'), { orgId: r.principal.orgId }, r.principal, tx, r.log));
}

async function reset(r: ExtensionRequest): Promise<void> {
  r.req.resume();
  const projectId = new URL(r.req.url ?? '/', 'http://localhost').searchParams.get('projectId') ?? undefined;
  if (projectId !== undefined && !OBJECT_ID.test(projectId)) throw new ApiError('INVALID_GROUP_ID', [projectId]);
  if (projectId === undefined) await requireOrgOwner(r);
  else await r.services.store.read((tx) => authorize(operationById('deleteGroup'), { groupId: projectId }, r.principal, tx, r.log));
  sendJson(r.res, 200, await resetState(r.services, projectId));
}

/** The processor a data-side fault names: {groupId, tenantName, processorName, message}. */
async function faultTarget(r: ExtensionRequest): Promise<{ processor: StoredProcessor; message: string }> {
  await requireOrgOwner(r);
  const body = await readJsonBody(r.req) as Record<string, unknown>;
  for (const field of ['groupId', 'tenantName', 'processorName', 'message']) {
    if (typeof body?.[field] !== 'string') throw new ApiError('MISSING_ATTRIBUTE', [field]);
  }
  const { groupId, tenantName, processorName, message } = body as { groupId: string; tenantName: string; processorName: string; message: string };
  const processor = await r.services.store.read(async (tx) => {
    const instance = await tx.getByName<StoredInstance>(STREAMS_KIND.instance, groupId, tenantName);
    if (!instance) throw new ApiError('STREAM_TENANT_NOT_FOUND_FOR_NAME', [groupId, tenantName]);
    const found = await tx.getByName<StoredProcessor>(STREAMS_KIND.processor, instance._id, processorName);
    if (!found) throw new ApiError('STREAM_PROCESSOR_NOT_FOUND', [processorName, tenantName]);
    return found;
  });
  return { processor, message };
}

async function failProcessor(r: ExtensionRequest): Promise<void> {
  const { processor, message } = await faultTarget(r);
  const { services } = r;
  const { name: processorName } = processor;
  if (processor.state !== 'STARTED') throw new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', [processorName, 'the stream processor is not running']);
  await services.runner.stop(processor._id);
  await services.store.transaction((tx) => markProcessorFailed(tx, processor._id, message, services.now()));
  sendJson(r.res, 200, { processorName, state: 'FAILED', errorMsg: message });
}

/** What fault rules and lifecycle rules share: a list to add to, read, clear, or remove one from. */
interface RuleList {
  add(input: unknown): unknown;
  list(): unknown[];
  remove(id: string): boolean;
  clear(): void;
}

async function ruleList(r: ExtensionRequest, rules: RuleList, id: string | undefined): Promise<void> {
  await requireOrgOwner(r);
  const method = r.req.method ?? 'GET';
  if (id !== undefined) {
    if (method !== 'DELETE') throw new ApiError('METHOD_NOT_ALLOWED', [method, r.path]);
    if (!rules.remove(id)) throw new ApiError('RESOURCE_NOT_FOUND', [r.path]);
    return sendJson(r.res, 200, {});
  }
  if (method === 'GET') return sendJson(r.res, 200, { results: rules.list() });
  if (method === 'DELETE') {
    rules.clear();
    return sendJson(r.res, 200, {});
  }
  if (method === 'POST') return sendJson(r.res, 201, rules.add(await readJsonBody(r.req)));
  throw new ApiError('METHOD_NOT_ALLOWED', [method, r.path]);
}

async function journalEntries(r: ExtensionRequest, journal: RequestJournal): Promise<void> {
  await requireOrgOwner(r);
  if (r.req.method !== 'GET') throw new ApiError('METHOD_NOT_ALLOWED', [r.req.method, r.path]);
  const query = new URL(r.req.url ?? '/', 'http://localhost').searchParams;
  const number = (name: string): number | undefined => {
    const raw = query.get(name);
    if (raw === null) return undefined;
    if (!/^\d+$/.test(raw)) throw new ApiError('INVALID_QUERY_PARAMETER', [name]);
    return Number(raw);
  };
  sendJson(r.res, 200, { results: journal.entries({ status: number('status'), limit: number('limit'), operationId: query.get('operationId') ?? undefined }) });
}

/** "A sink going away": POST names a processor whose sink refuses connections from now on; GET lists them; DELETE brings them back. */
async function unreachableSinks(r: ExtensionRequest): Promise<void> {
  const { runner } = r.services;
  if (!runner.setSinkFault || !runner.sinkFaults) {
    r.req.resume();
    throw new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', ['*', 'sink faults need the processors in this process (not with --database-url)']);
  }
  const method = r.req.method ?? 'GET';
  if (method === 'POST') {
    const { processor, message } = await faultTarget(r);
    runner.setSinkFault(processor._id, message);
    return sendJson(r.res, 201, { processorId: processor._id, processorName: processor.name, message });
  }
  await requireOrgOwner(r);
  if (method === 'GET') return sendJson(r.res, 200, { results: runner.sinkFaults() });
  if (method === 'DELETE') {
    for (const { processorId } of runner.sinkFaults()) runner.setSinkFault(processorId, undefined);
    return sendJson(r.res, 200, {});
  }
  throw new ApiError('METHOD_NOT_ALLOWED', [method, r.path]);
}

export function createAdminRoutes({ faults, journal, lifecycles }: { faults: FaultInjector; journal: RequestJournal; lifecycles: Lifecycles }): RouteExtension {
  return {
    prefix: ADMIN_PREFIX,
    async handle(r) {
      const rest = r.path.slice(ADMIN_PREFIX.length);
      if (rest === 'reset') {
        if (r.req.method !== 'POST') throw new ApiError('METHOD_NOT_ALLOWED', [r.req.method, r.path]);
        return reset(r);
      }
      if (rest === 'faults/processor') {
        if (r.req.method !== 'POST') throw new ApiError('METHOD_NOT_ALLOWED', [r.req.method, r.path]);
        return failProcessor(r);
      }
      if (rest === 'faults/sink') return unreachableSinks(r);
      if (rest === 'journal') return journalEntries(r, journal);
      const fault = /^faults(?:\/([\w-]+))?$/.exec(rest);
      if (fault) return ruleList(r, faults, fault[1]);
      const lifecycle = /^lifecycles(?:\/([\w-]+))?$/.exec(rest);
      if (lifecycle) return ruleList(r, lifecycles, lifecycle[1]);
      throw new ApiError('RESOURCE_NOT_FOUND', [r.path]);
    },
  };
}
