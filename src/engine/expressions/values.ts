// Value helpers shared by the expression and filter compilers. Ordering follows MongoDB's
// BSON comparison order (bson-order.ts; mingo differs across types), with fast paths
// where both sides are numbers or strings. Equality defers to mingo.
import { isEqual as mingoIsEqual } from 'mingo/util';
import { compareBson } from './bson-order.js';
import { ObjectId } from 'bson';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Value = any;
export type Doc = Record<string, Value>;
/** A compiled expression: evaluated once per document. `undefined` means "missing". */
export type Evaluate = (doc: Doc) => Value;

export function compareValues(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return compareBson(a, b);
}

export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  return mingoIsEqual(a, b);
}

/** MongoDB truthiness: false, null, missing and 0 are false; everything else is true. */
export function truthy(v: Value): boolean {
  return !(v === false || v === null || v === undefined || v === 0);
}

export function isPlainObject(v: Value): v is Doc {
  if (v === null || typeof v !== 'object') return false;
  if (v.constructor === Object) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isNullish(v: Value): boolean {
  return v === null || v === undefined;
}

/** Resolves a dotted path the way aggregation field paths do: arrays map over their elements. */
export function resolvePath(value: Value, parts: readonly string[], i = 0): Value {
  for (; i < parts.length; i++) {
    if (Array.isArray(value)) return resolveInArray(value, parts, i);
    if (!isPlainObject(value)) return undefined;
    value = value[parts[i]!];
  }
  return value;
}

function resolveInArray(array: Value[], parts: readonly string[], i: number): Value[] {
  const out: Value[] = [];
  for (const element of array) {
    if (Array.isArray(element)) out.push(resolveInArray(element, parts, i));
    else if (isPlainObject(element)) {
      const v = resolvePath(element, parts, i);
      if (v !== undefined) out.push(v);
    }
  }
  return out;
}

/** The BSON type name `$type` and `bsonType` use. */
export function bsonTypeName(v: Value): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) && Math.abs(v) <= 0x7fffffff ? 'int' : 'double';
    case 'bigint': return 'long';
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (v instanceof ObjectId) return 'objectId';
  const bsontype = (v as { _bsontype?: string })._bsontype;
  if (bsontype) return BSON_CLASS_NAMES[bsontype] ?? bsontype.toLowerCase();
  return 'object';
}

const BSON_CLASS_NAMES: Record<string, string> = {
  Long: 'long', Double: 'double', Int32: 'int', Decimal128: 'decimal', Binary: 'binData',
  Timestamp: 'timestamp', BSONRegExp: 'regex', MinKey: 'minKey', MaxKey: 'maxKey', Code: 'javascript',
};

const NUMERIC_TYPES = new Set(['int', 'long', 'double', 'decimal']);
const TYPE_ALIASES_BY_NUMBER: Record<number, string> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 7: 'objectId', 8: 'bool', 9: 'date',
  10: 'null', 11: 'regex', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal',
};

/** Does `v` have the type `$type`/`bsonType` names (string alias, number, or "number")? */
export function hasBsonType(v: Value, wanted: string | number): boolean {
  const actual = bsonTypeName(v);
  const name = typeof wanted === 'number' ? TYPE_ALIASES_BY_NUMBER[wanted] : wanted;
  if (name === 'number') return NUMERIC_TYPES.has(actual);
  // JS has one number type: an integral double is indistinguishable from an int.
  if (name === 'double' && actual === 'int') return true;
  if (name === 'long' && actual === 'int') return true;
  return actual === name;
}
