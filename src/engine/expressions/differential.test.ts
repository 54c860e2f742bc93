// Compiled stages against mingo (our reference) over many generated documents. A
// document whose evaluation fails must fail in both: mingo throws, the compiled stage
// sends it to the DLQ.
import { describe, expect, it } from 'vitest';
import { statelessStage } from '../stages/stateless.js';
import { mingoAggregate } from './mingo-reference.js';
import type { Doc } from './values.js';

function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generate(count: number): Doc[] {
  const r = random(12345);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = (value: () => unknown, missing = 0.15): unknown => (r() < missing ? undefined : value());
  return Array.from({ length: count }, (_, i) => {
    const doc: Doc = {
      _id: i,
      a: maybe(() => pick([0, 1, 2, 3, 5, 8, 13, -4, null, 'seven', 2.5])),
      b: maybe(() => Math.floor(r() * 10) - 3),
      f: r() * 100 - 50,
      s: maybe(() => pick(['x', 'y', 'Xa', 'yb', 'zz', ''])),
      n: maybe(() => ({ x: Math.floor(r() * 5), y: pick(['p', 'q']) })),
      arr: maybe(() => pick([[], [1], [1, 2], [2, 3, 4], [5, 1, 2, 9], 3])),
      objs: maybe(() => pick([[{ k: 'a', v: 1 }, { k: 'b', v: 3 }], [{ k: 'b', v: 0 }], []])),
      d: new Date(Date.UTC(2024, Math.floor(r() * 12), 1 + Math.floor(r() * 27), Math.floor(r() * 24))),
      ds: `2024-08-12T21:41:0${Math.floor(r() * 10)}.788+00:00`,
      _stream_meta: { source: { type: 'kafka', topic: pick(['t1', 't2']), partition: Math.floor(r() * 4) } },
    };
    for (const key of Object.keys(doc)) if (doc[key] === undefined) delete doc[key];
    return doc;
  });
}

const DOCS = generate(400);

function compiled(pipeline: Doc[], doc: Doc): Doc[] | 'error' {
  let failed = false;
  const ctx = { deadLetter: () => { failed = true; } };
  let docs: Doc[] = [doc];
  for (const stage of pipeline) {
    const name = Object.keys(stage)[0]!;
    docs = statelessStage(name, stage[name], ctx)!.process(docs) as Doc[];
  }
  return failed ? 'error' : docs;
}

function reference(pipeline: Doc[], doc: Doc): Doc[] | 'error' {
  try {
    return mingoAggregate([doc], pipeline).map((out) => keepStreamMeta(pipeline, doc, out));
  } catch {
    return 'error';
  }
}

/**
 * Where MongoDB's documented answer differs from mingo: the Stream Aggregation page says
 * only `$project: {_stream_meta: 0}` or `$unset` removes `_stream_meta`, so stages that
 * build new documents carry it over; mingo drops it.
 */
function keepStreamMeta(pipeline: Doc[], input: Doc, out: Doc): Doc {
  if (input['_stream_meta'] === undefined || '_stream_meta' in out || JSON.stringify(pipeline).includes('_stream_meta')) return out;
  return { ...out, _stream_meta: input['_stream_meta'] };
}

function expectSame(pipeline: Doc[]): void {
  for (const doc of DOCS) {
    const ours = compiled(pipeline, structuredClone(doc));
    const theirs = reference(pipeline, structuredClone(doc));
    expect({ doc, result: ours }).toEqual({ doc, result: theirs });
  }
}

const FILTERS: Doc[] = [
  { a: 5 }, { a: { $gt: 3 } }, { a: { $gte: 2, $lt: 8 } }, { a: { $lte: 0 } }, { s: 'x' }, { s: { $in: ['x', 'y'] } },
  { s: { $nin: ['x', 'zz'] } }, { a: { $ne: 3 } }, { a: null }, { a: { $exists: false } }, { s: { $exists: true } },
  { 'n.x': { $gt: 1 } }, { 'n.y': 'q' }, { arr: 3 }, { arr: 1 }, { arr: { $size: 2 } }, { arr: { $all: [1, 2] } },
  { arr: { $elemMatch: { $gt: 2, $lt: 5 } } }, { 'objs.k': 'b' }, { objs: { $elemMatch: { k: 'a', v: { $gt: 0 } } } },
  { 'objs.v': { $gte: 3 } }, { $or: [{ a: { $lt: 2 } }, { s: 'y' }] }, { $and: [{ b: { $gt: 0 } }, { f: { $lt: 0 } }] },
  { $nor: [{ s: 'x' }, { a: 1 }] }, { s: { $regex: '^x', $options: 'i' } }, { s: /y/ }, { a: { $type: 'number' } },
  { a: { $type: 'string' } }, { a: { $not: { $gt: 5 } } }, { b: { $mod: [3, 0] } }, { $expr: { $gt: ['$f', { $ifNull: ['$b', 0] }] } },
  { d: { $gt: new Date(Date.UTC(2024, 5, 1)) } }, { 'arr.0': 1 }, { a: { $in: [null, 5] } }, { arr: { $in: [4, 9] } },
  { 'n.x': { $exists: true }, b: { $lt: 2 } },
];

const EXPRESSIONS: unknown[] = [
  { $add: ['$b', '$f'] }, { $add: ['$b', 1, '$f'] }, { $subtract: ['$f', '$b'] }, { $multiply: ['$b', '$f', 2] },
  { $divide: ['$f', 2] }, { $mod: [{ $ifNull: ['$b', 1] }, 3] }, { $abs: '$f' }, { $ceil: '$f' }, { $floor: '$f' },
  { $trunc: ['$f'] }, { $sqrt: { $abs: '$f' } }, { $pow: ['$b', 2] }, { $eq: ['$b', 3] }, { $ne: ['$a', 3] },
  { $gt: ['$f', { $ifNull: ['$b', 0] }] }, { $gte: ['$s', 'y'] }, { $lt: ['$f', 3] }, { $lte: ['$f', 0] }, { $cmp: ['$a', '$b'] },
  { $and: ['$a', { $gt: ['$b', 0] }] }, { $or: [{ $eq: ['$s', 'x'] }, '$n'] }, { $not: ['$a'] },
  { $cond: [{ $gt: ['$f', 0] }, 'positive', 'negative'] }, { $cond: { if: '$s', then: '$b', else: 'none' } },
  { $ifNull: ['$a', 'none'] }, { $ifNull: ['$s', '$a', 'neither'] },
  { $switch: { branches: [{ case: { $lt: ['$f', -10] }, then: 'low' }, { case: { $gt: ['$f', 10] }, then: 'high' }], default: 'mid' } },
  { $concat: ['$s', '-', { $ifNull: ['$s', ''] }] }, { $toUpper: { $ifNull: ['$s', 'none'] } }, { $toLower: { $ifNull: ['$s', 'NONE'] } }, { $strLenCP: { $ifNull: ['$s', ''] } },
  { $split: [{ $ifNull: ['$s', 'x'] }, 'x'] }, { $toString: '$b' }, { $toInt: '$f' }, { $toDouble: '$b' }, { $toBool: '$b' },
  { $type: '$a' }, { $isNumber: '$a' }, { $isArray: '$arr' }, { $size: { $ifNull: ['$objs', []] } },
  { $arrayElemAt: [{ $ifNull: ['$objs', []] }, 0] }, { $arrayElemAt: [{ $ifNull: ['$objs', []] }, -1] },
  { $in: ['$b', [1, 2, 3]] }, { $concatArrays: [{ $ifNull: ['$objs', []] }, [9]] }, { $mergeObjects: ['$n', { z: 1 }] },
  '$n.x', '$objs.k', '$objs', { $literal: '$a' }, { $year: '$d' }, { $month: '$d' }, { $dayOfMonth: '$d' }, { $hour: '$d' },
  { $dateFromString: { dateString: '$ds' } }, { $toDate: '$ds' }, { x: { y: '$b', z: [{ $ifNull: ['$s', ''] }, 1] } },
  { $meta: 'stream.source.topic' }, { $meta: 'stream.source' }, { $add: ['$d', 1000] }, { $subtract: ['$d', '$d'] },
  { $max: [{ $ifNull: ['$b', 0] }, '$f'] }, { $sum: ['$b', '$f'] }, { $substrCP: [{ $ifNull: ['$s', ''] }, 0, 1] },
];

describe('compiled stages agree with mingo', () => {
  it.each(FILTERS.map((f) => [JSON.stringify(f), f]))('$match %s', (_label, filter) => {
    expectSame([{ $match: filter as Doc }]);
  });

  it.each(EXPRESSIONS.map((e) => [JSON.stringify(e), e]))('$addFields %s', (_label, expression) => {
    expectSame([{ $addFields: { out: expression } }]);
  });

  it.each([
    [{ $project: { a: 1, s: 1 } }], [{ $project: { _id: 0, n: 1 } }], [{ $project: { 'n.x': 1 } }],
    [{ $project: { n: 0, arr: 0 } }], [{ $project: { 'n.y': 0 } }], [{ $project: { total: { $add: ['$b', 1] }, s: 1 } }],
    [{ $project: { 'objs.k': 1 } }], [{ $set: { 'n.q': { $ifNull: ['$b', 0] } } }], [{ $unset: ['a', 'n.x'] }],
    [{ $replaceRoot: { newRoot: { $mergeObjects: [{ a: '$a' }, '$n'] } } }], [{ $replaceWith: '$n' }],
    [{ $unwind: '$arr' }], [{ $unwind: { path: '$arr', includeArrayIndex: 'i', preserveNullAndEmptyArrays: true } }],
    [{ $unwind: '$objs' }, { $match: { 'objs.v': { $gt: 0 } } }, { $project: { k: '$objs.k', v: '$objs.v' } }],
    [{ $addFields: { nested: { inner: '$b' } } }, { $project: { 'nested.inner': 1 } }],
  ])('pipeline %j', (...pipeline) => {
    expectSame(pipeline as Doc[]);
  });
});

// The differential inputs above avoid these cases: mingo answers them differently from MongoDB.
describe('MongoDB semantics where mingo differs', () => {
  const evaluate = (expression: unknown, doc: Doc) => (compiled([{ $project: { _id: 0, out: expression } }], doc) as Doc[])[0]!['out'];

  it('compares mixed types and null/missing in BSON order, without type bracketing', () => {
    expect(evaluate({ $lt: ['$a', 2] }, { a: null })).toBe(true);
    expect(evaluate({ $gt: ['$a', 3] }, { a: 'seven' })).toBe(true);
    expect(evaluate({ $lt: ['$missing', null] }, {})).toBe(true);
    expect(evaluate({ $eq: ['$missing', null] }, {})).toBe(false);
    // mingo puts arrays below objects and ObjectIds above booleans.
    expect(evaluate({ $gt: [[0], { z: 1 }] }, {})).toBe(true);
    expect(evaluate({ $lt: [{ $toObjectId: '65a1b2c3d4e5f60718293a4b' }, false] }, {})).toBe(true);
  });

  it('$max/$min ignore null and missing arguments (mingo answers null)', () => {
    expect(evaluate({ $max: ['$missing', '$f'] }, { f: -3 })).toBe(-3);
    expect(evaluate({ $min: [null, 4, 2] }, {})).toBe(2);
  });

  it('propagates null through arithmetic and rounds exactly', () => {
    expect(evaluate({ $mod: ['$missing', 3] }, {})).toBeNull();
    expect(evaluate({ $round: ['$f', 1] }, { f: 10.251325 })).toBe(10.3);
    expect(evaluate({ $round: ['$f', 0] }, { f: 2.5 })).toBe(2);
    expect(evaluate({ $round: ['$f'] }, { f: -31.4652590546757 })).toBe(-31);
  });

  it('turns null strings into "" and missing array elements into null', () => {
    expect(evaluate({ $toUpper: '$missing' }, {})).toBe('');
    expect(evaluate(['$missing', 1], {})).toEqual([null, 1]);
  });

  it('$set on a dotted path creates the parent even when the value is missing', () => {
    expect(compiled([{ $set: { 'n.q': '$missing' } }], { _id: 1 })).toEqual([{ _id: 1, n: {} }]);
  });
});

describe('gaps closed on top of mingo', () => {
  it('orders computed $project fields after included ones, as MongoDB does', () => {
    const [out] = compiled([{ $project: { c: { $literal: 5 }, b: 1, a: 1 } }], { _id: 1, a: 1, b: 2, z: 3 }) as Doc[];
    expect(Object.keys(out!)).toEqual(['_id', 'a', 'b', 'c']);
  });

  it('$dateFromString reads +00:00 offsets; $toObjectId; $jsonSchema with bsonType in $validate', () => {
    const [out] = compiled([{ $project: {
      d: { $dateFromString: { dateString: '2024-08-12T21:41:01.788+02:00' } },
      id: { $toObjectId: '65a1b2c3d4e5f60718293a4b' },
    } }], { _id: 1 }) as Doc[];
    expect(out!['d']).toEqual(new Date('2024-08-12T19:41:01.788Z'));
    expect(String(out!['id'])).toBe('65a1b2c3d4e5f60718293a4b');
    const schema = { $jsonSchema: { bsonType: 'object', required: ['device_id'], properties: { device_id: { bsonType: 'string' }, obs: { bsonType: 'object', properties: { watts: { bsonType: ['int', 'double'], minimum: 0 } } } } } };
    const valid = { device_id: 'device_1', obs: { watts: 12 } };
    const invalid = { device_id: 7, obs: { watts: -1 } };
    for (const validationAction of ['discard', 'dlq']) {
      const stage = [{ $validate: { validator: schema, validationAction } }];
      expect(compiled(stage, valid)).toEqual([valid]);
      expect(compiled(stage, invalid)).toEqual(validationAction === 'dlq' ? 'error' : []);
      expect(reference([{ $match: schema }], invalid)).toEqual([]);
    }
  });
});

describe('incremental $group agrees with mingo', () => {
  it.each([
    [{ _id: '$s', n: { $count: {} }, total: { $sum: '$b' }, avg: { $avg: '$f' }, lo: { $min: '$a' }, hi: { $max: '$a' } }],
    [{ _id: '$n.y', first: { $first: '$b' }, last: { $last: '$s' }, all: { $push: '$f' }, kinds: { $addToSet: { $ifNull: ['$s', 'none'] } } }],
    [{ _id: null, ones: { $sum: 1 }, fs: { $sum: '$f' }, minD: { $min: '$d' }, maxS: { $max: '$s' } }],
    [{ _id: { y: '$n.y', big: { $gt: ['$f', 0] } }, n: { $sum: 1 } }],
  ])('$group %j', async (spec) => {
    const { windowOnlyStage } = await import('../stages/window-only.js');
    const sortById = (docs: Doc[]) => [...docs].sort((x, y) => JSON.stringify(x['_id']).localeCompare(JSON.stringify(y['_id'])));
    const ours = windowOnlyStage('$group', spec)!.process(DOCS.map((d) => structuredClone(d))) as Doc[];
    const theirs = mingoAggregate(DOCS.map((d) => structuredClone(d)), [{ $group: spec }]);
    const normalize = (docs: Doc[]) => sortById(docs).map((d) => ({ ...d, kinds: Array.isArray(d['kinds']) ? [...(d['kinds'] as unknown[])].sort() : d['kinds'] }));
    expect(normalize(ours)).toEqual(normalize(theirs));
  });

  it('skips missing values in $push and $addToSet, as MongoDB does (mingo pushes null)', async () => {
    const { windowOnlyStage } = await import('../stages/window-only.js');
    const out = windowOnlyStage('$group', { _id: null, xs: { $push: '$x' }, set: { $addToSet: '$x' } })!.process([{ x: 1 }, {}, { x: 1 }]);
    expect(out).toEqual([{ _id: null, xs: [1, 1], set: [1] }]);
  });
});
