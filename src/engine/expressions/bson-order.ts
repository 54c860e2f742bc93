// MongoDB's comparison order across BSON types (manual: "Comparison/Sort Order"):
// MinKey < null < numbers < strings < objects < arrays < binData < ObjectId < bool <
// date < timestamp < regex < MaxKey. mingo orders arrays below objects and ObjectId
// above bool, so mixed-type comparisons are answered here.
import type { Value } from './values.js';

const enum Rank { MinKey = 1, Missing, Null, Number, String, Object, Array, BinData, ObjectId, Bool, Date, Timestamp, Regex, MaxKey }

function rank(v: Value): Rank {
  // Expressions see a missing field below null ({$lt: ["$missing", null]} is true).
  if (v === undefined) return Rank.Missing;
  if (v === null) return Rank.Null;
  switch (typeof v) {
    case 'number': case 'bigint': return Rank.Number;
    case 'string': return Rank.String;
    case 'boolean': return Rank.Bool;
  }
  if (Array.isArray(v)) return Rank.Array;
  if (v instanceof Date) return Rank.Date;
  if (v instanceof RegExp) return Rank.Regex;
  switch ((v as { _bsontype?: string })._bsontype) {
    case 'Long': case 'Double': case 'Int32': case 'Decimal128': return Rank.Number;
    case 'BSONSymbol': return Rank.String;
    case 'Binary': return Rank.BinData;
    case 'ObjectId': return Rank.ObjectId;
    case 'Timestamp': return Rank.Timestamp;
    case 'BSONRegExp': return Rank.Regex;
    case 'MinKey': return Rank.MinKey;
    case 'MaxKey': return Rank.MaxKey;
  }
  return Rank.Object;
}

const sign = (a: number | bigint | string, b: number | bigint | string): number => (a < b ? -1 : a > b ? 1 : 0);

function toNumber(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const bson = v as { _bsontype: string; toNumber?: () => number; valueOf(): unknown; toString(): string };
  if (bson._bsontype === 'Long' && bson.toNumber) return bson.toNumber();
  if (bson._bsontype === 'Decimal128') return Number(bson.toString());
  return Number(bson.valueOf());
}

function bytesOf(v: Value): Uint8Array {
  const b = v as { buffer?: Uint8Array; id?: Uint8Array };
  return (b.id ?? b.buffer ?? new Uint8Array()) as Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return sign(a.length, b.length);
}

/** Compares two values in MongoDB's order. */
export function compareBson(a: Value, b: Value): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case Rank.Missing: case Rank.Null: case Rank.MinKey: case Rank.MaxKey: return 0;
    case Rank.Number: {
      const x = toNumber(a);
      const y = toNumber(b);
      // NaN sorts below every other number.
      if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
      if (Number.isNaN(y)) return 1;
      return sign(x, y);
    }
    case Rank.String: return sign(String(a), String(b));
    case Rank.Bool: return sign(Number(a), Number(b));
    case Rank.Date: return sign((a as Date).getTime(), (b as Date).getTime());
    case Rank.Array: return compareSequences(a as Value[], b as Value[]);
    case Rank.Object: return compareObjects(a as Record<string, Value>, b as Record<string, Value>);
    case Rank.BinData: {
      // binData: length first, then subtype, then the bytes.
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length) return sign(x.length, y.length);
      const st = sign((a as { sub_type: number }).sub_type, (b as { sub_type: number }).sub_type);
      return st !== 0 ? st : compareBytes(x, y);
    }
    case Rank.ObjectId: return compareBytes(bytesOf(a), bytesOf(b));
    case Rank.Timestamp: {
      const x = a as { t: number; i: number };
      const y = b as { t: number; i: number };
      return sign(x.t, y.t) || sign(x.i, y.i);
    }
    case Rank.Regex: {
      const x = a as { source?: string; pattern?: string; flags?: string; options?: string };
      const y = b as { source?: string; pattern?: string; flags?: string; options?: string };
      return sign(x.source ?? x.pattern ?? '', y.source ?? y.pattern ?? '') || sign(x.flags ?? x.options ?? '', y.flags ?? y.options ?? '');
    }
  }
  return 0;
}

function compareSequences(a: Value[], b: Value[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareBson(a[i], b[i]);
    if (c !== 0) return c;
  }
  return sign(a.length, b.length);
}

/** Objects compare field by field: the value's type, then the field name, then the value. */
function compareObjects(a: Record<string, Value>, b: Record<string, Value>): number {
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const x = a[ka[i]!];
    const y = b[kb[i]!];
    const byType = sign(rank(x), rank(y));
    if (byType !== 0) return byType;
    const byName = sign(ka[i]!, kb[i]!);
    if (byName !== 0) return byName;
    const byValue = compareBson(x, y);
    if (byValue !== 0) return byValue;
  }
  return sign(ka.length, kb.length);
}
