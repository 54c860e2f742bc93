// SCRAM (RFC 5802/7677) as MongoDB uses it: the stored form of a password, and the
// primitives of the exchange. Database users' passwords are kept only in this form (salt,
// iteration count, StoredKey, ServerKey), from which a password cannot be read back.
//
// Written on node:crypto: npm has client-side SCRAM helpers (the driver's own, XMPP's) but no
// maintained server-side one, and the server side is a few HMACs and one PBKDF2 per mechanism.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import saslprep from '@mongodb-js/saslprep';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-1', 'SCRAM-SHA-256'];

export interface ScramCredential {
  /** base64 */
  salt: string;
  iterationCount: number;
  /** base64 H(ClientKey) */
  storedKey: string;
  /** base64 HMAC(SaltedPassword, "Server Key") */
  serverKey: string;
}

export type ScramCredentials = Record<ScramMechanism, ScramCredential>;

/** MongoDB's defaults (scramSHA1IterationCount, scramSHA256IterationCount); the minimum is 4096. */
const ITERATIONS: Record<ScramMechanism, number> = { 'SCRAM-SHA-1': 10_000, 'SCRAM-SHA-256': 15_000 };
const HASH: Record<ScramMechanism, { name: 'sha1' | 'sha256'; bytes: number }> = {
  'SCRAM-SHA-1': { name: 'sha1', bytes: 20 },
  'SCRAM-SHA-256': { name: 'sha256', bytes: 32 },
};

export function hashName(mechanism: ScramMechanism): 'sha1' | 'sha256' {
  return HASH[mechanism].name;
}

export function hmac(mechanism: ScramMechanism, key: Buffer, text: string): Buffer {
  return createHmac(HASH[mechanism].name, key).update(text).digest();
}

export function digest(mechanism: ScramMechanism, data: Buffer): Buffer {
  return createHash(HASH[mechanism].name).update(data).digest();
}

/**
 * The password as each mechanism hashes it: SCRAM-SHA-1 in MongoDB uses the legacy
 * MD5("user:mongo:password") digest; SCRAM-SHA-256 uses the SASLprep'd password.
 */
function preparedPassword(mechanism: ScramMechanism, username: string, password: string): string {
  if (mechanism === 'SCRAM-SHA-1') return createHash('md5').update(`${username}:mongo:${password}`).digest('hex');
  return saslprep(password);
}

export function deriveCredential(mechanism: ScramMechanism, username: string, password: string, iterationCount = ITERATIONS[mechanism],
  salt = randomBytes(mechanism === 'SCRAM-SHA-1' ? 16 : 28)): ScramCredential {
  const salted = pbkdf2Sync(preparedPassword(mechanism, username, password), salt, iterationCount, HASH[mechanism].bytes, HASH[mechanism].name);
  const clientKey = hmac(mechanism, salted, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterationCount,
    storedKey: digest(mechanism, clientKey).toString('base64'),
    serverKey: hmac(mechanism, salted, 'Server Key').toString('base64'),
  };
}

/** Both mechanisms' stored credentials for a new or changed password. */
export function deriveCredentials(username: string, password: string): ScramCredentials {
  return {
    'SCRAM-SHA-1': deriveCredential('SCRAM-SHA-1', username, password),
    'SCRAM-SHA-256': deriveCredential('SCRAM-SHA-256', username, password),
  };
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ (b[i] ?? 0);
  return out;
}

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a password (sent once over HTTP by the web console) matches a stored credential. */
export function passwordMatches(mechanism: ScramMechanism, stored: ScramCredential, username: string, password: string): boolean {
  const derived = deriveCredential(mechanism, username, password, stored.iterationCount, Buffer.from(stored.salt, 'base64'));
  return constantTimeEqual(Buffer.from(derived.storedKey, 'base64'), Buffer.from(stored.storedKey, 'base64'));
}
