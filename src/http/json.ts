// Atlas's JSON: compact, object keys in alphabetical order where the server owns the
// object, the caller's own order inside documents the caller wrote, and Jackson's
// DefaultPrettyPrinter layout for pretty=true.

const userOrdered = new WeakSet<object>();

/**
 * JSON text already written (a large stored pipeline's bytes, src/domain/streams/pipeline-blobs.ts):
 * a compact response splices it in as it is. Parsing and re-stringifying 16 MB of it would
 * hold the event loop for hundreds of milliseconds, and so would encoding it as one string.
 */
export class RawJson {
  constructor(readonly chunks: readonly Uint8Array[]) {}

  /** The value itself: only pretty printing, which lays every value out anew, needs it. */
  parse(): unknown {
    return JSON.parse(Buffer.concat(this.chunks).toString('utf8'));
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
    if (!raws) return Buffer.concat(value.chunks).toString('utf8');
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
  return pretty(sort ? canonical(value) : value, 0);
}

function pretty(value: unknown, depth: number): string {
  if (value instanceof RawJson) return pretty(value.parse(), depth);
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    return `[ ${value.map((v) => pretty(v ?? null, depth)).join(', ')} ]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{ }';
  const inner = '  '.repeat(depth + 1);
  const lines = entries.map(([k, v]) => `${inner}${JSON.stringify(k)} : ${pretty(v, depth + 1)}`);
  return `{\n${lines.join(',\n')}\n${'  '.repeat(depth)}}`;
}
