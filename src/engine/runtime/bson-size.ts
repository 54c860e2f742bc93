// The BSON size of a document, as the stats count it. bson's calculateObjectSize is
// generic and was a third of the hot path; this computes the same figure for the values
// streams carry (strings, numbers, booleans, null, dates, documents, arrays) and defers
// to bson for anything else.
import { BSON } from 'bson';

export function bsonSize(doc: Record<string, unknown>): number {
  let size = 5;
  for (const key in doc) {
    const value = doc[key];
    if (value === undefined) continue;
    size += 2 + utf8Length(key) + valueSize(value);
  }
  return size;
}

/** The BSON size of one value (as an element's body, without its name). */
export function bsonValueSize(value: unknown): number {
  return value === undefined ? 0 : valueSize(value);
}

function valueSize(value: unknown): number {
  switch (typeof value) {
    case 'string': return 5 + utf8Length(value);
    case 'number': return Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff ? 4 : 8;
    case 'boolean': return 1;
    case 'bigint': return 8;
    case 'object':
      if (value === null) return 0;
      if (Array.isArray(value)) return arraySize(value);
      if (value instanceof Date) return 8;
      if ((value as object).constructor === Object) return bsonSize(value as Record<string, unknown>);
  }
  return BSON.calculateObjectSize({ v: value }) - 8;
}

function arraySize(array: unknown[]): number {
  let size = 5;
  for (let i = 0; i < array.length; i++) {
    const value = array[i];
    size += 2 + (i < 10 ? 1 : String(i).length) + (value === undefined ? 0 : valueSize(value));
  }
  return size;
}

function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}
