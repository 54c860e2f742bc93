// A Cluster connection may name a cluster of another project (`clusterGroupId`): its
// processors then read and write that project's data ($source change streams, $lookup,
// $merge). So the caller who writes such a connection must hold, in that project too, the
// rights it takes to write a connection there; and since rights change, each start checks
// again that whoever wrote the connection still holds them and that the project is still
// in the instance's organization.
import type { Logger } from 'pino';
import { authorize, type LazyLogger } from '../../http/authorize.js';
import { ApiError } from '../../http/errors.js';
import { principalOfApiKey, principalOfServiceAccount, type Principal } from '../../http/principal.js';
import { operationById } from '../../protocol/router.js';
import type { StoreTx } from '../../store/store.js';
import { KIND, type ApiKey, type Project, type ServiceAccount } from '../identity/model.js';
import type { ConnectionAuthor, StoredConnection, StoredInstance } from './common.js';

/** The other project a Cluster connection definition names, or undefined when it names its own. */
export function foreignClusterProject(definition: Record<string, unknown>, instance: StoredInstance): string | undefined {
  if (definition['type'] !== 'Cluster') return undefined;
  const groupId = definition['clusterGroupId'];
  return typeof groupId === 'string' && groupId !== instance.groupId ? groupId : undefined;
}

/** The rights to write connections in the project: what reaching its clusters from a processor needs. */
async function authorizeIn(tx: StoreTx, principal: Principal, instance: StoredInstance, groupId: string, log: LazyLogger): Promise<void> {
  await authorize(operationById('createStreamConnection'), { groupId }, principal, tx, log);
  const [target, home] = await Promise.all([tx.get<Project>(KIND.project, groupId), tx.get<Project>(KIND.project, instance.groupId)]);
  // Atlas connects clusters across projects of one organization only.
  if (!target || !home || target.orgId !== home.orgId) throw new ApiError('NOT_IN_GROUP', [groupId]);
}

/** At create or update: refuses (Atlas's 401/404) a caller without those rights in the named project. */
export async function checkClusterProjectAccess(tx: StoreTx, principal: Principal, instance: StoredInstance,
  definition: Record<string, unknown>, log: LazyLogger): Promise<void> {
  const groupId = foreignClusterProject(definition, instance);
  if (groupId !== undefined) await authorizeIn(tx, principal, instance, groupId, log);
}

async function currentPrincipal(tx: StoreTx, author: ConnectionAuthor): Promise<Principal | undefined> {
  if (author.type === 'apiKey') {
    const key = await tx.get<ApiKey>(KIND.apiKey, author.id);
    return key && principalOfApiKey(key);
  }
  const account = await tx.get<ServiceAccount>(KIND.serviceAccount, author.id);
  return account && principalOfServiceAccount(account);
}

/**
 * At start: why the connection may no longer reach its cluster's project, or undefined when it
 * may. Judged on the store's current state: the author's roles now, the project's organization now.
 */
export async function clusterProjectDenial(tx: StoreTx, instance: StoredInstance, connection: StoredConnection, log: Logger): Promise<string | undefined> {
  const groupId = foreignClusterProject(connection.definition, instance);
  if (groupId === undefined) return undefined;
  const denied = `connection ${connection.name} may no longer reach the clusters of project ${groupId}: ` +
    'whoever wrote it must hold the Project Stream Processing Owner role there, in the same organization';
  const author = connection.author && await currentPrincipal(tx, connection.author);
  if (!author) return denied;
  try {
    await authorizeIn(tx, author, instance, groupId, log);
    return undefined;
  } catch (error) {
    if (error instanceof ApiError) return denied;
    throw error;
  }
}
