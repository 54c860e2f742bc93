import { describe, expect, it } from 'vitest';
import { Binary, BSONRegExp, Code, DBRef, Decimal128, Double, EJSON, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';
import { relaxedJson } from './relaxed-json.js';

const ejson = (doc: object) => EJSON.stringify(doc, { relaxed: true });

/** Values of every kind a document can hold, including those this writer leaves to EJSON. */
const values: unknown[] = [
  'text', '', 'é "quoted" \\ \n \u0000 \u2028', 0, -0, 1, -7, 2.5, 2 ** 31, 2 ** 53 + 2, 1e300, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
  true, false, null, undefined, 10n,
  new Date(0), new Date(1767225600000), new Date(1767225600123), new Date(-1), new Date(253402318800000), new Date(253402318799999), new Date(Number.NaN),
  new Binary(Buffer.from('k1')), new Binary(Buffer.from([1, 2, 3]), 0x80), new UUID('0e1a6c5c-7e0b-4b59-9d57-bc1f6f2b2e57'),
  new ObjectId('656565656565656565656565'), Decimal128.fromString('1.5'), Long.fromNumber(2 ** 40), Long.fromString('9223372036854775807'),
  new Int32(5), new Double(2), new Double(-0), new Double(Number.NaN), new Timestamp({ t: 1, i: 2 }), new MinKey(), new MaxKey(),
  new BSONRegExp('a+', 'i'), /b*/g, new Code('x()', { a: new Date(0) }), new DBRef('c', new ObjectId('656565656565656565656565')),
  new Map([['a', 1]]), () => 1, Symbol('s'), new Uint8Array([1, 2]), new String('boxed'),
  {}, [], [1, 'a', null], [undefined], { a: { b: { c: [new Date(5), { d: 1 }] } } }, Object.assign(Object.create(null), { n: 1 }),
  { _bsontype: 'ObjectId' }, JSON.parse('{"__proto__": {"x": 1}}'), { toJSON: () => 'replaced' }, new (class Reading { watts = 3; })(),
  { 10: 'ten', 2: 'two', b: 1, a: 2 },
];

describe('relaxed Extended JSON', () => {
  it('writes what EJSON.stringify writes, relaxed, for every kind of value', () => {
    values.forEach((value, i) => {
      const doc = { v: value, list: [value], nested: { v: value, at: new Date(1767225600000) } };
      let expected: string | Error;
      try { expected = ejson(doc); } catch (error) { expected = error as Error; }
      if (expected instanceof Error) expect(() => relaxedJson(doc), `value ${i}`).toThrow(expected.message);
      else expect(relaxedJson(doc), `value ${i}`).toBe(expected);
    });
  });

  it('writes a Kafka message as EJSON does, its dates with and without milliseconds', () => {
    for (let i = 0; i < 3000; i += 7) {
      const at = new Date(1767225600000 + i * 333);
      const doc = JSON.parse(JSON.stringify({ id: i, device: `d${i % 20}`, watts: i / 7, at: at.toISOString() }));
      doc._ts = at;
      doc._stream_meta = { source: { type: 'kafka', topic: 't', partition: 0, offset: i, key: new Binary(Buffer.from(`k${i}`)), ts: new Date(at.getTime() - (i % 2)) } };
      expect(relaxedJson(doc)).toBe(ejson(doc));
    }
  });

  it('writes only a document\'s own fields, as EJSON does, even with an inherited enumerable one', () => {
    const doc = { a: 1, at: new Date(1767225600000) };
    (Object.prototype as Record<string, unknown>)['inherited'] = 'x';
    try {
      expect(relaxedJson(doc)).toBe(ejson(doc));
    } finally {
      delete (Object.prototype as Record<string, unknown>)['inherited'];
    }
  });

  it('reports a cycle as EJSON does', () => {
    const doc: Record<string, unknown> = { a: { b: {} } };
    (doc['a'] as { b: Record<string, unknown> }).b['c'] = doc;
    expect(() => relaxedJson(doc)).toThrow(/circular structure to EJSON/);
  });

  it('leaves documents deeper than it walks to EJSON', () => {
    let doc: Record<string, unknown> = { leaf: new Date(1767225600000) };
    for (let i = 0; i < 150; i++) doc = { d: doc };
    expect(relaxedJson(doc)).toBe(ejson(doc));
  });
});
