import { randomBytes } from 'node:crypto';

/** A 24-hex id shaped like a MongoDB ObjectId: seconds since the epoch, then random bytes. */
export function newObjectId(now = Date.now()): string {
  const time = Math.floor(now / 1000).toString(16).padStart(8, '0');
  return time + randomBytes(8).toString('hex');
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
