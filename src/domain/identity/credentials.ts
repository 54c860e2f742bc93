// Formats of generated credentials.
import { randomBytes } from '../../crypto/ids.js';

/** Atlas public keys are eight lowercase letters. */
export function newPublicKey(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from(randomBytes(8), (b) => letters[b % 26]).join('');
}

export function newClientId(): string {
  return `mdb_sa_id_${randomBytes(12).toString('hex')}`;
}

export function newClientSecret(): string {
  return `mdb_sa_sk_${randomBytes(30).toString('base64url')}`;
}

/** Atlas shows the start of the prefix and the last four characters. */
export function maskedSecret(secret: string): string {
  return `mdb_sa_sk_...${secret.slice(-4)}`;
}

/**
 * Atlas shows the last 12 characters of a private key; the store keeps no part of the key, so
 * every character is masked here (docs/differences-from-atlas.md).
 */
export const MASKED_PRIVATE_KEY = '********-****-****-************';
