// JSON.stringify and JSON.parse of large values (a 16 MB pipeline) in slices that give way to
// other events: one synchronous pass over 16 MB holds the event loop for hundreds of
// milliseconds on a busy machine, during which no other client is answered.
// @discoveryjs/json-ext writes the same text as JSON.stringify, and parses in pieces; the
// slicing (when to yield) is ours.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseChunked, stringifyChunked } from '@discoveryjs/json-ext';

/** How long one synchronous slice may run before other events get their turn. */
const SLICE_MS = 8;
const PIECE_BYTES = 64 * 1024;

/** Iterates `items`, yielding to the event loop whenever a slice has run SLICE_MS. */
async function* inSlices<T>(items: Iterable<T>): AsyncGenerator<T> {
  let sliceStart = performance.now();
  for (const item of items) {
    yield item;
    if (performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

/** JSON.stringify(value, replacer)'s UTF-8 bytes, in pieces of about 64 KiB. */
export async function jsonPieces(value: unknown, replacer?: (this: unknown, key: string, value: unknown) => unknown): Promise<{ pieces: Buffer[]; bytes: number }> {
  const pieces: Buffer[] = [];
  let bytes = 0;
  for await (const text of inSlices(stringifyChunked(value, { highWaterMark: PIECE_BYTES, ...(replacer ? { replacer } : {}) }) as Iterable<string>)) {
    const piece = Buffer.from(text, 'utf8');
    pieces.push(piece);
    bytes += piece.length;
  }
  return { pieces, bytes };
}

/** `data` in pieces of about 64 KiB (views, not copies). */
export function* piecesOf(data: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < data.length; at += PIECE_BYTES) yield data.subarray(at, at + PIECE_BYTES);
}

/** JSON.parse of UTF-8 JSON text. */
export async function parseInSlices(data: Uint8Array): Promise<unknown> {
  return parseChunked(inSlices(piecesOf(data)));
}
