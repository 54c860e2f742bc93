// The emulator's own state control, outside Atlas's paths, authenticated like the API:
//
//   POST /emulator/v1/admin/reset                      everything back to a first start
//        (Organization Owner of the server's organization)
//   POST /emulator/v1/admin/reset?projectId=<24 hex>   one project emptied
//        (whoever may delete that project: Project Owner or above)
//
// Seeding and exporting go through the Atlas API itself (seed.ts, export.ts), from the
// library and the CLI, so they need no route of their own.
import { authorize } from '../http/authorize.js';
import type { ExtensionRequest, RouteExtension } from '../http/context.js';
import { ApiError } from '../http/errors.js';
import { compactJson } from '../http/json.js';
import { operationById } from '../protocol/router.js';
import { resetState } from './reset.js';

export const ADMIN_PREFIX = '/emulator/v1/admin/';
const OBJECT_ID = /^[a-f0-9]{24}$/;

async function handleAdminRequest(r: ExtensionRequest): Promise<void> {
  const { req, res, path, principal, services } = r;
  if (path !== `${ADMIN_PREFIX}reset`) throw new ApiError('RESOURCE_NOT_FOUND', [path]);
  if (req.method !== 'POST') throw new ApiError('METHOD_NOT_ALLOWED', [req.method, path]);
  req.resume();
  const projectId = new URL(req.url ?? '/', 'http://localhost').searchParams.get('projectId') ?? undefined;
  if (projectId !== undefined && !OBJECT_ID.test(projectId)) throw new ApiError('INVALID_GROUP_ID', [projectId]);
  await services.store.read(async (tx) => {
    if (projectId !== undefined) await authorize(operationById('deleteGroup'), { groupId: projectId }, principal, tx, r.log);
    else await authorize(operationById('deleteOrgApiKey'), { orgId: principal.orgId }, principal, tx, r.log);
  });
  const summary = await resetState(services, projectId);
  const text = compactJson(summary);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export const adminRoutes: RouteExtension = { prefix: ADMIN_PREFIX, handle: handleAdminRequest };
