// JSON request bodies whose shape cannot reach recursive code unchecked. JSON.parse copes
// with deep nesting, but everything after it (schema validation, the pipeline checks,
// rendering, Array.prototype.toString in an error message) recurses once per level, so a
// body nested a few thousand levels deep would overflow the stack and answer 500. The depth
// is measured on the raw bytes as they arrive, in a loop, before anything parses them.
//
// A large body is also parsed as it arrives: one JSON.parse of a 17 MiB pipeline holds the
// event loop for hundreds of milliseconds (seconds on a busy machine), while parsing each
// socket chunk as it comes leaves the loop free between chunks for every other client.
// Moving JSON.parse to a worker thread would not help: the parsed document would have to be
// rebuilt on this thread by a structured-clone read just as long. @streamparser/json is an
// incremental parser that builds the same values as JSON.parse ("__proto__" stays a plain key).
import { JSONParser } from '@streamparser/json';
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

/**
 * Past this many bytes a body is parsed chunk by chunk as it arrives. Below it, one JSON.parse
 * at the end takes a few milliseconds at most and is quicker than parsing incrementally.
 */
export const INCREMENTAL_JSON_BYTES = 256 * 1024;

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Refused before the body is complete: the rest is not read, so the connection cannot be reused. */
function malformedMidBody(): ApiError {
  return new ApiError('MALFORMED_JSON', [], undefined, { Connection: 'close' });
}

/**
 * A JSON request body as it streams in: its nesting is followed byte by byte, and once it is
 * larger than INCREMENTAL_JSON_BYTES it is parsed chunk by chunk too, so that it is refused
 * as soon as it cannot be JSON and its value is ready when the last chunk is.
 */
export class JsonBody {
  private readonly gauge = new JsonDepthGauge();
  /**
   * How many bytes are kept before parsing as they arrive begins. A body that says it is large
   * (Content-Length) is parsed from its first bytes on: waiting for INCREMENTAL_JSON_BYTES, then
   * parsing them in one go, held the event loop for tens of milliseconds.
   */
  private readonly keptAtMost: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private parser?: JSONParser;
  private parsed?: { value: unknown };
  private ended?: { error?: ApiError };

  /** `declaredBytes`: the body's Content-Length, when it has one. */
  constructor(declaredBytes = NaN) {
    // The first bytes are kept until a byte order mark can be told apart.
    this.keptAtMost = declaredBytes > INCREMENTAL_JSON_BYTES ? UTF8_BOM.length - 1 : INCREMENTAL_JSON_BYTES;
  }

  /** Whether the body is parsed as it arrives: result() then needs none of its bytes. */
  get parsing(): boolean {
    return this.parser !== undefined;
  }

  /** Throws the ApiError that refuses the body (too deep, malformed) as soon as one chunk shows it. */
  feed(chunk: Buffer): void {
    if (!this.gauge.feed(chunk)) throw tooDeep();
    if (this.parser) return this.write(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes <= this.keptAtMost) return;
    const start = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    // JSON.parse refuses a byte order mark, the incremental parser would skip it: refuse it alike.
    if (start.subarray(0, UTF8_BOM.length).equals(UTF8_BOM)) throw malformedMidBody();
    this.parser = new JSONParser({ paths: ['$'], keepStack: false });
    this.parser.onValue = ({ value }) => { this.parsed = { value }; };
    this.write(start);
  }

  private write(chunk: Buffer): void {
    try {
      this.parser!.write(chunk);
    } catch {
      throw malformedMidBody();
    }
  }

  /** The body's value once it was all fed (`raw` is all of it, unless it was parsed as it came), or undefined for a blank body; 400 MALFORMED_JSON when it is not JSON. */
  result(raw: Buffer): { value: unknown } | undefined {
    if (!this.parser) {
      const text = raw.toString('utf8');
      return text.trim() === '' ? undefined : { value: parseJson(text) };
    }
    // Asked again (before the transaction, then in it), it answers as it did the first time.
    if (!this.ended) {
      try {
        if (!this.parser.isEnded) this.parser.end();
        this.ended = {};
      } catch {
        this.ended = { error: new ApiError('MALFORMED_JSON') };
      }
    }
    if (this.ended.error) throw this.ended.error;
    return this.parsed;
  }
}
