// The stream commands that only read: list processors and connections (with a MongoDB query
// as filter), one processor, its stats, the workspace's defaults. Read straight from the
// store, rendered for the wire (render.ts); the processors are the Admin API's own.
import { EJSON, type Document } from 'bson';
import { listConnections } from '../../domain/streams/connections.js';
import { STREAMS_KIND, type StoredProcessor } from '../../domain/streams/common.js';
import { statsOf } from '../../domain/streams/processors.js';
import { MESSAGES, WireError } from '../errors.js';
import { largePipelineAs, pipelineOf, renderListed, renderStats } from '../render.js';
import { loadInstance, loadProcessor } from '../workspace.js';
import { optionsOf, stringArg } from './processors.js';
import type { CommandContext, CommandSpec } from './types.js';

/** Atlas's names for connection types on the wire (the mongosh docs show atlas, kafka, inmemory). */
const WIRE_CONNECTION_TYPES: Record<string, string> = { Cluster: 'atlas', Kafka: 'kafka', Sample: 'inmemory', Https: 'https' };

async function filterOf(ctx: CommandContext): Promise<(doc: Document) => boolean> {
  const filter = ctx.body['filter'];
  if (filter === undefined || filter === null) return () => true;
  if (typeof filter !== 'object' || Array.isArray(filter)) throw new WireError('FailedToParse', MESSAGES.mustBeObject('filter'));
  // Loaded with the first filter: mingo is most of the modules a server would load at boot for it.
  const { Query } = await import('mingo');
  try {
    const query = new Query(filter as Record<string, unknown>);
    return (doc) => query.test(doc);
  } catch (error) {
    throw new WireError('FailedToParse', `invalid filter: ${(error as Error).message}`);
  }
}

/** A filter that may read the pipeline (any mention of it, even in $expr) needs its values. */
function filterReadsPipeline(ctx: CommandContext): boolean {
  const filter = ctx.body['filter'];
  return filter !== undefined && filter !== null && EJSON.stringify(filter as Document).includes('pipeline');
}

async function listProcessors(ctx: CommandContext): Promise<Document> {
  const { endpoint } = ctx;
  const matches = await filterOf(ctx);
  const large = filterReadsPipeline(ctx) ? 'values' : largePipelineAs(ctx);
  const rendered = await endpoint.services.store.read(async (tx) => {
    const instance = await loadInstance(tx, endpoint);
    const { items } = await tx.list<StoredProcessor>(STREAMS_KIND.processor, instance._id);
    return Promise.all(items.map((p) => renderListed(endpoint.services.store.blobs, p, instance, large)));
  });
  return { streamProcessors: rendered.filter(matches), ok: 1 };
}

async function getProcessor(ctx: CommandContext): Promise<Document> {
  const { endpoint } = ctx;
  const name = stringArg(ctx);
  return endpoint.services.store.read(async (tx) => {
    const instance = await loadInstance(tx, endpoint);
    const processor = await loadProcessor(tx, instance, name);
    const listed = await renderListed(endpoint.services.store.blobs, processor, instance, largePipelineAs(ctx));
    return {
      ...listed, dlq: processor.options?.dlq ?? null, lastModifiedAt: listed['lastModified'],
      stats: renderStats(statsOf(endpoint.services.runner, processor), 1, false), errorCode: 0, errorRetryable: false, ok: 1,
    };
  });
}

function positiveNumber(value: unknown, field: string): number {
  if (value === undefined) return 1;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new WireError('InvalidOptions', `${field} must be a positive number`);
  return n;
}

async function stats(ctx: CommandContext): Promise<Document> {
  const { endpoint } = ctx;
  const name = stringArg(ctx);
  const options = optionsOf(ctx);
  const scale = positiveNumber(options['scale'], 'scale');
  const verbose = options['verbose'] === true;
  return endpoint.services.store.read(async (tx) => {
    const instance = await loadInstance(tx, endpoint);
    const processor = await loadProcessor(tx, instance, name);
    return {
      ns: `${instance.groupId}.${instance.name}.${processor.name}`,
      name: processor.name,
      processorId: processor._id,
      state: processor.state,
      stats: renderStats(statsOf(endpoint.services.runner, processor), scale, verbose),
      pipeline: await pipelineOf(endpoint.services.store.blobs, processor, largePipelineAs(ctx)),
      ok: 1,
    };
  });
}

async function listStreamConnections(ctx: CommandContext): Promise<Document> {
  const { endpoint } = ctx;
  const matches = await filterOf(ctx);
  const connections = await endpoint.services.store.read(async (tx) => {
    const instance = await loadInstance(tx, endpoint);
    return (await listConnections(tx, instance)).map((c) => ({ name: c.name, type: WIRE_CONNECTION_TYPES[c.type] ?? c.type.toLowerCase() }));
  });
  return { connections: connections.filter(matches), ok: 1 };
}

async function workspaceDefaults(ctx: CommandContext): Promise<Document> {
  const instance = await ctx.endpoint.services.store.read((tx) => loadInstance(tx, ctx.endpoint));
  return { defaultTierSize: instance.streamConfig.tier, maxTierSize: 'SP50', ok: 1 };
}

export const readCommands: Record<string, CommandSpec> = {
  listStreamProcessors: { run: listProcessors, needs: 'read' },
  getStreamProcessor: { run: getProcessor, needs: 'read' },
  getStreamProcessorStats: { run: stats, needs: 'read' },
  listStreamConnections: { run: listStreamConnections, needs: 'read' },
  listWorkspaceDefaults: { run: workspaceDefaults, needs: 'read' },
};
