import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresReplayLedger } from './postgres-replay-ledger.js';
import { memoryReplayLedger } from './replay-ledger.js';
import { SKIP_MESSAGE, storeForSuite, testDatabaseUrl } from '../testing/postgres.js';

const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);

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
});

describe.skipIf(!serverUrl)('replay ledger in PostgreSQL', () => {
  const suiteStore = storeForSuite(serverUrl!, { beforeAll, afterAll });

  it('accepts an id once across every node sharing the database, and leaves the generation as it was', async () => {
    const store = suiteStore();
    const generation = store.generation();
    const ledger = postgresReplayLedger(store.pool, 'digestNonceUse');
    const otherNode = postgresReplayLedger(store.pool, 'digestNonceUse');
    expect(ledger.completeSinceMs).toBe(0);
    expect(await ledger.firstUse('n:00000001', Date.now() + 60_000, Date.now())).toBe(true);
    expect(await otherNode.firstUse('n:00000001', Date.now() + 60_000, Date.now())).toBe(false);
    expect(await otherNode.firstUse('n:00000002', Date.now() + 60_000, Date.now())).toBe(true);
    expect(store.generation()).toBe(generation);
  });

  it('uses arriving together are written in one transaction; each id is still accepted exactly once', async () => {
    const store = suiteStore();
    const ledger = postgresReplayLedger(store.pool, 'digestNonceUse');
    const expires = Date.now() + 60_000;
    // 20 ids used twice in the same tick (the second use a replay), then once more after.
    const ids = Array.from({ length: 20 }, (_, i) => `batch:${i}`);
    const first = ids.map((id) => ledger.firstUse(id, expires, Date.now()));
    const replays = ids.map((id) => ledger.firstUse(id, expires, Date.now()));
    expect(await Promise.all(first)).toEqual(ids.map(() => true));
    expect(await Promise.all(replays)).toEqual(ids.map(() => false));
    expect(await Promise.all(ids.map((id) => ledger.firstUse(id, expires, Date.now())))).toEqual(ids.map(() => false));
    // Rows written by one transaction share its id (xmin).
    const { rows } = await store.pool.query<{ transactions: string }>(
      "SELECT count(DISTINCT xmin::text) AS transactions FROM entities WHERE kind = 'digestNonceUse' AND id LIKE 'batch:%'");
    expect(Number(rows[0]!.transactions)).toBe(1);
  });

  it('the periodic sweep deletes expired marks, after which their ids are new again', async () => {
    const store = suiteStore();
    const ledger = postgresReplayLedger(store.pool, 'digestNonceUse');
    expect(await ledger.firstUse('old:00000001', Date.now() - 1, Date.now())).toBe(true);
    expect(await store.transaction((tx) => tx.deleteExpired('digestNonceUse', Date.now()))).toBeGreaterThanOrEqual(1);
    expect(await ledger.firstUse('old:00000001', Date.now() + 60_000, Date.now())).toBe(true);
  });
});
