// HTTP Digest (RFC 7616) as Atlas speaks it for programmatic API keys (docs/atlas-behaviour.md, "Authentication").
// Nonces are stateless: a timestamp sealed with an HMAC, so any server process sharing the
// store's key can check them. Replays are refused by recording each (nonce, nc) once
// (src/store/replay-ledger.ts).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { fillRandom } from '../../crypto/random-block.js';

export const DIGEST_REALM = 'MMS Public API';
export const NONCE_LIFETIME_MS = 5 * 60 * 1000;

export type DigestAlgorithm = 'MD5' | 'SHA-256';

const HASHES: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

export function digestHash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(HASHES[algorithm]).update(text).digest('hex');
}

/** HA1 for each algorithm: what the store keeps instead of the private key. */
export function digestHa1(publicKey: string, privateKey: string): { md5: string; sha256: string } {
  const a1 = `${publicKey}:${DIGEST_REALM}:${privateKey}`;
  return { md5: digestHash('MD5', a1), sha256: digestHash('SHA-256', a1) };
}

/**
 * 24 bytes make the 32 base64 characters Atlas's nonces have: 6 of issue time (ms), 6 random
 * (so simultaneous challenges differ), 12 of HMAC over both.
 */
export function makeNonce(key: Buffer, nowMs: number): string {
  const head = Buffer.alloc(12);
  head.writeUIntBE(nowMs, 0, 6);
  fillRandom(head, 6, 6);
  return Buffer.concat([head, nonceMac(key, head)]).toString('base64');
}

function nonceMac(key: Buffer, head: Buffer): Buffer {
  return createHmac('sha256', key).update(head).digest().subarray(0, 12);
}

export type NonceCheck = 'valid' | 'stale' | 'invalid';

/** issuedSinceMs: a nonce issued earlier is stale (its uses may have been recorded where this process cannot see them). */
export function checkNonce(key: Buffer, nonce: string, nowMs: number, issuedSinceMs = 0): NonceCheck {
  const raw = Buffer.from(nonce, 'base64');
  if (raw.length !== 24 || raw.toString('base64') !== nonce) return 'invalid';
  const head = raw.subarray(0, 12);
  if (!timingSafeEqual(nonceMac(key, head), raw.subarray(12))) return 'invalid';
  const issued = head.readUIntBE(0, 6);
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

/** Parses `Digest k=v, k="v"`; undefined when a field Atlas requires is missing. */
export function parseDigestAuthorization(header: string): DigestCredentials | undefined {
  const m = /^Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  const pattern = /([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/g;
  let part: RegExpExecArray | null;
  while ((part = pattern.exec(m[1]!)) !== null) {
    const quoted = part[2];
    fields[part[1]!.toLowerCase()] = quoted === undefined ? part[3]! : quoted.includes('\\') ? quoted.replace(/\\(.)/g, '$1') : quoted;
  }
  const algorithm = (fields['algorithm'] ?? 'MD5').toUpperCase();
  if (algorithm !== 'MD5' && algorithm !== 'SHA-256') return undefined;
  const required = ['username', 'realm', 'nonce', 'uri', 'response', 'cnonce', 'nc', 'qop'];
  if (required.some((name) => fields[name] === undefined)) return undefined;
  return { ...(fields as unknown as DigestCredentials), algorithm };
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
  const expected = Buffer.from(digestHash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`));
  const given = Buffer.from(response.toLowerCase());
  return expected.length === given.length && timingSafeEqual(expected, given);
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
