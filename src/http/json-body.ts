// JSON request bodies whose shape cannot reach recursive code unchecked. JSON.parse copes
// with deep nesting, but everything after it (schema validation, the pipeline checks,
// rendering, Array.prototype.toString in an error message) recurses once per level, so a
// body nested a few thousand levels deep would overflow the stack and answer 500. The depth
// is measured on the raw bytes as they arrive, in a loop, before anything parses them.
import { ApiError } from './errors.js';

/**
 * MongoDB refuses BSON documents nested more than 100 levels; a request body wraps a
 * pipeline stage in three more (body, pipeline array, stage), and some slack is left.
 * Every recursive walk in the server is safe far beyond this.
 */
export const MAX_JSON_DEPTH = 128;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Follows the nesting of a JSON text fed in chunks of UTF-8 bytes. Structural characters
 * are ASCII and never occur inside a multi-byte sequence, so bytes can be read one by one
 * whatever the chunk boundaries. Brackets inside strings do not count.
 */
export class JsonDepthGauge {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(readonly limit = MAX_JSON_DEPTH) {}

  /** False as soon as the nesting goes past the limit. */
  feed(chunk: Uint8Array): boolean {
    let { depth, inString, escaped } = this;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (++depth > this.limit) return false;
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return true;
  }
}

/** 400 INVALID_JSON: well-formed JSON, but nested deeper than any operation accepts. */
export function tooDeep(): ApiError {
  return new ApiError('INVALID_JSON', [], [{ field: 'body', description: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` }], { Connection: 'close' });
}

/** Text already read through a JsonDepthGauge; 400 MALFORMED_JSON when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('MALFORMED_JSON');
  }
}
