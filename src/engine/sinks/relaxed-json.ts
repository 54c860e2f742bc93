// Relaxed Extended JSON text of a document, as bson's EJSON.stringify(doc, { relaxed: true })
// writes it, for less. EJSON copies every value into a new tree, tracking each object in a
// list to catch cycles, then stringifies that tree: for a Kafka message it was a quarter of
// the engine's time per message. Here only what has an Extended JSON form (dates, bson
// values) is replaced; strings, numbers, booleans, null, documents and arrays are copied as
// they are, and JSON.stringify writes the result. Anything else (undefined, NaN/Infinity,
// bigint, Map, RegExp, functions, class instances, dates out of range, cycles) goes to
// EJSON.stringify itself, so the text is always EJSON's.
import { BSONValue, EJSON } from 'bson';
import type { Doc } from '../expressions/values.js';

const OPTIONS = { relaxed: true, legacy: false } as const;
/** Relaxed EJSON writes dates in this range as ISO strings, others as {$numberLong}. */
const LAST_ISO_DATE = 253402318800000;
/** Deeper than this, EJSON decides (a cycle, which it reports, or a very deep document). */
const MAX_DEPTH = 100;
/** A value this writer leaves to EJSON. */
const DEFER = Symbol('defer to EJSON');

export function relaxedJson(doc: Doc): string {
  const tree = convert(doc, 0);
  return tree === DEFER ? EJSON.stringify(doc, OPTIONS) : JSON.stringify(tree);
}

function convert(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : DEFER;
    case 'object':
      if (value === null) return value;
      if (depth > MAX_DEPTH) return DEFER;
      if (Array.isArray(value)) return convertArray(value, depth);
      if (value instanceof Date) return convertDate(value);
      if (isPlainObject(value)) return convertDocument(value as Record<string, unknown>, depth);
      // Code and DBRef hold values EJSON converts again; the others are leaves.
      if (value instanceof BSONValue && value._bsontype !== 'Code' && value._bsontype !== 'DBRef') {
        return (value as BSONValue & { toExtendedJSON(options: object): unknown }).toExtendedJSON(OPTIONS);
      }
      return DEFER;
    default:
      return DEFER;
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function convertDocument(doc: Record<string, unknown>, depth: number): unknown {
  // A `_bsontype` field makes EJSON read the document as a bson value (or refuse it).
  if (doc['_bsontype'] !== undefined) return DEFER;
  const out: Record<string, unknown> = {};
  // EJSON walks Object.keys(doc); for...in over own fields visits the same keys in the same
  // order without allocating their array.
  for (const key in doc) {
    if (!Object.hasOwn(doc, key)) continue;
    // Assigning `__proto__` would set the prototype instead of a field.
    if (key === '__proto__') return DEFER;
    const converted = convert(doc[key], depth + 1);
    if (converted === DEFER) return DEFER;
    out[key] = converted;
  }
  return out;
}

function convertArray(array: unknown[], depth: number): unknown {
  const out = new Array<unknown>(array.length);
  for (let i = 0; i < array.length; i++) {
    const converted = convert(array[i], depth + 1);
    if (converted === DEFER) return DEFER;
    out[i] = converted;
  }
  return out;
}

// Formatting a date is costly, and a batch's documents often share one (a message's event time
// and its `_stream_meta.source.ts` are the same date; a producer's batch shares a timestamp).
let lastMillis = Number.NaN;
let lastIso = '';

function convertDate(date: Date): unknown {
  const millis = date.getTime();
  if (!(millis > -1 && millis < LAST_ISO_DATE)) return DEFER;
  if (millis !== lastMillis) {
    const iso = date.toISOString();
    // EJSON leaves out milliseconds that are zero.
    lastIso = millis % 1000 === 0 ? `${iso.slice(0, -5)}Z` : iso;
    lastMillis = millis;
  }
  return { $date: lastIso };
}
