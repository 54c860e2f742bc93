// Ids and issued credentials (ObjectIds, API keys, service account ids and secrets, database
// user passwords). Random by default; inside `withDeterministicIds(seed, ...)` they come from
// that seed instead, so two servers started with the same seed that receive the same calls
// hand out the same ids and secrets (a test can then hard-code them, or diff two runs).
//
// The seed travels in an AsyncLocalStorage rather than as a parameter because ids are made
// deep inside the domain modules, and two emulators in one process (two test files' servers)
// must each keep their own sequence. Cryptographic material that is not an identifier (key
// file, nonces, salts, IVs, token ids) stays random whatever the seed.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHmac } from 'node:crypto';
import { randomBytesFromBlock } from './random-block.js';

/**
 * Bytes from HMAC-SHA256(seed, counter) in counter mode: a dozen lines, where a seeded PRNG
 * package would add a dependency for the same thing.
 */
class DeterministicSource {
  private counter = 0;
  private objectIdOrdinal = 0;

  constructor(private readonly seed: string) {}

  bytes(count: number): Buffer {
    const chunks: Buffer[] = [];
    for (let have = 0; have < count; have += 32) {
      chunks.push(createHmac('sha256', this.seed).update(String(this.counter++)).digest());
    }
    return Buffer.concat(chunks).subarray(0, count);
  }

  /** Seconds for the next ObjectId: a fixed start, one second apart, so ids stay in creation order. */
  nextObjectIdSeconds(): number {
    return DETERMINISTIC_EPOCH_SECONDS + this.objectIdOrdinal++;
  }
}

/** 2026-01-01T00:00:00Z: where deterministic ObjectIds' timestamps start. */
const DETERMINISTIC_EPOCH_SECONDS = 1_767_225_600;

const deterministic = new AsyncLocalStorage<DeterministicSource>();

export interface IdSource {
  /** Runs fn (and everything it starts asynchronously) with this source's ids. */
  run<T>(fn: () => T): T;
}

/** Random ids: fn runs as it is. */
export const RANDOM_IDS: IdSource = { run: (fn) => fn() };

/** The source a server runs its startup and each request in; random without a seed. */
export function idSource(seed: string | undefined): IdSource {
  if (seed === undefined) return RANDOM_IDS;
  const source = new DeterministicSource(seed);
  return { run: (fn) => deterministic.run(source, fn) };
}

export function randomBytes(count: number): Buffer {
  return deterministic.getStore()?.bytes(count) ?? randomBytesFromBlock(count);
}

/** A 24-hex id shaped like a MongoDB ObjectId: seconds since the epoch, then random bytes. */
export function newObjectId(now = Date.now()): string {
  const seconds = deterministic.getStore()?.nextObjectIdSeconds() ?? Math.floor(now / 1000);
  return seconds.toString(16).padStart(8, '0') + randomBytes(8).toString('hex');
}

/** A version 4 UUID (the shape of Atlas's private API keys). */
export function newUuid(): string {
  const bytes = randomBytes(16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
