import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestAuthorizationHeader, digestHa1, digestUriMatches, parseDigestAuthorization, verifyDigestResponse } from './digest.js';
import { makeNonce } from './digest-nonce.js';

const key = randomBytes(32);

describe('Authorization header', () => {
  const fields = 'username="abc", realm="MMS Public API", nonce="n", uri="/a?b=1", response="r", cnonce="c", nc=00000001, qop=auth';

  it('reads every field, quoted or not, names in any case, in any order, empty list elements and spaces around "=" allowed', () => {
    expect(parseDigestAuthorization(`Digest ${fields}`)).toEqual({ username: 'abc', realm: 'MMS Public API', nonce: 'n', uri: '/a?b=1', response: 'r', cnonce: 'c', nc: '00000001', qop: 'auth', algorithm: 'MD5' });
    const shuffled = 'digest QOP=auth , ,NC = 00000001,cnonce="c",Response="r", URI="/a?b=1",nonce="n",realm="MMS Public API",username="abc", algorithm=sha-256,';
    expect(parseDigestAuthorization(shuffled)).toMatchObject({ qop: 'auth', nc: '00000001', uri: '/a?b=1', username: 'abc', algorithm: 'SHA-256' });
  });

  it('takes a backslash in a quoted string as escaping the next character, a quote or a comma included', () => {
    const parsed = parseDigestAuthorization(`Digest ${fields.replace('username="abc"', 'username="a\\"b,c\\\\d"')}`);
    expect(parsed?.username).toBe('a"b,c\\d');
  });

  it('is no credentials when the list is malformed, a required field is missing or the algorithm is another', () => {
    for (const header of [
      `Basic ${fields}`,
      `Digest ${fields.replace('"abc"', '"abc')}`,
      `Digest ${fields.replace('username=', 'username ')}`,
      `Digest ${fields.replace('qop=auth', 'qop=auth junk')}`,
      `Digest ${fields}, ="x"`,
      `Digest ${fields.replace(', nc=00000001', '')}`,
      `Digest ${fields}, algorithm=SHA-512`,
    ]) expect(parseDigestAuthorization(header), header).toBeUndefined();
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
