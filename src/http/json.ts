// Atlas's JSON: compact, object keys in alphabetical order where the server owns the
// object, the caller's own order inside documents the caller wrote, and Jackson's
// DefaultPrettyPrinter layout for pretty=true.

import { parseInSlices, piecesOf, sliceBreaks } from '../engine/runtime/sliced-json.js';

const userOrdered = new WeakSet<object>();

/**
 * JSON text already written (a large stored pipeline's bytes, src/domain/streams/pipeline-blobs.ts):
 * a compact response splices it in as it is. Parsing and re-stringifying 16 MB of it would
 * hold the event loop for hundreds of milliseconds, and so would encoding it as one string.
 */
export class RawJson {
  /**
   * `bytes` may be a store's own (BlobStore.read): nothing here changes them. A wire reply hands
   * them to its worker thread (large-frames.ts), after a copy where a store keeps them (render.ts).
   */
  constructor(readonly bytes: Uint8Array) {}

  /** The bytes in pieces of about 64 KiB (views), as a response writes them. */
  get chunks(): Uint8Array[] {
    return [...piecesOf(this.bytes)];
  }

  /** The value itself: only pretty printing, which lays every value out anew, needs it. */
  parse(): unknown {
    return JSON.parse(Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString('utf8'));
  }
}

// compactJson writes RawJson as this character and its index: JSON text can never hold a raw
// NUL (JSON.stringify escapes every control character), so splitting on it finds them alone.
const RAW_MARK = '\u0000';

/** Marks a caller-written document (a pipeline, a Kafka config): its key order is kept as written. */
export function keepOrder<T>(value: T): T {
  if (value !== null && typeof value === 'object') userOrdered.add(value);
  return value;
}

/** Rebuilds value with sorted keys, except below keepOrder() marks. Drops undefined like JSON does. */
export function canonical(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (userOrdered.has(value) || value instanceof RawJson) return value;
  if (Array.isArray(value)) return value.map(canonical);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = canonical(v);
  }
  return out;
}

/**
 * JSON.stringify(canonical(value)) without building the sorted copy: keys are sorted as they
 * are written. Every response goes through here, so it must not allocate a second document.
 */
export function compactJson(value: unknown): string {
  // Like JSON.stringify, undefined has no text.
  return write(value) as string;
}

/** compactJson's text in pieces: the text around each RawJson, and the RawJson's own bytes. */
export function compactJsonParts(value: unknown): Array<string | Uint8Array> {
  const raws: RawJson[] = [];
  const text = write(value, raws) as string;
  if (raws.length === 0) return [text];
  const parts: Array<string | Uint8Array> = [];
  text.split(RAW_MARK).forEach((piece, index) => {
    if (index === 0) {
      parts.push(piece);
      return;
    }
    const digits = /^\d+/.exec(piece)![0];
    parts.push(...raws[Number(digits)]!.chunks, piece.slice(digits.length));
  });
  return parts;
}

/** JSON.stringify's rules (toJSON, undefined and functions dropped, non-finite numbers null). */
function write(value: unknown, raws?: RawJson[]): string | undefined {
  if (value instanceof RawJson) {
    // Without raws (compactJson), the one string is wanted: the bytes are decoded into it.
    if (!raws) return Buffer.from(value.bytes.buffer, value.bytes.byteOffset, value.bytes.byteLength).toString('utf8');
    raws.push(value);
    return `${RAW_MARK}${raws.length - 1}`;
  }
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string': return JSON.stringify(value);
    case 'number': return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean': return value ? 'true' : 'false';
    case 'object': break;
    case 'bigint': return JSON.stringify(value); // throws, like JSON.stringify
    default: return undefined;
  }
  if (value === null) return 'null';
  if (userOrdered.has(value)) return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + (write(value[i], raws) ?? 'null');
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const key of Object.keys(value).sort()) {
    const text = write((value as Record<string, unknown>)[key], raws);
    if (text === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}

/** Jackson DefaultPrettyPrinter: objects broken over lines, arrays inline, `"key" : value`, `[ ]`/`{ }` when empty. */
export function prettyJson(value: unknown, sort = true): string {
  const steps = prettySteps(sort ? canonical(value) : value);
  let text = '';
  for (let step = steps.next(); !step.done;) {
    if (typeof step.value === 'string') {
      text += step.value;
      step = steps.next();
    } else step = steps.next(step.value.parse());
  }
  return text;
}

/**
 * prettyJson's text as UTF-8 pieces, written in slices that give way to other events: a large
 * stored pipeline (RawJson) is parsed in slices, then laid out a piece at a time. In one go,
 * pretty printing 16 MB held the event loop for seconds on a busy machine.
 */
export async function prettyJsonParts(value: unknown): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  const sliceBreak = sliceBreaks();
  const steps = prettySteps(canonical(value));
  for (let step = steps.next(); !step.done;) {
    if (typeof step.value === 'string') {
      parts.push(Buffer.from(step.value, 'utf8'));
      step = steps.next();
    } else step = steps.next(await parseInSlices(step.value.bytes));
    await sliceBreak();
  }
  return parts;
}

/** Pretty text pieces flush at about this many characters. */
const PRETTY_PIECE_CHARS = 64 * 1024;

/**
 * The pretty text in pieces of about PRETTY_PIECE_CHARS. At a RawJson it yields the RawJson
 * and goes on with the parsed value the caller passes back to next(): parsing it is the
 * caller's choice (at once, or in slices).
 */
function* prettySteps(root: unknown): Generator<string | RawJson, void, unknown> {
  let text = '';
  function* write(value: unknown, depth: number): Generator<string | RawJson, void, unknown> {
    if (value instanceof RawJson) {
      if (text) yield text;
      text = '';
      yield* write(yield value, depth);
      return;
    }
    if (value === null || typeof value !== 'object') {
      text += JSON.stringify(value) ?? 'null';
      return;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) {
        text += '[ ]';
        return;
      }
      text += '[ ';
      for (let i = 0; i < value.length; i++) {
        if (i) text += ', ';
        yield* write(value[i] ?? null, depth);
        if (text.length >= PRETTY_PIECE_CHARS) {
          yield text;
          text = '';
        }
      }
      text += ' ]';
      return;
    }
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) {
      text += '{ }';
      return;
    }
    const inner = '  '.repeat(depth + 1);
    text += '{\n';
    for (const [i, [key, v]] of entries.entries()) {
      text += `${i ? ',\n' : ''}${inner}${JSON.stringify(key)} : `;
      yield* write(v, depth + 1);
    }
    text += `\n${'  '.repeat(depth)}}`;
  }
  yield* write(root, 0);
  if (text) yield text;
}
