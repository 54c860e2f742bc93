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
//   GET  /emulator/v1/admin/journal?status=&operationId=&limit=
//        the last API calls, newest first (Organization Owner)
//
// Seeding and exporting go through the Atlas API itself (seed.ts, export.ts), from the
// library and the CLI, so they need no route of their own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STREAMS_KIND, type StoredInstance, type StoredProcessor } from '../domain/streams/common.js';
import { markProcessorFailed } from '../domain/streams/processors.js';
import { authorize } from '../http/authorize.js';
import { readBody } from '../http/body.js';
import type { ExtensionRequest, RouteExtension } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { compactJson } from '../http/json.js';
import { operationById } from '../protocol/router.js';
import type { RequestJournal } from '../observability/journal.js';
import type { FaultInjector } from './faults.js';
import { resetState } from './reset.js';

export const ADMIN_PREFIX = '/emulator/v1/admin/';
const OBJECT_ID = /^[a-f0-9]{24}$/;

const MAX_BODY = 64 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = compactJson(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse((await readBody(req, MAX_BODY)).toString('utf8'));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError('MALFORMED_JSON');
  }
}

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

async function failProcessor(r: ExtensionRequest): Promise<void> {
  await requireOrgOwner(r);
  const body = await readJson(r.req) as Record<string, unknown>;
  for (const field of ['groupId', 'tenantName', 'processorName', 'message']) {
    if (typeof body?.[field] !== 'string') throw new ApiError('MISSING_ATTRIBUTE', [field]);
  }
  const { groupId, tenantName, processorName, message } = body as { groupId: string; tenantName: string; processorName: string; message: string };
  const { services } = r;
  const processor = await services.store.read(async (tx) => {
    const instance = await tx.getByName<StoredInstance>(STREAMS_KIND.instance, groupId, tenantName);
    if (!instance) throw new ApiError('STREAM_TENANT_NOT_FOUND_FOR_NAME', [groupId, tenantName]);
    const found = await tx.getByName<StoredProcessor>(STREAMS_KIND.processor, instance._id, processorName);
    if (!found) throw new ApiError('STREAM_PROCESSOR_NOT_FOUND', [processorName, tenantName]);
    return found;
  });
  if (processor.state !== 'STARTED') throw new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', [processorName, 'the stream processor is not running']);
  await services.runner.stop(processor._id);
  await services.store.transaction((tx) => markProcessorFailed(tx, processor._id, message, services.now()));
  sendJson(r.res, 200, { processorName, state: 'FAILED', errorMsg: message });
}

async function faultRules(r: ExtensionRequest, faults: FaultInjector, id: string | undefined): Promise<void> {
  await requireOrgOwner(r);
  const method = r.req.method ?? 'GET';
  if (id !== undefined) {
    if (method !== 'DELETE') throw new ApiError('METHOD_NOT_ALLOWED', [method, r.path]);
    if (!faults.remove(id)) throw new ApiError('RESOURCE_NOT_FOUND', [r.path]);
    return sendJson(r.res, 200, {});
  }
  if (method === 'GET') return sendJson(r.res, 200, { results: faults.list() });
  if (method === 'DELETE') {
    faults.clear();
    return sendJson(r.res, 200, {});
  }
  if (method === 'POST') return sendJson(r.res, 201, faults.add(await readJson(r.req)));
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

export function createAdminRoutes({ faults, journal }: { faults: FaultInjector; journal: RequestJournal }): RouteExtension {
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
      if (rest === 'journal') return journalEntries(r, journal);
      const fault = /^faults(?:\/([\w-]+))?$/.exec(rest);
      if (fault) return faultRules(r, faults, fault[1]);
      throw new ApiError('RESOURCE_NOT_FOUND', [r.path]);
    },
  };
}
