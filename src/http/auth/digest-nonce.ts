// Digest nonces. Stateless: a timestamp sealed with a tag made from the store's key, so any
// server process sharing that key can check them. Every Digest call makes one (its challenge)
// and checks one (its answer), so both are made cheap: nonces are minted in batches (one
// cipher call seals a batch), and a process remembers the nonces it issued lately, whose
// answers it then checks without the cipher.
import { createCipheriv, createHmac, randomFillSync, timingSafeEqual, type Cipher } from 'node:crypto';

export const NONCE_LIFETIME_MS = 5 * 60 * 1000;

export type NonceCheck = 'valid' | 'stale' | 'invalid';

/** A nonce issued within this long of a batch's making carries the batch's time: its lifetime is at most this much shorter. */
const BATCH_FOR_MS = 1000;
const NONCES_PER_BATCH = 64;
/** Nonces remembered in each of two generations: more than a burst's clients ask for between challenge and answer. */
const REMEMBERED_PER_GENERATION = 4096;
/** A 16-byte block: 6 bytes of issue time (ms), 6 random (so simultaneous challenges differ), 4 zero. */
const BLOCK = 16;
const HEAD = 12;
/** 24 bytes make the 32 base64 characters Atlas's nonces have: the head, then 12 bytes of its tag. */
const NONCE_BYTES = 24;

/** A nonce signed with key, issued at nowMs (at most BATCH_FOR_MS earlier: see above). */
export function makeNonce(key: Buffer, nowMs: number): string {
  return mintOf(key).issue(nowMs);
}

/** issuedSinceMs: a nonce issued earlier is stale (its uses may have been recorded where this process cannot see them). */
export function checkNonce(key: Buffer, nonce: string, nowMs: number, issuedSinceMs = 0): NonceCheck {
  const issued = mintOf(key).issuedAt(nonce);
  if (issued === undefined || issued > nowMs + 60_000) return 'invalid';
  return nowMs - issued > NONCE_LIFETIME_MS || issued < issuedSinceMs ? 'stale' : 'valid';
}

const mints = new WeakMap<Buffer, NonceMint>();

function mintOf(key: Buffer): NonceMint {
  let mint = mints.get(key);
  if (!mint) mints.set(key, (mint = new NonceMint(key)));
  return mint;
}

class NonceMint {
  /**
   * The tag is AES-256 of the head padded with zeros to one block, first 12 bytes kept. A block
   * cipher on one fixed-length block is a pseudorandom function, so this is a MAC as an HMAC
   * would be; unlike an HMAC it seals a whole batch in one call, each block on its own (ECB on
   * blocks that are each a message has none of ECB's weakness, that equal blocks of one message
   * show). With padding off the cipher is never finished: each update is complete in itself.
   */
  private readonly cipher: Cipher;
  private batch: string[] = [];
  private batchMs = 0;
  private recent = new Map<string, number>();
  private older = new Map<string, number>();
  /** The block a nonce from elsewhere is checked in: reused, its last 4 bytes stay zero. */
  private readonly checkBlock = Buffer.alloc(BLOCK);

  constructor(key: Buffer) {
    // Its own key, derived from the signing key, so that no key serves two algorithms.
    const tagKey = createHmac('sha256', key).update('digest nonce tag').digest();
    this.cipher = createCipheriv('aes-256-ecb', tagKey, null).setAutoPadding(false);
  }

  issue(nowMs: number): string {
    if (this.batch.length === 0 || nowMs < this.batchMs || nowMs - this.batchMs >= BATCH_FOR_MS) this.refill(nowMs);
    const nonce = this.batch.pop()!;
    this.remember(nonce, this.batchMs);
    return nonce;
  }

  /** When the nonce was issued, if it was issued with this key; undefined for anything else. */
  issuedAt(nonce: string): number | undefined {
    const known = this.recent.get(nonce) ?? this.older.get(nonce);
    if (known !== undefined) return known;
    if (nonce.length !== 32) return undefined;
    const raw = Buffer.from(nonce, 'base64');
    if (raw.length !== NONCE_BYTES || raw.toString('base64') !== nonce) return undefined;
    raw.copy(this.checkBlock, 0, 0, HEAD);
    const tag = this.cipher.update(this.checkBlock);
    return timingSafeEqual(tag.subarray(0, HEAD), raw.subarray(HEAD)) ? raw.readUIntBE(0, 6) : undefined;
  }

  private refill(nowMs: number): void {
    const blocks = Buffer.alloc(NONCES_PER_BATCH * BLOCK);
    randomFillSync(blocks);
    for (let at = 0; at < blocks.length; at += BLOCK) {
      blocks.writeUIntBE(nowMs, at, 6);
      blocks.fill(0, at + HEAD, at + BLOCK);
    }
    const tags = this.cipher.update(blocks);
    const nonces = Buffer.allocUnsafe(NONCES_PER_BATCH * NONCE_BYTES);
    this.batch = [];
    for (let i = 0; i < NONCES_PER_BATCH; i++) {
      blocks.copy(nonces, i * NONCE_BYTES, i * BLOCK, i * BLOCK + HEAD);
      tags.copy(nonces, i * NONCE_BYTES + HEAD, i * BLOCK, i * BLOCK + HEAD);
      this.batch.push(nonces.toString('base64', i * NONCE_BYTES, (i + 1) * NONCE_BYTES));
    }
    this.batchMs = nowMs;
  }

  /** Two generations: the older one is dropped whole when the newer fills, so memory stays bounded without a per-entry expiry. */
  private remember(nonce: string, issuedMs: number): void {
    if (this.recent.size >= REMEMBERED_PER_GENERATION) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(nonce, issuedMs);
  }
}
