// $group accumulators, incremental: each window keeps one small state per group instead
// of its documents. States are plain data so window state can be checkpointed.
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { bsonTypeName, compareValues, isNullish, isPlainObject, valuesEqual, type Doc, type Evaluate, type Value } from '../expressions/values.js';
import { N_ACCUMULATORS } from './n-accumulators.js';

export interface Accumulator<S = Value> {
  init(): S;
  add(state: S, value: Value): S;
  /** Folds a later state into an earlier one (session windows merging). */
  merge(earlier: S, later: S): S;
  result(state: S): Value;
  /** Keeps every value it is given ($push, $addToSet): its state grows with the input. */
  collects?: boolean;
}

const numeric = (v: Value): v is number => typeof v === 'number';

const ACCUMULATORS: Record<string, Accumulator> = {
  $sum: {
    init: () => 0,
    add: (s, v) => (numeric(v) ? s + v : s),
    merge: (a, b) => a + b,
    result: (s) => s,
  },
  $avg: {
    init: () => ({ sum: 0, count: 0 }),
    add: (s, v) => (numeric(v) ? { sum: s.sum + v, count: s.count + 1 } : s),
    merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
    result: (s) => (s.count === 0 ? null : s.sum / s.count),
  },
  $min: {
    init: () => null,
    add: (s, v) => (v === null || v === undefined ? s : s === null || compareValues(v, s) < 0 ? v : s),
    merge: (a, b) => (b === null ? a : a === null || compareValues(b, a) < 0 ? b : a),
    result: (s) => s,
  },
  $max: {
    init: () => null,
    add: (s, v) => (v === null || v === undefined ? s : s === null || compareValues(v, s) > 0 ? v : s),
    merge: (a, b) => (b === null ? a : a === null || compareValues(b, a) > 0 ? b : a),
    result: (s) => s,
  },
  $count: {
    init: () => 0,
    add: (s) => s + 1,
    merge: (a, b) => a + b,
    result: (s) => s,
  },
  $first: {
    init: () => ({ seen: false, value: null }),
    add: (s, v) => (s.seen ? s : { seen: true, value: v === undefined ? null : v }),
    merge: (a, b) => (a.seen ? a : b),
    result: (s) => s.value,
  },
  $last: {
    init: () => ({ seen: false, value: null }),
    add: (_s, v) => ({ seen: true, value: v === undefined ? null : v }),
    merge: (a, b) => (b.seen ? b : a),
    result: (s) => s.value,
  },
  $push: {
    init: () => [],
    add: (s, v) => { if (v !== undefined) s.push(v); return s; },
    merge: (a, b) => a.concat(b),
    result: (s) => s,
    collects: true,
  },
  $mergeObjects: {
    init: () => ({}),
    add: (s, v) => {
      if (isNullish(v)) return s;
      if (!isPlainObject(v)) throw new Error(`$mergeObjects requires object inputs, but input is of type ${bsonTypeName(v)}`);
      for (const [k, x] of Object.entries(v)) if (x !== undefined) s[k] = x;
      return s;
    },
    merge: (a, b) => ({ ...a, ...b }),
    result: (s) => s,
  },
  $addToSet: {
    init: () => [],
    add: (s, v) => { if (v !== undefined && !s.some((x: Value) => valuesEqual(x, v))) s.push(v); return s; },
    merge: (a, b) => b.reduce((acc: Value[], v: Value) => ACCUMULATORS['$addToSet']!.add(acc, v), a),
    result: (s) => s,
    collects: true,
  },
};

export interface CompiledGroup {
  key: Evaluate;
  fields: Array<{ name: string; accumulator: Accumulator; argument: Evaluate }>;
}

/** Returns undefined when an accumulator is not one we run incrementally (mingo then runs the group). */
export function compileGroup(spec: Value): CompiledGroup | undefined {
  if (spec === null || typeof spec !== 'object' || !('_id' in spec)) throw new PipelineError('$group requires an _id expression');
  const fields: CompiledGroup['fields'] = [];
  for (const [name, body] of Object.entries(spec as Doc)) {
    if (name === '_id') continue;
    const entries = body && typeof body === 'object' ? Object.entries(body as Doc) : [];
    const [op, arg] = entries[0] ?? [];
    if (entries.length !== 1 || !op) throw new PipelineError(`$group field '${name}' must be an accumulator object`);
    const plan = N_ACCUMULATORS[op];
    if (plan) { fields.push({ name, ...plan(arg) }); continue; }
    const accumulator = ACCUMULATORS[op];
    if (!accumulator) return undefined;
    fields.push({ name, accumulator, argument: op === '$count' ? () => 1 : compileExpression(arg) });
  }
  return { key: compileExpression((spec as Doc)['_id']), fields };
}
