// Everything the store holds that a request could change, as one comparable text: the
// security tests take it before and after requests that must be refused.
import { KIND } from '../../../src/domain/identity/model.js';
import { STREAMS_KIND } from '../../../src/domain/streams/common.js';
import type { Store } from '../../../src/store/store.js';
import { withoutFields } from '../../../src/testing/without-fields.js';

/**
 * Left out: the replay ledger (every Digest answer adds to it, refused or not), revoked
 * token ids, and the audit trail, which records refused calls on purpose.
 */
export const UNTRACKED = new Set<string>([KIND.digestNonceUse, KIND.revokedToken]);
const KINDS = [...Object.values(KIND), ...Object.values(STREAMS_KIND)].filter((k) => !UNTRACKED.has(k));

/** Fields that move without any request (usage counters): removed before comparing. */
const VOLATILE = new Set(['lastUsed', 'lastUsedAt', 'lastUsedAddress', 'count', 'stats']);

export const stable = (value: unknown): unknown => withoutFields(value, VOLATILE);

/** ignore: kinds that move by themselves in the caller's setting (a running processor's checkpoints). */
export async function storeState(store: Store, ignore: string[] = []): Promise<Record<string, unknown[]>> {
  return store.read(async (tx) => {
    const all: Record<string, unknown[]> = {};
    for (const kind of KINDS.filter((k) => !ignore.includes(k))) all[kind] = (await tx.listAll(kind)).items.map(stable);
    return all;
  });
}
