// The engine's callbacks on a runner that holds processors by lease: a checkpoint, or a
// failure, is written only while this runner still holds the processor's lease at the epoch
// it claimed. A runner that stalled past its lease and was replaced cannot overwrite the new
// owner's checkpoint, nor fail a processor that runs fine elsewhere.
import type { Logger } from 'pino';
import type { ProcessorHost } from '../../engine/contract.js';
import type { BlobStore } from '../../store/blob-files.js';
import { LeaseLostError, type Lease, type LeaseStore } from '../../store/postgres-leases.js';
import { commitStatement, postgresTx } from '../../store/postgres.js';
import { noChanges } from '../../store/write-changes.js';
import { CREDENTIAL_FREE_KINDS, STREAMS_KIND } from './common.js';
import { loadStoredCheckpoint, saveStoredCheckpoint, type StoredCheckpoint } from './processor-host.js';
import { markProcessorFailed } from './processors.js';

export function createFencedHost(leases: LeaseStore, blobs: BlobStore, leaseOf: (processorId: string) => Lease | undefined, log: Logger,
  now: () => Date = () => new Date()): ProcessorHost {
  const fenced = async <T>(processorId: string, write: (tx: ReturnType<typeof postgresTx>) => Promise<T>): Promise<T> => {
    const lease = leaseOf(processorId);
    if (!lease) throw new LeaseLostError(`processor ${processorId} is not held by this runner`);
    const changes = noChanges();
    return leases.fenced(lease, (client) => write(postgresTx(client, { changes, credentialFreeKinds: CREDENTIAL_FREE_KINDS })), () => commitStatement(changes));
  };
  return {
    // Reading needs no fence: the new owner reads after its claim committed.
    loadCheckpoint: async (processorId) => loadStoredCheckpoint(blobs, processorId,
      await fenced(processorId, (tx) => tx.get<StoredCheckpoint>(STREAMS_KIND.checkpoint, processorId))),
    saveCheckpoint: (processorId, checkpoint) => saveStoredCheckpoint(blobs, processorId, checkpoint, (stored) => fenced(processorId, async (tx) => {
      if (!(await tx.get(STREAMS_KIND.processor, processorId))) return false;
      await tx.put(STREAMS_KIND.checkpoint, { id: processorId }, stored);
      return true;
    })),
    deleteCheckpoint: async (processorId) => {
      await fenced(processorId, async (tx) => { await tx.delete(STREAMS_KIND.checkpoint, processorId); });
      await blobs.deleteAll(STREAMS_KIND.checkpoint, processorId);
    },
    async markFailed(processorId, message) {
      try {
        const changed = await fenced(processorId, (tx) => markProcessorFailed(tx, processorId, message, now()));
        log.warn({ processorId, message, changed }, 'processor failed');
      } catch (error) {
        if (!(error instanceof LeaseLostError)) throw error;
        log.warn({ processorId, message }, 'a processor this runner no longer holds failed here; its new owner runs it');
      }
    },
  };
}
