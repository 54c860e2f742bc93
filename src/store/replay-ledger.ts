// Single-use marks (a Digest nonce with its count): the first use of an id is accepted, any
// later one refused until the mark expires. Nodes sharing PostgreSQL record marks in the
// database (postgres-replay-ledger.ts), so that an answer used at one node is refused at every
// other. One process holding its SQLite store alone (the data-dir lock) keeps them in memory: a
// store write per Digest call was most of what a call cost beyond a bearer GET, and the answer
// comes at once.

export interface ReplayLedger {
  /** Records id until expiresAtMs; false when it was recorded already (a replay). At once when kept in memory. */
  firstUse(id: string, expiresAtMs: number, nowMs: number): boolean | Promise<boolean>;
  /**
   * Epoch ms since which every use is recorded here: 0 for marks that outlive the process;
   * the ledger's start for marks in memory, which cannot say whether an answer was used
   * before a restart. Callers refuse what may be older (a Digest nonce issued earlier goes
   * stale, and the client asks for a new one).
   */
  readonly completeSinceMs: number;
}

/** Marks are grouped by the minute they expire in, so that expired ones go a group at a time, not one by one. */
const SLOT_MS = 60_000;

/**
 * About 100 bytes a mark, kept until its nonce expires (5 minutes): a megabyte for every
 * 10,000 Digest calls of the last few minutes. Only an answer that proves the key adds one.
 */
export function memoryReplayLedger(startedAtMs: number): ReplayLedger {
  const slots = new Map<number, Set<string>>();
  let swept = startedAtMs;
  return {
    completeSinceMs: startedAtMs,
    firstUse(id, expiresAtMs, nowMs) {
      if (nowMs - swept >= SLOT_MS) {
        swept = nowMs;
        // A slot holds marks expiring before its end: all gone once its end has passed.
        for (const slot of slots.keys()) if ((slot + 1) * SLOT_MS <= nowMs) slots.delete(slot);
      }
      for (const marks of slots.values()) if (marks.has(id)) return false;
      const slot = Math.floor(expiresAtMs / SLOT_MS);
      let marks = slots.get(slot);
      if (!marks) slots.set(slot, (marks = new Set()));
      marks.add(id);
      return true;
    },
  };
}
