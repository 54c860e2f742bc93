import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkNonce, makeNonce, NONCE_LIFETIME_MS } from './digest-nonce.js';

const key = randomBytes(32);
/** The same key as another server process holds it: it checks nonces by their tag alone. */
const sameKeyElsewhere = () => Buffer.from(key);

describe('stateless nonces', () => {
  it('are 32 base64 characters, differ even when issued in the same millisecond, and verify anywhere the key is known', () => {
    const a = makeNonce(key, 1_000_000);
    const b = makeNonce(key, 1_000_000);
    expect(a).toMatch(/^[A-Za-z0-9+/]{32}$/);
    expect(a).not.toBe(b);
    expect(checkNonce(key, a, 1_000_000)).toBe('valid');
    expect(checkNonce(sameKeyElsewhere(), b, 1_000_000)).toBe('valid');
  });

  it('go stale after their lifetime and are refused when forged or from another key, here and elsewhere', () => {
    const nonce = makeNonce(key, 1_000_000);
    for (const checkingKey of [key, sameKeyElsewhere()]) {
      expect(checkNonce(checkingKey, nonce, 1_000_000 + NONCE_LIFETIME_MS)).toBe('valid');
      expect(checkNonce(checkingKey, nonce, 1_000_000 + NONCE_LIFETIME_MS + 1)).toBe('stale');
      expect(checkNonce(checkingKey, nonce, 1_000_000, 1_000_001)).toBe('stale');
    }
    expect(checkNonce(randomBytes(32), nonce, 1_000_000)).toBe('invalid');
    const forged = Buffer.from(nonce, 'base64');
    forged[0] = forged[0]! ^ 1;
    expect(checkNonce(key, forged.toString('base64'), 1_000_000)).toBe('invalid');
    expect(checkNonce(key, 'not a nonce', 1_000_000)).toBe('invalid');
    expect(checkNonce(key, `${nonce.slice(0, 31)}=`, 1_000_000)).toBe('invalid');
  });

  it('issued within a second of one another carry the first one\'s time, never a later or a future one', () => {
    const first = makeNonce(key, 2_000_000);
    const soon = makeNonce(key, 2_000_999);
    const elsewhere = sameKeyElsewhere();
    for (const nonce of [first, soon]) {
      expect(checkNonce(elsewhere, nonce, 2_000_000 + NONCE_LIFETIME_MS)).toBe('valid');
      expect(checkNonce(elsewhere, nonce, 2_000_000 + NONCE_LIFETIME_MS + 1)).toBe('stale');
    }
    const later = makeNonce(key, 2_001_000);
    expect(checkNonce(elsewhere, later, 2_001_000 + NONCE_LIFETIME_MS)).toBe('valid');
    // A clock that went back: the nonce carries the earlier time, not the batch's.
    const earlier = makeNonce(key, 1_990_000);
    expect(checkNonce(elsewhere, earlier, 1_990_000 + NONCE_LIFETIME_MS + 1)).toBe('stale');
    expect(checkNonce(elsewhere, makeNonce(key, 3_000_000 + 10 * 60_000), 3_000_000)).toBe('invalid');
  });

  it('stay valid however many are issued after them (the ones no longer remembered check by their tag)', () => {
    const now = 5_000_000;
    const nonces = Array.from({ length: 10_000 }, () => makeNonce(key, now));
    expect(new Set(nonces).size).toBe(nonces.length);
    expect(nonces.every((nonce) => checkNonce(key, nonce, now) === 'valid')).toBe(true);
  });
});
