import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkNonce, digestAuthorizationHeader, digestHa1, digestUriMatches, makeNonce, NONCE_LIFETIME_MS, parseDigestAuthorization, verifyDigestResponse } from './digest.js';

const key = randomBytes(32);

describe('stateless nonces', () => {
  it('are 32 base64 characters, differ even when issued in the same millisecond, and verify anywhere the key is known', () => {
    const a = makeNonce(key, 1_000_000);
    const b = makeNonce(key, 1_000_000);
    expect(a).toMatch(/^[A-Za-z0-9+/]{32}$/);
    expect(a).not.toBe(b);
    expect(checkNonce(key, a, 1_000_000)).toBe('valid');
  });

  it('go stale after their lifetime and are refused when forged or from another key', () => {
    const nonce = makeNonce(key, 1_000_000);
    expect(checkNonce(key, nonce, 1_000_000 + NONCE_LIFETIME_MS)).toBe('valid');
    expect(checkNonce(key, nonce, 1_000_000 + NONCE_LIFETIME_MS + 1)).toBe('stale');
    expect(checkNonce(randomBytes(32), nonce, 1_000_000)).toBe('invalid');
    const forged = Buffer.from(nonce, 'base64');
    forged[0] = forged[0]! ^ 1;
    expect(checkNonce(key, forged.toString('base64'), 1_000_000)).toBe('invalid');
    expect(checkNonce(key, 'not a nonce', 1_000_000)).toBe('invalid');
  });
});

describe('answers', () => {
  it('verify with the stored HA1 for MD5 and SHA-256, and not with another password', () => {
    for (const algorithm of ['MD5', 'SHA-256'] as const) {
      const nonce = makeNonce(key, Date.now());
      const header = digestAuthorizationHeader({ method: 'DELETE', uri: '/api/atlas/v2/x?pretty=true', username: 'abcdefgh', password: 'secret', nonce, algorithm });
      const credentials = parseDigestAuthorization(header)!;
      const ha1 = digestHa1('abcdefgh', 'secret');
      expect(verifyDigestResponse(credentials, 'DELETE', algorithm === 'MD5' ? ha1.md5 : ha1.sha256)).toBe(true);
      expect(verifyDigestResponse(credentials, 'GET', algorithm === 'MD5' ? ha1.md5 : ha1.sha256)).toBe(false);
      const other = digestHa1('abcdefgh', 'other');
      expect(verifyDigestResponse(credentials, 'DELETE', algorithm === 'MD5' ? other.md5 : other.sha256)).toBe(false);
    }
  });

  it('verify in either case of hex, and not when the response is not hex or has another length', () => {
    const nonce = makeNonce(key, Date.now());
    const header = digestAuthorizationHeader({ method: 'GET', uri: '/api/atlas/v2', username: 'abcdefgh', password: 'secret', nonce });
    const credentials = parseDigestAuthorization(header)!;
    const { md5 } = digestHa1('abcdefgh', 'secret');
    const { response } = credentials;
    expect(verifyDigestResponse({ ...credentials, response: response.toUpperCase() }, 'GET', md5)).toBe(true);
    for (const wrong of [`${response.slice(0, -2)}zz`, response.slice(0, -2), `${response}00`, '']) {
      expect(verifyDigestResponse({ ...credentials, response: wrong }, 'GET', md5)).toBe(false);
    }
  });

  it('match the request target as sent or as an absolute URL', () => {
    expect(digestUriMatches('/a?b=1', '/a?b=1')).toBe(true);
    expect(digestUriMatches('https://host:1/a?b=1', '/a?b=1')).toBe(true);
    expect(digestUriMatches('/a', '/a?b=1')).toBe(false);
  });
});
