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

/**
 * For a loop over a large value: call the answer between steps; it gives way to other events
 * (and resolves once they had their turn) whenever the current slice has run SLICE_MS.
 */
export function sliceBreaks(): () => Promise<void> | undefined {
  let sliceStart = performance.now();
  return () => {
    if (performance.now() - sliceStart <= SLICE_MS) return undefined;
    return nextTurn().then(() => { sliceStart = performance.now(); });
  };
}

/** Iterates `items`, yielding to the event loop whenever a slice has run SLICE_MS. */
async function* inSlices<T>(items: Iterable<T>): AsyncGenerator<T> {
  const sliceBreak = sliceBreaks();
  for (const item of items) {
    yield item;
    await sliceBreak();
  }
}

type Replacer = (this: unknown, key: string, value: unknown) => unknown;

/** JSON.stringify(value, replacer), in texts of about 64 KiB. */
export function jsonTexts(value: unknown, replacer?: Replacer): AsyncGenerator<string> {
  return inSlices(stringifyChunked(value, { highWaterMark: PIECE_BYTES, ...(replacer ? { replacer } : {}) }) as Iterable<string>);
}

/** JSON.stringify(value, replacer)'s UTF-8 bytes, in pieces of about 64 KiB. */
export async function jsonPieces(value: unknown, replacer?: Replacer): Promise<{ pieces: Buffer[]; bytes: number }> {
  const pieces: Buffer[] = [];
  let bytes = 0;
  for await (const text of jsonTexts(value, replacer)) {
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

/** JSON.parse of UTF-8 JSON text, whole or in pieces. */
export async function parseInSlices(data: Uint8Array | readonly Uint8Array[]): Promise<unknown> {
  return parseChunked(inSlices(data instanceof Uint8Array ? piecesOf(data) : data));
}
