// Writes the current state as a seed document, read through the Admin API: what an import
// (applySeed) needs to rebuild the projects' workspaces, connections and processors. Secrets
// cannot be read back (the API never returns them), so connections come without them, and
// API keys and service accounts, whose secrets exist only at creation, are not exported.
import type { AdminClient } from '../client/admin-client.js';
import type { LifecycleRule } from '../domain/streams/lifecycles.js';
import { LIFECYCLES_PATH } from './seed.js';
import type { SeedDocument, SeedProcessor, SeedProcessorState, SeedWorkspace } from './seed-document.js';

const ALL = { itemsPerPage: '500' };

async function results(client: AdminClient, operationId: string, params: Record<string, string>): Promise<Record<string, unknown>[]> {
  const res = await client.operation(operationId, { ...params, ...ALL });
  if (res.status !== 200) throw new Error(`${operationId}: ${res.status} ${String(res.json?.['detail'] ?? '')}`);
  return (res.json?.['results'] as Record<string, unknown>[] | undefined) ?? [];
}

/** Fields the API returns that a create body must not carry. */
const READ_ONLY = new Set(['_id', 'id', 'links', 'state', 'groupId', 'tenantName', 'connections', 'hostnames', 'stats', 'lastModified',
  'lastStateChange', 'errorMsg', 'lastHeartbeat', 'dataProcessRegion', 'streamConfig', 'sampleConnections']);

function writable(entity: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entity).filter(([key]) => !READ_ONLY.has(key)));
}

function seedState(state: unknown): SeedProcessorState {
  if (state === 'STARTED' || state === 'STARTING') return 'STARTED';
  if (state === 'STOPPED' || state === 'FAILED') return 'STOPPED';
  return 'CREATED';
}

export async function exportState(client: AdminClient): Promise<SeedDocument> {
  const doc: SeedDocument = { projects: [] };
  const rules = await client.request('GET', LIFECYCLES_PATH);
  if (rules.status !== 200) throw new Error(`lifecycles: ${rules.status} ${String(rules.json?.['detail'] ?? '')}`);
  const lifecycles = (rules.json?.['results'] as Array<LifecycleRule> | undefined ?? []).map(({ id: _id, ...rule }) => rule);
  if (lifecycles.length > 0) doc.lifecycles = lifecycles;
  for (const project of await results(client, 'listGroups', {})) {
    const groupId = String(project['id']);
    const workspaces: SeedWorkspace[] = [];
    for (const instance of await results(client, 'listStreamWorkspaces', { groupId })) {
      const tenantName = String(instance['name']);
      const region = instance['dataProcessRegion'] as { cloudProvider?: string; region?: string } | undefined;
      const tier = (instance['streamConfig'] as { tier?: string } | undefined)?.tier;
      const connections = (await results(client, 'listStreamConnections', { groupId, tenantName })).map(writable);
      const processors: SeedProcessor[] = (await results(client, 'getStreamProcessors', { groupId, tenantName })).map((p) => ({
        name: String(p['name']),
        pipeline: p['pipeline'] as unknown[],
        ...(p['options'] ? { options: p['options'] as Record<string, unknown> } : {}),
        state: seedState(p['state']),
      }));
      workspaces.push({
        name: tenantName, cloudProvider: region?.cloudProvider, region: region?.region, ...(tier ? { tier } : {}),
        connections, processors,
      });
    }
    doc.projects!.push({ name: String(project['name']), workspaces });
  }
  return doc;
}
