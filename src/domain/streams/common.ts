// What every Streams module shares: the store kinds and stored shapes, the lookups that
// turn a path into an entity (or Atlas's 404), and the name rules. Written once so that
// every operation under an instance answers "not found" the same way.
import type { RequestContext } from '../../http/context.js';
import { ApiError, type BadRequestField, type ErrorCode } from '../../http/errors.js';
import { DuplicateKeyError, type StoreTx } from '../../store/store.js';
import type { Document } from '../../engine/contract.js';
import type { PipelineBlob } from './pipeline-blobs.js';

export const STREAMS_KIND = {
  instance: 'streamInstance',
  connection: 'streamConnection',
  /** Children of a connection (parentId: the connection's id). */
  failoverConnection: 'streamFailoverConnection',
  processor: 'streamProcessor',
  privateLink: 'streamPrivateLink',
  vpcPeering: 'streamVpcPeering',
  /** Emulator-only: where a Cluster connection's cluster really is (see emulator-routes.ts). */
  clusterAddress: 'streamClusterAddress',
  /** Where a workspace's wire endpoint listens (wire-endpoints.ts); keyed by instance id. */
  wireEndpoint: 'streamWireEndpoint',
  /** Owned by the engine's host callbacks (processor-host.ts); keyed by processor id. */
  checkpoint: 'checkpoint',
} as const;

/**
 * Every Streams kind: no credential check reads them (who may call is decided by identity
 * kinds alone), so their writes keep the store's identity generation, and with it the cached
 * credential checks (see Store.identityGeneration).
 */
export const CREDENTIAL_FREE_KINDS: ReadonlySet<string> = new Set(Object.values(STREAMS_KIND));

export interface StoredInstance {
  _id: string;
  groupId: string;
  name: string;
  dataProcessRegion: { cloudProvider: string; region: string };
  streamConfig: { tier: string };
  /** The random part of the hostname, kept so the hostname is stable across region changes. */
  hostSuffix: string;
  createdAt: string;
}

export interface StoredConnection {
  id: string;
  instanceId: string;
  name: string;
  type: string;
  /** The caller's definition without its write-only fields. */
  definition: Document;
  /** Write-only fields by dotted path, each sealed with the SecretBox. */
  sealed: Record<string, string>;
  /** Who last wrote it (cluster-projects.ts checks that caller's rights again at each start). */
  author?: ConnectionAuthor;
  createdAt: string;
}

export interface ConnectionAuthor {
  type: 'apiKey' | 'serviceAccount';
  id: string;
}

export type ProcessorState = 'CREATED' | 'STARTED' | 'STOPPED' | 'FAILED';

/**
 * A processor that holds its connections: STARTED (Atlas also counts STARTING and STOPPING,
 * which a start or stop passes through inside one transaction here). Created, stopped and
 * failed processors hold nothing; they fail at start should a connection be gone.
 */
export function isActive(processor: Pick<StoredProcessor, 'state'>): boolean {
  return processor.state === 'STARTED';
}

export interface StoredProcessor {
  _id: string;
  instanceId: string;
  groupId: string;
  instanceName: string;
  name: string;
  /** The pipeline, when its JSON text is small; a larger one is a blob named by pipelineBlob (pipeline-blobs.ts). */
  pipeline?: Document[];
  pipelineBlob?: PipelineBlob;
  options?: { dlq?: { connectionName: string; db: string; coll: string } };
  state: ProcessorState;
  /** Set when the engine reported a failure (ProcessorHost.markFailed). */
  errorMsg?: string;
  /** The figures at the last stop: sp.processor.stats() of a stopped processor shows them, as Atlas does. */
  lastStats?: Record<string, unknown>;
  /** False after a modify with resumeFromCheckpoint: false, until the next start. */
  resumeFromCheckpoint: boolean;
  /** Changes at every start: a failed start only rolls back the start that failed. */
  runToken?: string;
  /**
   * Boots that resumed this processor since its last checkpoint was saved. A processor that
   * takes the server down keeps raising it; past a few it is no longer resumed.
   */
  unconfirmedResumes?: number;
  /** `:startWith`'s change stream start, for the run that began with it. */
  startAtOperationTime?: string;
  /** The region `:startWith`'s failover moved the processor to; absent in the workspace's own region. */
  failoverRegion?: string;
  createdAt: string;
  lastStateChange: string;
}

/** Names of instances: ASCII letters, digits and hyphens (Atlas), at most 64 characters (our choice). */
const INSTANCE_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** Names of connections and processors: also underscores (`sample_stream_solar`), at most 64 (our choice). */
const OBJECT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function checkInstanceName(name: unknown): string {
  if (name === undefined) throw new ApiError('MISSING_ATTRIBUTE', ['name']);
  if (typeof name !== 'string' || !INSTANCE_NAME.test(name)) {
    throw invalidField('name', name, 'Stream workspace names are 1 to 64 ASCII letters, digits and hyphens.');
  }
  return name;
}

export function checkObjectName(name: unknown, what: string): string {
  if (name === undefined) throw new ApiError('MISSING_ATTRIBUTE', ['name']);
  if (typeof name !== 'string' || !OBJECT_NAME.test(name)) {
    throw invalidField('name', name, `${what} names are 1 to 64 ASCII letters, digits, hyphens and underscores.`);
  }
  return name;
}

/** 400 VALIDATION_ERROR with a field description: says what is wrong, not only that something is. */
export function invalidField(field: string, value: unknown, description: string): ApiError {
  const fields: BadRequestField[] = [{ field, description }];
  return new ApiError('VALIDATION_ERROR', [field, typeof value === 'string' ? value : JSON.stringify(value)], fields);
}

export function requiredField(field: string): ApiError {
  return new ApiError('MISSING_ATTRIBUTE', [field]);
}

export function groupIdOf(ctx: RequestContext): string {
  return ctx.project!.id;
}

/** The instance the path names, or Atlas's STREAM_TENANT_NOT_FOUND_FOR_NAME. */
export async function requireInstance(ctx: RequestContext): Promise<StoredInstance> {
  const groupId = groupIdOf(ctx);
  const name = ctx.params['tenantName']!;
  const instance = await ctx.tx.getByName<StoredInstance>(STREAMS_KIND.instance, groupId, name);
  if (!instance) throw new ApiError('STREAM_TENANT_NOT_FOUND_FOR_NAME', [groupId, name]);
  return instance;
}

export async function requireConnection(ctx: RequestContext, instance: StoredInstance): Promise<StoredConnection> {
  const name = ctx.params['connectionName']!;
  const connection = await ctx.tx.getByName<StoredConnection>(STREAMS_KIND.connection, instance._id, name);
  if (!connection) throw new ApiError('STREAM_CONNECTION_NOT_FOUND_FOR_NAME', [name, instance.groupId, instance.name]);
  return connection;
}

export async function requireProcessor(ctx: RequestContext, instance: StoredInstance): Promise<StoredProcessor> {
  const name = ctx.params['processorName']!;
  const processor = await ctx.tx.getByName<StoredProcessor>(STREAMS_KIND.processor, instance._id, name);
  if (!processor) throw new ApiError('STREAM_PROCESSOR_NOT_FOUND', [name, instance.name]);
  return processor;
}

export async function listAllUnder<T>(tx: StoreTx, kind: string, parentId: string): Promise<T[]> {
  return (await tx.list<T>(kind, parentId)).items;
}

/** Inserts, turning a name collision into the operation's 409. */
export async function insertUnique<T>(tx: StoreTx, kind: string, key: { id: string; parentId: string; name: string }, doc: T, conflict: ErrorCode): Promise<void> {
  try {
    await tx.insert(kind, key, doc);
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw new ApiError(conflict, [key.name]);
    throw error;
  }
}

/** Replaces a document and its name, turning a name collision into the operation's 409. */
export async function updateUnique<T>(tx: StoreTx, kind: string, id: string, doc: T, name: string, conflict: ErrorCode): Promise<void> {
  try {
    await tx.update(kind, id, doc, name);
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw new ApiError(conflict, [name]);
    throw error;
  }
}

/**
 * What all of one workspace's processors, and all of its connections, may hold as stored.
 * Lists, starts and the wire endpoint load every one of a kind at once on the API thread, so
 * this bounds that allocation (a few thousand ordinary pipelines, or 3 of the largest).
 */
export const WORKSPACE_STORAGE_BYTES = { processors: 64 * 1024 * 1024, connections: 16 * 1024 * 1024 } as const;

/** After a write in the same transaction: 400 STREAM_WORKSPACE_STORAGE_EXCEEDED (undoing it) when the workspace now holds too much. */
export async function checkWorkspaceStorage(tx: StoreTx, instance: StoredInstance, what: keyof typeof WORKSPACE_STORAGE_BYTES): Promise<void> {
  const kind = what === 'processors' ? STREAMS_KIND.processor : STREAMS_KIND.connection;
  const limit = WORKSPACE_STORAGE_BYTES[what];
  // Large pipelines are blobs beside the rows (pipeline-blobs.ts): they count all the same.
  const blobBytes = what === 'processors'
    ? (await listAllUnder<StoredProcessor>(tx, kind, instance._id)).reduce((sum, p) => sum + (p.pipelineBlob?.bytes ?? 0), 0) : 0;
  if (await tx.storedBytes(kind, instance._id) + blobBytes > limit) throw new ApiError('STREAM_WORKSPACE_STORAGE_EXCEEDED', [what, instance.name, limit]);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A deep copy through JSON: what the store would hand back, key order kept. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
