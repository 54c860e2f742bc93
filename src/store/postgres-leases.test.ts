// Leases as runners see them: one holder at a time, and a holder whose lease was taken over
// can no longer write under it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError, leaseStore } from './postgres-leases.js';
import { SKIP_MESSAGE, storeForSuite, testDatabaseUrl } from '../testing/postgres.js';

const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);

describe.skipIf(!serverUrl)('processor leases', () => {
  const store = storeForSuite(serverUrl!, { beforeAll, afterAll });

  it('runners claiming together split the processors; none is claimed twice', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `p${i}`);
    const runners = ['r1', 'r2', 'r3'].map((id) => leaseStore(store().pool, id, 5000));
    const claims = await Promise.all(runners.map((r) => r.claim(ids, 10)));
    const claimed = claims.flat().map((l) => l.processorId).sort();
    expect(claimed).toEqual([...ids].sort());
  });

  it('fences a holder out once its expired lease is claimed under a new epoch', async () => {
    const old = leaseStore(store().pool, 'old', 1);
    const [lease] = await old.claim(['fenced'], 1);
    expect(lease).toEqual({ processorId: 'fenced', epoch: 1 });
    expect(await old.fenced(lease!, async () => 'written')).toBe('written');
    await new Promise((r) => setTimeout(r, 20));
    const next = leaseStore(store().pool, 'new', 5000);
    expect(await next.claim(['fenced'], 1)).toEqual([{ processorId: 'fenced', epoch: 2 }]);
    await expect(old.fenced(lease!, async () => 'written')).rejects.toBeInstanceOf(LeaseLostError);
    expect((await old.renew()).map((l) => l.processorId)).not.toContain('fenced');
  });
});
