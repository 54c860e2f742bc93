// Stream processors: definitions checked before they are stored, the state machine
// CREATED -> STARTED <-> STOPPED (FAILED may start again), and the hand-off to the engine.
//
// The hand-off: a state change is decided and committed in the request's transaction (so
// two racing :start calls cannot both win), and the engine is told afterwards (afterCommit).
// Everything that can be checked up front is checked in the transaction; should the engine
// still refuse the pipeline, the processor goes back to where it was and the caller gets
// the 400. Failures after a successful start arrive through ProcessorHost.markFailed.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { PipelineError, type Document, type ProcessorDefinition, type ProcessorRunner, type ProcessorStats } from '../../engine/contract.js';
import { newObjectId } from '../../crypto/ids.js';
import { shownState } from './lifecycles.js';
import type { HandlerTable, RequestContext, Services } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pagedList, pageOf } from '../../http/pagination.js';
import type { BlobStore } from '../../store/blob-files.js';
import type { StoreTx } from '../../store/store.js';
import {
  checkObjectName, checkWorkspaceStorage, insertUnique, invalidField, isObject, jsonCopy, requiredField, requireInstance, requireProcessor, STREAMS_KIND, updateUnique,
  type ProcessorState, type StoredInstance, type StoredProcessor,
} from './common.js';
import { listConnections, loadConnectionDefinitions } from './connections.js';
import { failoverDefinitions, failoverRegionsOf } from './failover-connections.js';
import { checkProcessorDefinition, connectionsUsedBy, type DlqOptions } from './pipelines.js';
import { deletePipelineVersion, deleteStoredPipeline, keepOnlyStoredPipeline, loadPipeline, pipelineForResponse, stageNamesOf, storePipeline, type StoredPipeline } from './pipeline-blobs.js';
import { logProcessorEvent, recordProcessorEvent } from './operational-logs.js';
import { clusterProjectDenial } from './cluster-projects.js';
import type { StreamsStartStreamProcessorWith } from '../../protocol/generated/types.js';

function genericError(name: string, message: string): ApiError {
  return new ApiError('STREAM_PROCESSOR_GENERIC_ERROR', [name, message]);
}

/**
 * Checks a definition against the instance's connections; a PipelineError becomes Atlas's 400.
 * Returns the connections the pipeline uses.
 */
export async function checkDefinition(tx: StoreTx, instance: StoredInstance, name: string, pipeline: unknown, dlq: unknown): Promise<ReadonlySet<string>> {
  const types = new Map((await listConnections(tx, instance)).map((c) => [c.name, c.type]));
  try {
    return await checkProcessorDefinition(pipeline, dlq, types);
  } catch (error) {
    if (error instanceof PipelineError) throw genericError(name, error.message);
    throw error;
  }
}

/**
 * Why the processor may not run now, or undefined: a Cluster connection it uses reaches another
 * project whose rights its author no longer holds (cluster-projects.ts).
 */
export async function startDenial(tx: StoreTx, instance: StoredInstance, processor: StoredProcessor, log: Logger): Promise<string | undefined> {
  const used = connectionsUsedBy(processor);
  for (const connection of await listConnections(tx, instance)) {
    if (!used.has(connection.name)) continue;
    const denial = await clusterProjectDenial(tx, instance, connection, log);
    if (denial) return denial;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Engine calls for one processor run one after another, so that a :stop issued while its
// :start is still being handed over reaches the engine second.

const queues = new WeakMap<ProcessorRunner, Map<string, Promise<unknown>>>();

export function serially<T>(runner: ProcessorRunner, processorId: string, task: () => Promise<T>): Promise<T> {
  let byId = queues.get(runner);
  if (!byId) queues.set(runner, (byId = new Map()));
  const previous = byId.get(processorId) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => undefined);
  byId.set(processorId, settled);
  void settled.then(() => { if (byId!.get(processorId) === settled) byId!.delete(processorId); });
  return next;
}

// ---------------------------------------------------------------------------------------
// Rendering

/** The runner's figures while it runs; otherwise zeros in the same shape (sp.processor.stats()). */
export function statsOf(runner: ProcessorRunner, processor: StoredProcessor): Record<string, unknown> {
  const live: ProcessorStats | undefined = processor.state === 'STARTED' ? runner.stats(processor._id) : undefined;
  if (live) return { ...live };
  const status = processor.state === 'STARTED' ? (runner.isRunning(processor._id) ? 'running' : 'starting')
    : processor.state === 'FAILED' ? 'error' : processor.state.toLowerCase();
  if (processor.state === 'STOPPED' && processor.lastStats) return { ...processor.lastStats, status };
  const stats: Record<string, unknown> = {
    name: processor.name, processorId: processor._id, status, scaleFactor: 1, ok: 1,
    inputMessageCount: 0, inputMessageSize: 0, outputMessageCount: 0, outputMessageSize: 0,
    dlqMessageCount: 0, dlqMessageSize: 0, memoryTrackerBytes: 0, stateSize: 0,
    operatorStats: stageNamesOf(processor).map((name) => ({
      name, inputMessageCount: 0, outputMessageCount: 0, dlqMessageCount: 0, executionTimeSecs: 0, timeSpentMillis: 0,
      maxMemoryUsage: 0, stateSize: 0,
    })),
  };
  // The spec has no field for why a processor failed; stats is free-form, so it goes there.
  if (processor.state === 'FAILED' && processor.errorMsg) stats['errorMsg'] = processor.errorMsg;
  return stats;
}

export async function renderProcessor(services: Pick<Services, 'runner' | 'store'>, processor: StoredProcessor, withStats: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    _id: processor._id,
    name: processor.name,
    // The caller's stage order and field order are the program: kept as written. Not copied
    // nor parsed: copying a 16 MB pipeline costs two full passes on the API thread.
    pipeline: await pipelineForResponse(services.store.blobs, processor),
    state: processor.state,
  };
  if (processor.options?.dlq) out['options'] = { dlq: processor.options.dlq };
  if (withStats) out['stats'] = statsOf(services.runner, processor);
  return out;
}

/** A processor as a read shows it: STARTING or STOPPING while a lifecycle transition lasts. */
async function readProcessor(ctx: RequestContext, processor: StoredProcessor): Promise<Record<string, unknown>> {
  const out = await renderProcessor(ctx.services, processor, true);
  out['state'] = shownState(ctx, processor._id, processor.state);
  return out;
}

// ---------------------------------------------------------------------------------------
// State changes

/** What the engine gets: the definition, every connection with secrets, the instance's tier. */
export async function buildDefinition(tx: StoreTx, services: Pick<Services, 'secretBox' | 'store'>, instance: StoredInstance, processor: StoredProcessor): Promise<ProcessorDefinition> {
  // A blob's pipeline is parsed afresh; one in the row is the store's document, copied so the engine cannot change it.
  const pipeline = processor.pipelineBlob ? await loadPipeline(services.store.blobs, processor) : jsonCopy(processor.pipeline!);
  const definition: ProcessorDefinition = {
    id: processor._id, name: processor.name, groupId: instance.groupId, instanceName: instance.name,
    tier: instance.streamConfig.tier, pipeline,
    connections: await loadConnectionDefinitions(tx, services.secretBox, instance),
  };
  // A failed-over processor reaches each system through that connection's failover connection in its region.
  if (processor.failoverRegion) Object.assign(definition.connections, await failoverDefinitions(tx, services.secretBox, instance, processor.failoverRegion));
  if (processor.options?.dlq) definition.options = { dlq: { ...processor.options.dlq } };
  return definition;
}

async function saveState(tx: StoreTx, processor: StoredProcessor, state: ProcessorState, now: Date, extra: Partial<StoredProcessor> = {}): Promise<StoredProcessor> {
  const updated: StoredProcessor = { ...processor, ...extra, state, lastStateChange: now.toISOString() };
  if (state !== 'FAILED') delete updated.errorMsg;
  if (state !== 'STOPPED') delete updated.lastStats;
  await tx.update(STREAMS_KIND.processor, processor._id, updated);
  return updated;
}

/** The engine cannot go on with this processor: FAILED, with its message (ProcessorHost.markFailed). */
export async function markProcessorFailed(tx: StoreTx, processorId: string, message: string, now: Date, runToken?: string): Promise<boolean> {
  const processor = await tx.get<StoredProcessor>(STREAMS_KIND.processor, processorId);
  if (!processor || processor.state !== 'STARTED') return false;
  if (runToken !== undefined && processor.runToken !== runToken) return false;
  await saveState(tx, processor, 'FAILED', now, { errorMsg: message });
  return true;
}

/** resumeFromCheckpoint false drops the checkpoint and starts afresh (a later API revision's field). */
type StartRequest = Pick<StreamsStartStreamProcessorWith, 'startAtOperationTime' | 'resumeFromCheckpoint' | 'failover'>;

/**
 * `:startWith`'s `failover.region`: the workspace's own region, or one its connections have
 * failover connections in (the emulator's stand-in for the workspace's failover regions).
 * Answers the region to store (undefined for the workspace's own).
 */
async function failoverRegion(tx: StoreTx, instance: StoredInstance, failover: NonNullable<StartRequest['failover']>): Promise<string | undefined> {
  const home = instance.dataProcessRegion.region;
  if (failover.region === home) return undefined;
  const regions = await failoverRegionsOf(tx, instance);
  if (!regions.has(failover.region)) {
    throw invalidField('failover.region', failover.region,
      `The workspace's region (${home}) or a region its connections have failover connections in${regions.size ? ` (${[...regions].sort().join(', ')})` : ': none'}.`);
  }
  return failover.region;
}

async function start(ctx: RequestContext, request: StartRequest = {}): Promise<{ status: number; body: unknown }> {
  const instance = await requireInstance(ctx);
  const found = await requireProcessor(ctx, instance);
  const { failover } = request;
  // Failover moves a running processor: GRACEFUL stops it (final checkpoint) first, FORCED
  // goes on even when that stop fails.
  const moving = failover !== undefined && found.state === 'STARTED';
  if (found.state === 'STARTED' && !moving) throw genericError(found.name, 'the stream processor is already started');
  const region = failover ? await failoverRegion(ctx.tx, instance, failover) : found.failoverRegion;
  const clearCheckpoint = request.resumeFromCheckpoint === false || (failover?.mode === 'FORCED' && failover.clearCheckpoint === true);
  const processor = { ...found, failoverRegion: region, ...(clearCheckpoint ? { resumeFromCheckpoint: false } : {}) };
  const { startAtOperationTime } = request;
  const definition = await buildDefinition(ctx.tx, ctx.services, instance, processor);
  await checkDefinition(ctx.tx, instance, processor.name, definition.pipeline, processor.options?.dlq);
  const denial = await startDenial(ctx.tx, instance, processor, ctx.log);
  if (denial) throw genericError(processor.name, denial);
  if (failover?.dryRun) return { status: 200, body: {} };
  if (clearCheckpoint) await ctx.tx.delete(STREAMS_KIND.checkpoint, processor._id);
  const runToken = randomUUID();
  const before = { state: moving ? 'STOPPED' as const : processor.state, errorMsg: processor.errorMsg, resumeFromCheckpoint: processor.resumeFromCheckpoint, failoverRegion: found.failoverRegion };
  // startAtOperationTime is kept with the state: a runner elsewhere that claims the processor needs it.
  await saveState(ctx.tx, processor, 'STARTED', ctx.services.now(), { runToken, resumeFromCheckpoint: true, unconfirmedResumes: 0, startAtOperationTime });
  ctx.services.lifecycles?.begin('processor', 'start', { id: processor._id, name: processor.name, state: 'STARTED' });

  const { runner, store, log } = ctx.services;
  const stopFirst = async () => {
    if (!moving) return;
    const stopped = runner.stop(processor._id);
    await (failover?.mode === 'FORCED' ? stopped.catch(() => undefined) : stopped);
  };
  ctx.afterCommit(async () => {
    try {
      await serially(runner, processor._id, async () => {
        await stopFirst();
        await runner.start(definition, {
          resumeFromCheckpoint: processor.resumeFromCheckpoint,
          ...(startAtOperationTime !== undefined ? { startAtOperationTime } : {}),
        });
      });
      await recordProcessorEvent(store, log, processor, 'started', ctx.services.now());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const refused = error instanceof PipelineError;
      if (!refused) log.error({ processorId: processor._id, err: error }, 'the engine failed to start a processor');
      await recordProcessorEvent(store, log, processor, 'failed', ctx.services.now(), message);
      await store.transaction(async (tx) => {
        const current = await tx.get<StoredProcessor>(STREAMS_KIND.processor, processor._id);
        // Only undo this start: a later stop, start or delete has already moved on.
        if (!current || current.runToken !== runToken || current.state !== 'STARTED') return;
        if (refused) await saveState(tx, current, before.state, ctx.services.now(), before);
        else await saveState(tx, current, 'FAILED', ctx.services.now(), { errorMsg: message });
      });
      throw genericError(processor.name, message);
    }
  });
  return { status: 200, body: {} };
}

/**
 * storePipeline for a write of the processor: should the transaction not commit (refused, or
 * run again after losing a race), what it wrote goes again, so a new processor leaves nothing
 * behind; once it commits, the versions the row no longer names go.
 */
async function storeProcessorPipeline(ctx: RequestContext, processorId: string, pipeline: Document[], connections: ReadonlySet<string>, created: boolean): Promise<StoredPipeline> {
  const { blobs } = ctx.services.store;
  const stored = await storePipeline(blobs, processorId, pipeline, connections);
  const written = stored.pipelineBlob?.version;
  const failed = (what: string) => (error: unknown) => ctx.log.error({ processorId, err: error }, what);
  if (written) {
    ctx.unlessCommitted(() => (created ? deleteStoredPipeline(blobs, processorId) : deletePipelineVersion(blobs, processorId, written))
      .catch(failed('deleting the pipeline of a write that did not commit failed')));
  }
  ctx.afterCommit(() => keepOnlyStoredPipeline(blobs, { _id: processorId, ...stored }).catch(failed('deleting an earlier pipeline version failed')));
  return stored;
}

/** A deleted processor's values beside the store (blob-files.ts): its checkpoint state and a large pipeline. */
export async function deleteProcessorBlobs(blobs: BlobStore, processorId: string, log: Logger): Promise<void> {
  await Promise.all([blobs.deleteAll(STREAMS_KIND.checkpoint, processorId), deleteStoredPipeline(blobs, processorId)])
    .catch((error: unknown) => log.error({ processorId, err: error }, 'deleting the values a processor kept beside the store failed'));
}

function bodyOf(ctx: RequestContext): Record<string, unknown> {
  return (ctx.body ?? {}) as Record<string, unknown>;
}

export const processorHandlers: HandlerTable = {
  async createStreamProcessor(ctx) {
    const instance = await requireInstance(ctx);
    const body = bodyOf(ctx);
    const name = checkObjectName(body['name'], 'Stream processor');
    if (body['pipeline'] === undefined) throw requiredField('pipeline');
    const options = isObject(body['options']) ? body['options'] : undefined;
    const dlq = options?.['dlq'] as DlqOptions | undefined;
    const pipeline = body['pipeline'] as Document[];
    const connections = await checkDefinition(ctx.tx, instance, name, pipeline, dlq);
    const now = ctx.services.now();
    const id = newObjectId(now.getTime());
    const processor: StoredProcessor = {
      _id: id, instanceId: instance._id, groupId: instance.groupId, instanceName: instance.name, name,
      ...await storeProcessorPipeline(ctx, id, pipeline, connections, true),
      state: 'CREATED', resumeFromCheckpoint: true, createdAt: now.toISOString(), lastStateChange: now.toISOString(),
    };
    if (dlq) processor.options = { dlq: { connectionName: dlq.connectionName, db: dlq.db, coll: dlq.coll } };
    await insertUnique(ctx.tx, STREAMS_KIND.processor, { id, parentId: instance._id, name }, processor, 'STREAM_PROCESSOR_NAME_ALREADY_EXISTS');
    await checkWorkspaceStorage(ctx.tx, instance, 'processors');
    await logProcessorEvent(ctx.tx, processor, 'created', now);
    // The create response is a StreamsProcessor (the definition), without state or stats.
    const { state: _state, ...definition } = await renderProcessor(ctx.services, processor, false);
    return { status: 200, body: definition };
  },

  async getStreamProcessor(ctx) {
    const instance = await requireInstance(ctx);
    return { body: await readProcessor(ctx, await requireProcessor(ctx, instance)) };
  },

  async getStreamProcessors(ctx) {
    const instance = await requireInstance(ctx);
    const page = await ctx.tx.list<StoredProcessor>(STREAMS_KIND.processor, instance._id, pageOf(ctx));
    const rendered = { ...page, items: [] as Array<Record<string, unknown>> };
    for (const processor of page.items) rendered.items.push(await readProcessor(ctx, processor));
    return { body: pagedList(ctx, rendered, (p) => p) };
  },

  async updateStreamProcessor(ctx) {
    const instance = await requireInstance(ctx);
    const processor = await requireProcessor(ctx, instance);
    if (processor.state === 'STARTED') throw genericError(processor.name, 'a running stream processor cannot be modified; stop it first');
    const body = bodyOf(ctx);
    const options = isObject(body['options']) ? body['options'] : {};
    const name = body['name'] === undefined ? processor.name : checkObjectName(body['name'], 'Stream processor');
    const newPipeline = body['pipeline'] as Document[] | undefined;
    // An empty dlq object removes the dead letter queue (mongosh's modify({dlq: {}})).
    const removesDlq = isObject(options['dlq']) && Object.keys(options['dlq']).length === 0;
    const dlq = (removesDlq ? undefined : options['dlq'] ?? processor.options?.dlq) as DlqOptions | undefined;
    const connections = await checkDefinition(ctx.tx, instance, name, newPipeline ?? await loadPipeline(ctx.services.store.blobs, processor), dlq);
    const updated: StoredProcessor = { ...processor, name };
    if (newPipeline !== undefined) {
      delete updated.pipeline;
      delete updated.pipelineBlob;
      Object.assign(updated, await storeProcessorPipeline(ctx, processor._id, newPipeline, connections, false));
    }
    if (dlq) updated.options = { dlq: { connectionName: dlq.connectionName, db: dlq.db, coll: dlq.coll } };
    else delete updated.options;
    if (options['resumeFromCheckpoint'] === false) {
      // The next start begins afresh: the checkpoint goes now, in the same transaction.
      await ctx.tx.delete(STREAMS_KIND.checkpoint, processor._id);
      updated.resumeFromCheckpoint = false;
    }
    await updateUnique(ctx.tx, STREAMS_KIND.processor, processor._id, updated, name, 'STREAM_PROCESSOR_NAME_ALREADY_EXISTS');
    await checkWorkspaceStorage(ctx.tx, instance, 'processors');
    return { body: await renderProcessor(ctx.services, updated, true) };
  },

  async deleteStreamProcessor(ctx) {
    const instance = await requireInstance(ctx);
    const processor = await requireProcessor(ctx, instance);
    await ctx.tx.delete(STREAMS_KIND.processor, processor._id);
    await ctx.tx.delete(STREAMS_KIND.checkpoint, processor._id);
    await logProcessorEvent(ctx.tx, processor, 'dropped', ctx.services.now());
    ctx.services.lifecycles?.forget(processor._id);
    const { runner, log } = ctx.services;
    ctx.afterCommit(async () => {
      await serially(runner, processor._id, () => runner.drop(processor._id))
        .catch((error: unknown) => log.error({ processorId: processor._id, err: error }, 'the engine failed to drop a processor'));
      await deleteProcessorBlobs(ctx.services.store.blobs, processor._id, log);
    });
    return { status: 204 };
  },

  startStreamProcessor: (ctx) => start(ctx),

  async startStreamProcessorWith(ctx) {
    const body = bodyOf(ctx) as StartRequest;
    return start(ctx, { startAtOperationTime: body.startAtOperationTime, resumeFromCheckpoint: body.resumeFromCheckpoint, failover: body.failover });
  },

  async stopStreamProcessor(ctx) {
    const instance = await requireInstance(ctx);
    const processor = await requireProcessor(ctx, instance);
    if (processor.state !== 'STARTED') throw genericError(processor.name, 'the stream processor is not running');
    const figures = ctx.services.runner.stats(processor._id);
    await saveState(ctx.tx, processor, 'STOPPED', ctx.services.now(), figures ? { lastStats: { ...figures } } : {});
    await logProcessorEvent(ctx.tx, processor, 'stopped', ctx.services.now());
    ctx.services.lifecycles?.begin('processor', 'stop', { id: processor._id, name: processor.name, state: 'STOPPED' });
    const { runner, log } = ctx.services;
    ctx.afterCommit(async () => {
      // Answered at once, as Atlas does: the engine stops in the background (final checkpoint,
      // or terminating a stuck worker); a later start or delete queues behind it.
      // Should the checkpoint fail, the processor is stopped all the same.
      void serially(runner, processor._id, () => runner.stop(processor._id))
        .catch((error: unknown) => log.error({ processorId: processor._id, err: error }, 'the engine failed to stop a processor'));
    });
    return { status: 200, body: {} };
  },
};

export async function instanceOf(tx: StoreTx, processor: StoredProcessor): Promise<StoredInstance | undefined> {
  return tx.get<StoredInstance>(STREAMS_KIND.instance, processor.instanceId);
}
