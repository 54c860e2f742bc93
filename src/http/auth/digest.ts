// HTTP Digest (RFC 7616) as Atlas speaks it for programmatic API keys (docs/atlas-behaviour.md, "Authentication").
// Nonces are stateless: a timestamp sealed with a tag made from the store's key, so any server
// process sharing that key can check them. Replays are refused by recording each (nonce, nc)
// once (src/store/replay-ledger.ts).
import { createCipheriv, createHmac, hash, randomBytes, timingSafeEqual, type Cipher } from 'node:crypto';
import { fillRandom } from '../../crypto/random-block.js';

export const DIGEST_REALM = 'MMS Public API';
export const NONCE_LIFETIME_MS = 5 * 60 * 1000;

export type DigestAlgorithm = 'MD5' | 'SHA-256';

const HASHES: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

export function digestHash(algorithm: DigestAlgorithm, text: string): string {
  return hash(HASHES[algorithm], text, 'hex');
}

/** HA1 for each algorithm: what the store keeps instead of the private key. */
export function digestHa1(publicKey: string, privateKey: string): { md5: string; sha256: string } {
  const a1 = `${publicKey}:${DIGEST_REALM}:${privateKey}`;
  return { md5: digestHash('MD5', a1), sha256: digestHash('SHA-256', a1) };
}

/**
 * 24 bytes make the 32 base64 characters Atlas's nonces have: 6 of issue time (ms), 6 random
 * (so simultaneous challenges differ), 12 of tag over both.
 */
export function makeNonce(key: Buffer, nowMs: number): string {
  // Every byte is written below.
  const nonce = Buffer.allocUnsafe(24);
  nonce.writeUIntBE(nowMs, 0, 6);
  fillRandom(nonce, 6, 6);
  nonceTag(key, nonce).copy(nonce, 12, 0, 12);
  return nonce.toString('base64');
}

/**
 * The tag: AES-256 of the 12-byte head padded with zeros to one block, first 12 bytes kept. A
 * block cipher on one fixed-length block is a pseudorandom function, so this is a MAC as an
 * HMAC would be; unlike an HMAC (a new OpenSSL context and four hash compressions per nonce,
 * most of what a challenge cost beyond the HTTP exchange) it reuses one cipher context per key.
 * ECB on a single block has none of ECB's weakness (that equal blocks of one message show).
 */
function nonceTag(key: Buffer, nonce: Buffer): Buffer {
  let cipher = nonceCiphers.get(key);
  if (!cipher) {
    // Its own key, derived from the signing key, so that no key serves two algorithms.
    const tagKey = createHmac('sha256', key).update('digest nonce tag').digest();
    cipher = createCipheriv('aes-256-ecb', tagKey, null).setAutoPadding(false);
    nonceCiphers.set(key, cipher);
  }
  nonce.copy(tagBlock, 0, 0, 12);
  // Never finished: with padding off, each update of whole blocks is encrypted on its own.
  return cipher.update(tagBlock);
}

const nonceCiphers = new WeakMap<Buffer, Cipher>();
/** The block a tag is made from: a nonce's head, then 4 zero bytes that stay zero. Used and done with in one synchronous call. */
const tagBlock = Buffer.alloc(16);

export type NonceCheck = 'valid' | 'stale' | 'invalid';

/** issuedSinceMs: a nonce issued earlier is stale (its uses may have been recorded where this process cannot see them). */
export function checkNonce(key: Buffer, nonce: string, nowMs: number, issuedSinceMs = 0): NonceCheck {
  if (nonce.length !== 32) return 'invalid';
  const raw = Buffer.from(nonce, 'base64');
  if (raw.length !== 24 || raw.toString('base64') !== nonce) return 'invalid';
  if (!timingSafeEqual(nonceTag(key, raw).subarray(0, 12), raw.subarray(12))) return 'invalid';
  const issued = raw.readUIntBE(0, 6);
  if (issued > nowMs + 60_000) return 'invalid';
  return nowMs - issued > NONCE_LIFETIME_MS || issued < issuedSinceMs ? 'stale' : 'valid';
}

export function challengeHeader(nonce: string, stale: boolean): string {
  return `Digest realm="${DIGEST_REALM}", domain="", nonce="${nonce}", algorithm=MD5, qop="auth", stale=${stale}`;
}

/** The body Atlas sends with the challenge: Jackson-pretty, in this key order. */
export const CHALLENGE_BODY = '{\n  "error" : 401,\n  "reason" : "Unauthorized",\n  "detail" : "You are not authorized for this resource.",\n  "errorCode" : "UNEXPECTED_ERROR"\n}';

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  cnonce: string;
  nc: string;
  qop: string;
}

const SCHEME = /^Digest\s+/i;
/** One `k=v` or `k="v"` field; global, so each search starts where the last field ended. */
const FIELD = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/g;
const REQUIRED: readonly (keyof DigestCredentials)[] = ['username', 'realm', 'nonce', 'uri', 'response', 'cnonce', 'nc', 'qop'];

/** Parses `Digest k=v, k="v"`; undefined when a field Atlas requires is missing. */
export function parseDigestAuthorization(header: string): DigestCredentials | undefined {
  const scheme = SCHEME.exec(header);
  if (!scheme) return undefined;
  const fields: Record<string, string> = {};
  FIELD.lastIndex = scheme[0].length;
  let part: RegExpExecArray | null;
  while ((part = FIELD.exec(header)) !== null) {
    const quoted = part[2];
    fields[part[1]!.toLowerCase()] = quoted === undefined ? part[3]! : quoted.includes('\\') ? quoted.replace(/\\(.)/g, '$1') : quoted;
  }
  const algorithm = (fields['algorithm'] ?? 'MD5').toUpperCase();
  if (algorithm !== 'MD5' && algorithm !== 'SHA-256') return undefined;
  if (REQUIRED.some((name) => fields[name] === undefined)) return undefined;
  fields['algorithm'] = algorithm;
  return fields as unknown as DigestCredentials;
}

/** The credentials' uri names the request target: as sent, or as an absolute URL of it. */
export function digestUriMatches(uri: string, requestTarget: string): boolean {
  if (uri === requestTarget) return true;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(uri);
  return absolute !== null && (absolute[1] ?? '/') === requestTarget;
}

/** Recomputes the response from the stored HA1 and compares in constant time. */
export function verifyDigestResponse(credentials: DigestCredentials, method: string, ha1: string): boolean {
  const { algorithm, nonce, nc, cnonce, qop, uri, response } = credentials;
  if (qop !== 'auth' || !/^[0-9a-fA-F]{8}$/.test(nc)) return false;
  const ha2 = digestHash(algorithm, `${method}:${uri}`);
  const expected = hash(HASHES[algorithm], `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`, 'buffer');
  // Hex in either case; anything else decodes to fewer bytes (Buffer stops at the first non-hex pair).
  if (response.length !== 2 * expected.length) return false;
  const given = Buffer.from(response, 'hex');
  return given.length === expected.length && timingSafeEqual(expected, given);
}

/** The client side: the Authorization header answering a challenge (the CLI's `watch`, the tests). */
export function digestAuthorizationHeader(request: { method: string; uri: string; username: string; password: string; nonce: string;
  algorithm?: DigestAlgorithm; nc?: string; cnonce?: string }): string {
  const algorithm = request.algorithm ?? 'MD5';
  const nc = request.nc ?? '00000001';
  const cnonce = request.cnonce ?? randomBytes(8).toString('hex');
  const ha1 = digestHash(algorithm, `${request.username}:${DIGEST_REALM}:${request.password}`);
  const ha2 = digestHash(algorithm, `${request.method}:${request.uri}`);
  const response = digestHash(algorithm, `${ha1}:${request.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${request.username}", realm="${DIGEST_REALM}", nonce="${request.nonce}", uri="${request.uri}", ` +
    `response="${response}", algorithm=${algorithm}, cnonce="${cnonce}", nc=${nc}, qop=auth`;
}
