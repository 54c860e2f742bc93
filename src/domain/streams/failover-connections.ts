// Failover connections of a stream connection (2025-03-12): a Kafka or Cluster connection
// the workspace uses in another region of its cloud provider when a processor fails over
// there. One per region; the same validation and sealed write-only fields as a connection's.
import { newObjectId } from '../../crypto/ids.js';
import type { Document } from '../../engine/contract.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pageArray, pagedList } from '../../http/pagination.js';
import type { StoreTx } from '../../store/store.js';
import {
  invalidField, listAllUnder, requireConnection, requiredField, requireInstance, STREAMS_KIND, type StoredConnection, type StoredInstance,
} from './common.js';
import type { ConnectionDefinition } from '../../engine/contract.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import { listConnections, openDefinition, renderDefinition, seal, validateDefinition, withoutLinks } from './connections.js';
import { REGIONS_BY_PROVIDER } from './regions.js';

interface StoredFailoverConnection {
  id: string;
  /** The primary connection's id (the store's parent). */
  connectionId: string;
  region: string;
  /** The caller's definition without its write-only fields, region included. */
  definition: Document;
  sealed: Record<string, string>;
  createdAt: string;
}

/** The types that can fail over (the spec's StreamsFailoverConnection mapping). */
const FAILOVER_TYPES = ['Kafka', 'Cluster'];

function render(failover: StoredFailoverConnection, primary: StoredConnection): Document {
  return renderDefinition(failover.definition, { id: failover.id, name: primary.name, region: failover.region });
}

async function failoversOf(tx: StoreTx, primary: StoredConnection): Promise<StoredFailoverConnection[]> {
  return listAllUnder<StoredFailoverConnection>(tx, STREAMS_KIND.failoverConnection, primary.id);
}

/** Checks a create or update body; answers the definition to store and its region. */
async function checkFailover(ctx: RequestContext, instance: StoredInstance, primary: StoredConnection, body: unknown, self?: string): Promise<{ def: Document; region: string }> {
  const def = withoutLinks(body) as Document;
  if (!FAILOVER_TYPES.includes(primary.type)) {
    throw invalidField('type', primary.type, `Only ${FAILOVER_TYPES.join(' and ')} connections have failover connections.`);
  }
  if (def['type'] !== primary.type) throw invalidField('type', def['type'], `A failover connection of ${primary.name} is a ${primary.type} connection.`);
  if (def['name'] !== undefined && def['name'] !== primary.name) {
    throw invalidField('name', def['name'], `A failover connection carries its primary connection's name, ${primary.name}.`);
  }
  const region = def['region'];
  if (region === undefined) throw requiredField('region');
  const { cloudProvider, region: home } = instance.dataProcessRegion;
  const regions = REGIONS_BY_PROVIDER[cloudProvider] ?? [];
  if (typeof region !== 'string' || !regions.includes(region)) throw invalidField('region', region, `${cloudProvider} regions are ${regions.join(', ')}.`);
  if (region === home) throw invalidField('region', region, `The workspace already runs in ${home}; a failover connection serves another region.`);
  await validateDefinition(ctx.tx, instance.groupId, { ...def, name: primary.name });
  if ((await failoversOf(ctx.tx, primary)).some((f) => f.region === region && f.id !== self)) {
    throw new ApiError('STREAM_FAILOVER_CONNECTION_ALREADY_EXISTS', [primary.name, region]);
  }
  delete def['name'];
  return { def, region };
}

async function requireFailover(ctx: RequestContext, instance: StoredInstance, primary: StoredConnection): Promise<StoredFailoverConnection> {
  const id = ctx.params['failoverConnectionId']!;
  const failover = await ctx.tx.get<StoredFailoverConnection>(STREAMS_KIND.failoverConnection, id);
  if (!failover || failover.connectionId !== primary.id) throw new ApiError('STREAM_FAILOVER_CONNECTION_NOT_FOUND', [id, primary.name, instance.name]);
  return failover;
}

async function requirePrimary(ctx: RequestContext): Promise<{ instance: StoredInstance; primary: StoredConnection }> {
  const instance = await requireInstance(ctx);
  return { instance, primary: await requireConnection(ctx, instance) };
}

export const failoverConnectionHandlers: HandlerTable = {
  async listFailoverConnections(ctx) {
    const { primary } = await requirePrimary(ctx);
    return { body: pagedList(ctx, pageArray(ctx, await failoversOf(ctx.tx, primary)), (f) => render(f, primary)) };
  },

  async createFailoverConnection(ctx) {
    const { instance, primary } = await requirePrimary(ctx);
    const { def, region } = await checkFailover(ctx, instance, primary, ctx.body);
    const { definition, sealed } = seal(def, ctx.services.secretBox);
    const now = ctx.services.now();
    const failover: StoredFailoverConnection = {
      id: newObjectId(now.getTime()), connectionId: primary.id, region, definition, sealed, createdAt: now.toISOString(),
    };
    await ctx.tx.insert(STREAMS_KIND.failoverConnection, { id: failover.id, parentId: primary.id }, failover);
    return { status: 201, body: render(failover, primary) };
  },

  async getStreamFailoverConnection(ctx) {
    const { instance, primary } = await requirePrimary(ctx);
    return { body: render(await requireFailover(ctx, instance, primary), primary) };
  },

  async updateStreamFailoverConnection(ctx) {
    const { instance, primary } = await requirePrimary(ctx);
    const current = await requireFailover(ctx, instance, primary);
    // PATCH replaces the whole definition, as for connections.
    const { def, region } = await checkFailover(ctx, instance, primary, ctx.body, current.id);
    const { definition, sealed } = seal(def, ctx.services.secretBox);
    const updated: StoredFailoverConnection = { ...current, region, definition, sealed };
    await ctx.tx.update(STREAMS_KIND.failoverConnection, current.id, updated);
    return { body: render(updated, primary) };
  },

  async deleteStreamFailoverConnection(ctx) {
    const { instance, primary } = await requirePrimary(ctx);
    const failover = await requireFailover(ctx, instance, primary);
    await ctx.tx.delete(STREAMS_KIND.failoverConnection, failover.id);
    return { status: 204 };
  },
};

/** The regions the workspace's connections have failover connections in. */
export async function failoverRegionsOf(tx: StoreTx, instance: StoredInstance): Promise<Set<string>> {
  const regions = new Set<string>();
  for (const connection of await listConnections(tx, instance)) {
    for (const failover of await failoversOf(tx, connection)) regions.add(failover.region);
  }
  return regions;
}

/**
 * The connections a processor failed over to `region` uses instead of their primaries: each
 * connection's failover connection in that region, under the primary's name, secrets opened.
 */
export async function failoverDefinitions(tx: StoreTx, box: SecretBox, instance: StoredInstance, region: string): Promise<Record<string, ConnectionDefinition>> {
  const out: Record<string, ConnectionDefinition> = {};
  for (const connection of await listConnections(tx, instance)) {
    const failover = (await failoversOf(tx, connection)).find((f) => f.region === region);
    if (failover) out[connection.name] = await openDefinition(tx, box, instance, connection.name, failover.definition, failover.sealed);
  }
  return out;
}
