import { describe, expect, it } from 'vitest';
import { memoryReplayLedger, storedReplayLedger } from './replay-ledger.js';
import { openSqliteStore } from './sqlite.js';

describe('replay ledger', () => {
  it('in memory: accepts an id once until it expires, then forgets it; complete only since it started', () => {
    const started = 1_000_000;
    const ledger = memoryReplayLedger(started);
    expect(ledger.completeSinceMs).toBe(started);
    expect(ledger.firstUse('n:00000001', started + 300_000, started)).toBe(true);
    expect(ledger.firstUse('n:00000001', started + 300_000, started + 1)).toBe(false);
    expect(ledger.firstUse('n:00000002', started + 300_000, started + 1)).toBe(true);
    // Still refused up to its expiry, wherever the sweep has got to.
    expect(ledger.firstUse('n:00000001', started + 400_000, started + 299_999)).toBe(false);
    // Past its expiry (and a sweep) the mark is gone: the nonce itself is stale by then.
    expect(ledger.firstUse('n:00000001', started + 900_000, started + 420_000)).toBe(true);
    expect(ledger.firstUse('n:00000001', started + 900_000, started + 420_001)).toBe(false);
  });

  it('in the store: accepts an id once, across every user of the store, and leaves the generation as it was', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const generation = store.generation();
    const ledger = storedReplayLedger(store, 'digestNonceUse');
    const other = storedReplayLedger(store, 'digestNonceUse');
    expect(ledger.completeSinceMs).toBe(0);
    expect(await ledger.firstUse('n:00000001', Date.now() + 60_000, Date.now())).toBe(true);
    expect(await other.firstUse('n:00000001', Date.now() + 60_000, Date.now())).toBe(false);
    expect(await other.firstUse('n:00000002', Date.now() + 60_000, Date.now())).toBe(true);
    expect(store.generation()).toBe(generation);
    await store.close();
  });
});
