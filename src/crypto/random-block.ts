// Random bytes for the many small draws of a request (an id's 8 bytes, a nonce's 6): one call
// into the CSPRNG for each cost about as much as the rest of making the id or the nonce, so
// they come from a block the CSPRNG fills, each byte handed out once and then cleared. Node has no such pool of
// its own (crypto.randomBytes calls into OpenSSL every time), hence these few lines.
import { randomFillSync } from 'node:crypto';

const block = Buffer.alloc(4096);
let at = block.length;
/** Larger draws go to the CSPRNG directly: the block would be spent for little gain. */
const LARGEST_FROM_BLOCK = 64;

/** Writes count random bytes into target at offset. */
export function fillRandom(target: Buffer, offset: number, count: number): void {
  if (count > LARGEST_FROM_BLOCK) {
    randomFillSync(target, offset, count);
    return;
  }
  if (at + count > block.length) {
    randomFillSync(block);
    at = 0;
  }
  block.copy(target, offset, at, at + count);
  // What was handed out (it may become a secret) is not kept here.
  block.fill(0, at, at + count);
  at += count;
}

export function randomBytesFromBlock(count: number): Buffer {
  const bytes = Buffer.allocUnsafe(count);
  fillRandom(bytes, 0, count);
  return bytes;
}
