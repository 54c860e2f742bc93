// Reset: back to the state of a first start, keeping the bootstrap organization, project,
// API key, service account and database user (so the credentials a test holds keep working), the signing
// key, and the security records (revoked tokens, used nonces) that must outlive any reset.
// One project can be reset alone: everything under it goes, the project and identities stay.
import { bootstrapRecord } from '../domain/identity/bootstrap.js';
import { KIND, type ApiKey, type DatabaseUser } from '../domain/identity/model.js';
import { STREAMS_KIND, type StoredInstance } from '../domain/streams/common.js';
import { deleteProcessorBlobs } from '../domain/streams/processors.js';
import { auditScope } from '../domain/streams/audit-logs.js';
import type { Services } from '../http/context.js';
import type { StoreTx } from '../store/store.js';

const ALWAYS_KEPT: ReadonlySet<string> = new Set([KIND.setting, KIND.revokedToken, KIND.digestNonceUse]);

type Key = { kind: string; id: string; parentId: string };

/** The keys under a root, at any depth (instances under a project, connections under an instance...). */
function descendants(keys: readonly Key[], rootId: string): Key[] {
  const children = new Map<string, Key[]>();
  for (const key of keys) children.set(key.parentId, [...(children.get(key.parentId) ?? []), key]);
  const out: Key[] = [];
  const pending = [rootId];
  const seen = new Set(pending);
  while (pending.length > 0) {
    for (const child of children.get(pending.pop()!) ?? []) {
      out.push(child);
      if (!seen.has(child.id)) { seen.add(child.id); pending.push(child.id); }
    }
  }
  return out;
}

async function keptIdentity(tx: StoreTx): Promise<Set<string>> {
  const record = await bootstrapRecord(tx);
  if (!record) return new Set();
  const key = await tx.findByName<ApiKey>(KIND.apiKey, record.publicKey);
  const dbUser = record.dbUsername ? await tx.getByName<DatabaseUser>(KIND.databaseUser, record.projectId, record.dbUsername) : undefined;
  const kept = [record.orgId, record.projectId, key?.id, record.clientId, dbUser?.id].filter((id): id is string => id !== undefined);
  return new Set(kept);
}

export interface ResetSummary {
  deleted: number;
}

/** Resets everything, or one project when projectId is given. Running processors are stopped first. */
export async function resetState(services: Services, projectId?: string): Promise<ResetSummary> {
  const { doomed, auditScopes } = await services.store.read(async (tx) => {
    const keys = await tx.keys();
    let doomed: Key[];
    if (projectId !== undefined) {
      // The project's identities stay: the bootstrap database user among them.
      const kept = await keptIdentity(tx);
      doomed = descendants(keys, projectId).filter((k) => k.kind !== KIND.databaseUser || !kept.has(k.id));
      // Checkpoints are keyed by their processor, not parented by it.
      const processors = new Set(doomed.filter((k) => k.kind === STREAMS_KIND.processor).map((k) => k.id));
      doomed.push(...keys.filter((k) => k.kind === STREAMS_KIND.checkpoint && processors.has(k.id)));
    } else {
      const kept = await keptIdentity(tx);
      const keptSecrets = new Set(keys.filter((k) => k.kind === KIND.serviceAccountSecret && kept.has(k.parentId)).map((k) => k.id));
      doomed = keys.filter((k) => !ALWAYS_KEPT.has(k.kind) && !kept.has(k.id) && !keptSecrets.has(k.id));
    }
    const instances = await Promise.all(doomed.filter((k) => k.kind === STREAMS_KIND.instance)
      .map((k) => tx.get<StoredInstance>(STREAMS_KIND.instance, k.id)));
    return { doomed, auditScopes: instances.filter((i) => i !== undefined).map((i) => auditScope(i!.groupId, i!.name)) };
  });
  for (const processor of doomed.filter((k) => k.kind === STREAMS_KIND.processor)) {
    if (services.runner.isRunning(processor.id)) await services.runner.drop(processor.id);
  }
  await services.store.transaction(async (tx) => {
    for (const key of doomed) await tx.delete(key.kind, key.id);
    await tx.deleteAudit(projectId === undefined ? undefined : auditScopes);
    if (projectId === undefined) await restoreBootstrapOwner(tx);
  });
  for (const key of doomed) {
    services.lifecycles?.forget(key.id);
    if (key.kind === STREAMS_KIND.processor) await deleteProcessorBlobs(services.store.blobs, key.id, services.log);
  }
  services.log.info({ projectId, deleted: doomed.length }, projectId === undefined ? 'state reset' : 'project reset');
  return { deleted: doomed.length };
}

/** The bootstrap key and account get their organization-owner role back, however a test changed them. */
async function restoreBootstrapOwner(tx: StoreTx): Promise<void> {
  const record = await bootstrapRecord(tx);
  if (!record) return;
  const key = await tx.findByName<ApiKey>(KIND.apiKey, record.publicKey);
  if (key) await tx.update(KIND.apiKey, key.id, { ...key, roles: [{ roleName: 'ORG_OWNER', orgId: record.orgId }] });
}
