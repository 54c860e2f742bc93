// The engine's callbacks, persisted through the store: checkpoints and failures (with their
// operational log line); and the restart of every processor that was running when the
// server last stopped.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { PipelineError, type Checkpoint, type ProcessorDefinition, type ProcessorHost } from '../../engine/contract.js';
import type { Services } from '../../http/context.js';
import type { BlobStore } from '../../store/blob-files.js';
import type { Store } from '../../store/store.js';
import { STREAMS_KIND, type StoredProcessor } from './common.js';
import { logProcessorEvent, recordProcessorEvent } from './operational-logs.js';
import { buildDefinition, instanceOf, markProcessorFailed, serially, startDenial } from './processors.js';

const CHECKPOINT = STREAMS_KIND.checkpoint;
/** Boots in a row that may resume a processor without it ever reaching a checkpoint. */
export const MAX_UNCONFIRMED_RESUMES = 3;
const NOT_RESUMED = `the stream processor was not resumed: the server stopped ${MAX_UNCONFIRMED_RESUMES} times in a row while it ran, `
  + 'each time before it could save a checkpoint, so it may be what takes the server down; fix the pipeline and start it again';

/** The stored checkpoint: its state (bytes) is the store's blob of `version`. */
export interface StoredCheckpoint {
  id: number;
  takenAt: string;
  blob?: { version: string; bytes: number };
  /** Checkpoints written before blobs kept their state inline. */
  state?: unknown;
}

/** Reads a stored checkpoint row back into the engine's shape, its state from the blob it names. */
export async function loadStoredCheckpoint(blobs: BlobStore, processorId: string, stored: StoredCheckpoint | undefined): Promise<Checkpoint | undefined> {
  if (!stored?.blob) return stored as Checkpoint | undefined;
  const state = await blobs.read(CHECKPOINT, processorId, stored.blob.version);
  return state ? { id: stored.id, takenAt: stored.takenAt, state } : undefined;
}

/**
 * Writes a checkpoint's state (tens of MB for a large window) as a blob, off the main thread,
 * then has `commit` store the small row naming it; the other versions go once it is current.
 * `commit` answers whether the row was stored (the processor may be gone, or the lease lost).
 */
export async function saveStoredCheckpoint(blobs: BlobStore, processorId: string, checkpoint: Checkpoint,
  commit: (stored: StoredCheckpoint) => Promise<boolean>): Promise<void> {
  const bytes = checkpoint.state instanceof Uint8Array ? checkpoint.state : undefined;
  const version = randomUUID();
  if (bytes) await blobs.write(CHECKPOINT, processorId, version, bytes);
  let saved = false;
  try {
    saved = await commit(bytes ? { id: checkpoint.id, takenAt: checkpoint.takenAt, blob: { version, bytes: bytes.length } } : checkpoint as StoredCheckpoint);
  } finally {
    // Older versions (and any a crash left half written) go once this one is current.
    await blobs.deleteAll(CHECKPOINT, processorId, saved && bytes ? version : undefined);
  }
}

export function createProcessorHost(store: Store, log: Logger, now: () => Date = () => new Date()): ProcessorHost {
  return {
    async loadCheckpoint(processorId) {
      const stored = await store.transaction((tx) => tx.get<StoredCheckpoint>(CHECKPOINT, processorId));
      return loadStoredCheckpoint(store.blobs, processorId, stored);
    },
    async saveCheckpoint(processorId, checkpoint) {
      await saveStoredCheckpoint(store.blobs, processorId, checkpoint, (stored) => store.transaction(async (tx) => {
        // A processor deleted while its last checkpoint was in flight keeps no orphan.
        const processor = await tx.get<StoredProcessor>(STREAMS_KIND.processor, processorId);
        if (!processor) return false;
        await tx.put(CHECKPOINT, { id: processorId }, stored);
        // It ran long enough to checkpoint: whatever stopped the server before was not this run.
        if (processor.unconfirmedResumes) await tx.update(STREAMS_KIND.processor, processorId, { ...processor, unconfirmedResumes: 0 });
        return true;
      }));
    },
    async deleteCheckpoint(processorId) {
      await store.transaction(async (tx) => { await tx.delete(CHECKPOINT, processorId); });
      await store.blobs.deleteAll(CHECKPOINT, processorId);
    },
    async markFailed(processorId, message) {
      const changed = await store.transaction(async (tx) => {
        const failed = await markProcessorFailed(tx, processorId, message, now());
        const processor = failed ? await tx.get<StoredProcessor>(STREAMS_KIND.processor, processorId) : undefined;
        if (processor) await logProcessorEvent(tx, processor, 'failed', now(), message);
        return failed;
      });
      log.warn({ processorId, message, changed }, 'processor failed');
    },
  };
}

function processorRef(definition: ProcessorDefinition): Pick<StoredProcessor, '_id' | 'name' | 'groupId' | 'instanceName'> {
  return { _id: definition.id, name: definition.name, groupId: definition.groupId, instanceName: definition.instanceName };
}

/**
 * On start, every processor left STARTED runs again from its last checkpoint, except one
 * that was resumed MAX_UNCONFIRMED_RESUMES times without saving a checkpoint since: it goes
 * FAILED instead, so that a processor that crashes the server cannot crash it at every boot.
 */
export async function resumeStartedProcessors(services: Services): Promise<void> {
  const { store, runner, log } = services;
  const toStart = await store.transaction(async (tx) => {
    const out: Array<{ definition: ProcessorDefinition; runToken?: string }> = [];
    for (const processor of (await tx.listAll<StoredProcessor>(STREAMS_KIND.processor)).items) {
      if (processor.state !== 'STARTED') continue;
      const instance = await instanceOf(tx, processor);
      if (!instance) continue;
      // Rights may have changed while the server was down: the same check as :start.
      const denial = await startDenial(tx, instance, processor, log);
      if (denial) {
        await markProcessorFailed(tx, processor._id, denial, services.now());
        log.warn({ processorId: processor._id, message: denial }, 'processor not resumed');
        continue;
      }
      const resumes = processor.unconfirmedResumes ?? 0;
      if (resumes >= MAX_UNCONFIRMED_RESUMES) {
        log.warn({ processorId: processor._id, name: processor.name, resumes }, 'not resuming a processor that never reached a checkpoint');
        await markProcessorFailed(tx, processor._id, NOT_RESUMED, services.now());
        continue;
      }
      // Counted before it runs: should it take the process down, the next boot knows.
      await tx.update(STREAMS_KIND.processor, processor._id, { ...processor, unconfirmedResumes: resumes + 1 });
      out.push({ definition: await buildDefinition(tx, services, instance, processor), runToken: processor.runToken });
    }
    return out;
  });
  for (const { definition, runToken } of toStart) {
    try {
      await serially(runner, definition.id, () => runner.start(definition, { resumeFromCheckpoint: true }));
      log.info({ processorId: definition.id, name: definition.name }, 'resumed processor');
      await recordProcessorEvent(store, log, processorRef(definition), 'resumed', services.now());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!(error instanceof PipelineError)) log.error({ processorId: definition.id, err: error }, 'resuming a processor failed');
      await store.transaction((tx) => markProcessorFailed(tx, definition.id, message, services.now(), runToken));
      await recordProcessorEvent(store, log, processorRef(definition), 'failed', services.now(), message);
    }
  }
  if (toStart.length === 0) log.debug('no started processors to resume');
}
