// Applies a seed document through the Admin API as an organization owner, in document order.
// The first refusal stops it with the API's own error and where in the document it arose.
import type { AdminClient, AdminResponse } from '../client/admin-client.js';
import { ADMIN_PREFIX } from './routes.js';
import { SeedError, type SeedApiKey, type SeedDocument, type SeedWorkspace } from './seed-document.js';

export interface SeedResult {
  /** Project name -> id, for every project the document names. */
  projects: Record<string, string>;
  /** The keys created, with their private keys (shown this once, as Atlas does). */
  apiKeys: Array<{ desc: string; publicKey: string; privateKey: string; projectId?: string }>;
  serviceAccounts: Array<{ name: string; clientId: string; clientSecret: string }>;
}

export const LIFECYCLES_PATH = `${ADMIN_PREFIX}lifecycles`;
const DEFAULT_PROVIDER = 'AWS';
const DEFAULT_REGION = 'VIRGINIA_USA';

async function expectSuccess(where: string, operationId: string, response: Promise<AdminResponse>): Promise<Record<string, unknown>> {
  const res = await response;
  if (res.status >= 200 && res.status < 300) return res.json ?? {};
  const error = res.json ?? {};
  throw new SeedError(`${where} (${operationId}): ${res.status} ${String(error['errorCode'] ?? '')} ${String(error['detail'] ?? '')}`.trim());
}

export async function applySeed(client: AdminClient, orgId: string, doc: SeedDocument): Promise<SeedResult> {
  const result: SeedResult = { projects: {}, apiKeys: [], serviceAccounts: [] };
  const run = (where: string, operationId: string, params: Record<string, string>, body?: unknown) =>
    expectSuccess(where, operationId, client.operation(operationId, params, body));

  const createKeys = async (keys: SeedApiKey[] | undefined, where: string, projectId?: string) => {
    for (const [i, key] of (keys ?? []).entries()) {
      const created = projectId === undefined
        ? await run(`${where}[${i}]`, 'createOrgApiKey', { orgId }, key)
        : await run(`${where}[${i}]`, 'createGroupApiKey', { groupId: projectId }, key);
      result.apiKeys.push({ desc: key.desc, publicKey: String(created['publicKey']), privateKey: String(created['privateKey']), projectId });
    }
  };

  for (const [i, rule] of (doc.lifecycles ?? []).entries()) {
    await expectSuccess(`lifecycles[${i}]`, 'addLifecycleRule', client.request('POST', LIFECYCLES_PATH, rule));
  }
  await createKeys(doc.apiKeys, 'apiKeys');
  for (const [i, account] of (doc.serviceAccounts ?? []).entries()) {
    const created = await run(`serviceAccounts[${i}]`, 'createOrgServiceAccount', { orgId },
      { secretExpiresAfterHours: 8760, ...account });
    const secrets = created['secrets'] as Array<{ secret?: string }> | undefined;
    result.serviceAccounts.push({ name: account.name, clientId: String(created['clientId']), clientSecret: String(secrets?.[0]?.secret ?? '') });
  }

  for (const [p, project] of (doc.projects ?? []).entries()) {
    const where = `projects[${p}]`;
    const existing = await client.operation('getGroupByName', { groupName: project.name });
    const groupId = existing.status === 200
      ? String(existing.json?.['id'])
      : String((await run(where, 'createGroup', {}, { name: project.name, orgId }))['id']);
    result.projects[project.name] = groupId;
    await createKeys(project.apiKeys, `${where}.apiKeys`, groupId);
    for (const [w, workspace] of (project.workspaces ?? []).entries()) {
      await seedWorkspace(run, groupId, workspace, `${where}.workspaces[${w}]`);
    }
  }
  return result;
}

type Run = (where: string, operationId: string, params: Record<string, string>, body?: unknown) => Promise<Record<string, unknown>>;

async function seedWorkspace(run: Run, groupId: string, workspace: SeedWorkspace, where: string): Promise<void> {
  const body: Record<string, unknown> = {
    name: workspace.name,
    dataProcessRegion: { cloudProvider: workspace.cloudProvider ?? DEFAULT_PROVIDER, region: workspace.region ?? DEFAULT_REGION },
  };
  if (workspace.tier) body['streamConfig'] = { tier: workspace.tier };
  await run(where, workspace.sampleConnections ? 'withStreamSampleConnections' : 'createStreamWorkspace', { groupId }, body);
  const tenantName = workspace.name;
  for (const [i, connection] of (workspace.connections ?? []).entries()) {
    await run(`${where}.connections[${i}]`, 'createStreamConnection', { groupId, tenantName }, connection);
  }
  for (const [i, processor] of (workspace.processors ?? []).entries()) {
    const at = `${where}.processors[${i}]`;
    const { state, ...create } = processor;
    await run(at, 'createStreamProcessor', { groupId, tenantName }, create);
    const params = { groupId, tenantName, processorName: processor.name };
    if (state === 'STARTED' || state === 'STOPPED') await run(at, 'startStreamProcessor', params);
    if (state === 'STOPPED') await run(at, 'stopStreamProcessor', params);
  }
}
