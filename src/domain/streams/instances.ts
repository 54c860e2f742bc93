// Stream workspaces (instances before 2026; tenants in Atlas's paths and error codes):
// create with Atlas's defaults, the sample connection on request, region and tier changes,
// and deletion that takes the connections and inactive processors along.
import { randomInt } from 'node:crypto';
import { newObjectId } from '../../crypto/ids.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pagedList, pageOf } from '../../http/pagination.js';
import { schemas } from '../../protocol/generated/schemas.js';
import { validateBody } from '../../protocol/validate.js';
import {
  checkInstanceName, groupIdOf, insertUnique, isActive, isObject, listAllUnder, requiredField, requireInstance, STREAMS_KIND,
  type StoredInstance, type StoredProcessor,
} from './common.js';
import { REGIONS_BY_PROVIDER } from './regions.js';
import { deleteConnectionsOf, insertConnection, listConnections, renderConnection, SAMPLE_SOLAR } from './connections.js';
import { deleteProcessorBlobs } from './processors.js';

const DEFAULT_TIER = 'SP30';

function checkRegion(value: unknown): { cloudProvider: string; region: string } {
  if (!isObject(value)) throw requiredField('dataProcessRegion');
  const { cloudProvider, region } = value as { cloudProvider: string; region: string };
  if (cloudProvider === undefined) throw new ApiError('MISSING_ATTRIBUTE', ['cloudProvider']);
  if (region === undefined) throw new ApiError('MISSING_ATTRIBUTE', ['region']);
  const regions = REGIONS_BY_PROVIDER[cloudProvider];
  if (!regions) {
    throw new ApiError('INVALID_ENUM_VALUE', [cloudProvider], [{ field: 'dataProcessRegion.cloudProvider',
      description: `Atlas Stream Processing runs on ${Object.keys(REGIONS_BY_PROVIDER).join(', ')}.` }]);
  }
  if (!regions.includes(region)) {
    throw new ApiError('INVALID_ENUM_VALUE', [region], [{ field: 'dataProcessRegion.region',
      description: `${cloudProvider} regions are ${regions.join(', ')}.` }]);
  }
  return { cloudProvider, region };
}

/** Atlas's hostnames name the region in lower case with hyphens (VIRGINIA_USA -> virginia-usa). */
function hostnames(instance: Pick<StoredInstance, '_id' | 'hostSuffix' | 'dataProcessRegion'>): string[] {
  const region = instance.dataProcessRegion.region.toLowerCase().replace(/_/g, '-');
  return [`atlas-stream-${instance._id}-${instance.hostSuffix}.${region}.a.query.mongodb.net`];
}

function randomSuffix(): string {
  return Array.from({ length: 6 }, () => String.fromCharCode(97 + randomInt(26))).join('');
}

export async function renderInstance(ctx: RequestContext, instance: StoredInstance, includeConnections = false): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    _id: instance._id,
    dataProcessRegion: instance.dataProcessRegion,
    groupId: instance.groupId,
    hostnames: hostnames(instance),
    name: instance.name,
    streamConfig: instance.streamConfig,
  };
  if (includeConnections) out['connections'] = (await listConnections(ctx.tx, instance)).map((c) => renderConnection(c, instance));
  return out;
}

async function createInstance(ctx: RequestContext, body: Record<string, unknown>, withSample: boolean): Promise<StoredInstance> {
  const name = checkInstanceName(body['name']);
  const dataProcessRegion = checkRegion(body['dataProcessRegion']);
  const tier = isObject(body['streamConfig']) && typeof body['streamConfig']['tier'] === 'string' ? body['streamConfig']['tier'] : DEFAULT_TIER;
  const now = ctx.services.now();
  const instance: StoredInstance = {
    _id: newObjectId(now.getTime()), groupId: groupIdOf(ctx), name, dataProcessRegion, streamConfig: { tier },
    hostSuffix: randomSuffix(), createdAt: now.toISOString(),
  };
  await insertUnique(ctx.tx, STREAMS_KIND.instance, { id: instance._id, parentId: instance.groupId, name }, instance,
    'STREAM_TENANT_NAME_ALREADY_EXISTS');
  const sample = isObject(body['sampleConnections']) && body['sampleConnections']['solar'] === true;
  if (withSample || sample) await insertConnection(ctx, instance, SAMPLE_SOLAR);
  return instance;
}

export const instanceHandlers: HandlerTable = {
  async listStreamWorkspaces(ctx) {
    const page = await ctx.tx.list<StoredInstance>(STREAMS_KIND.instance, groupIdOf(ctx), pageOf(ctx));
    const rendered = await Promise.all(page.items.map((i) => renderInstance(ctx, i)));
    return { body: pagedList(ctx, { items: rendered, total: page.total }, (r) => r) };
  },

  async createStreamWorkspace(ctx) {
    const instance = await createInstance(ctx, (ctx.body ?? {}) as Record<string, unknown>, false);
    return { status: 200, body: await renderInstance(ctx, instance) };
  },

  async withStreamSampleConnections(ctx) {
    // The spec leaves this body free-form ({type: object}); it is a StreamsTenant, checked as strictly.
    const body = ctx.body ?? {};
    validateBody(schemas['StreamsTenant']!, body, { pathParams: ctx.params });
    const instance = await createInstance(ctx, body as Record<string, unknown>, true);
    return { status: 200, body: await renderInstance(ctx, instance) };
  },

  async getStreamWorkspace(ctx) {
    const instance = await requireInstance(ctx);
    return { body: await renderInstance(ctx, instance, ctx.query['includeConnections'] === true) };
  },

  async updateStreamWorkspace(ctx) {
    const instance = await requireInstance(ctx);
    const body = (ctx.body ?? {}) as { cloudProvider?: string; region?: string; streamConfig?: { tier?: string } };
    // The region (as the spec has it) or the tier (as later revisions and the MCP server send it), or both.
    const movesRegion = body.cloudProvider !== undefined || body.region !== undefined || body.streamConfig === undefined;
    const updated: StoredInstance = {
      ...instance,
      dataProcessRegion: movesRegion ? checkRegion(ctx.body) : instance.dataProcessRegion,
      streamConfig: body.streamConfig?.tier ? { tier: body.streamConfig.tier } : instance.streamConfig,
    };
    await ctx.tx.update(STREAMS_KIND.instance, instance._id, updated);
    return { body: await renderInstance(ctx, updated) };
  },

  async deleteStreamWorkspace(ctx) {
    const instance = await requireInstance(ctx);
    // Only an active processor keeps a workspace; the others go with it, as do the connections.
    const processors = await listAllUnder<StoredProcessor>(ctx.tx, STREAMS_KIND.processor, instance._id);
    if (processors.some(isActive)) throw new ApiError('STREAM_TENANT_HAS_STREAM_PROCESSORS', [instance.name]);
    for (const processor of processors) await ctx.tx.delete(STREAMS_KIND.checkpoint, processor._id);
    await ctx.tx.deleteChildren(STREAMS_KIND.processor, instance._id);
    await deleteConnectionsOf(ctx.tx, instance);
    await ctx.tx.delete(STREAMS_KIND.instance, instance._id);
    ctx.afterCommit(async () => {
      for (const processor of processors) await deleteProcessorBlobs(ctx.services.store.blobs, processor._id, ctx.log);
    });
    return { status: 202, body: {} };
  },
};
