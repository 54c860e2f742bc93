// The manual's n-accumulators and $top/$bottom, incremental like the others so windows
// keep n values per group instead of every document. Output shapes as the manual gives
// them: $top/$bottom one value; $topN/$bottomN/$firstN/$lastN/$maxN/$minN an array;
// $firstN/$lastN/$topN/$bottomN keep null (missing becomes null); $maxN/$minN skip them.
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { compareValues, isNullish, isPlainObject, resolvePath, type Doc, type Evaluate, type Value } from '../expressions/values.js';
import type { Accumulator } from './accumulators.js';

export interface AccumulatorPlan { accumulator: Accumulator; argument: Evaluate }

function count(op: string, n: Value): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new PipelineError(`${op} 'n' must be a positive integer, found ${JSON.stringify(n)}`);
  return n;
}

function fields(op: string, spec: Value, allowed: string[]): Doc {
  if (!isPlainObject(spec)) throw new PipelineError(`${op} requires an object with ${allowed.join(', ')}`);
  for (const key of Object.keys(spec)) if (!allowed.includes(key)) throw new PipelineError(`${op} found an unknown argument: ${key}`);
  return spec;
}

const orNull = (evaluate: Evaluate): Evaluate => (doc) => { const v = evaluate(doc); return v === undefined ? null : v; };

/** Inserts `value` after every element that is not greater (stable), keeping `keep` elements from the chosen end. */
function insertSorted<T>(list: T[], value: T, compare: (a: T, b: T) => number, keep: number, fromEnd: boolean): T[] {
  let i = list.length;
  while (i > 0 && compare(list[i - 1]!, value) > 0) i--;
  list.splice(i, 0, value);
  if (list.length > keep) {
    if (fromEnd) list.shift();
    else list.pop();
  }
  return list;
}

function firstOrLast(op: string, spec: Value, last: boolean): AccumulatorPlan {
  const { input, n } = fields(op, spec, ['input', 'n']);
  const keep = count(op, n);
  return {
    argument: orNull(compileExpression(input)),
    accumulator: {
      init: () => [],
      add: (s: Value[], v) => {
        if (!last) { if (s.length < keep) s.push(v); return s; }
        s.push(v);
        if (s.length > keep) s.shift();
        return s;
      },
      merge: (a: Value[], b: Value[]) => (last ? a.concat(b).slice(-keep) : a.concat(b).slice(0, keep)),
      result: (s) => s,
    },
  };
}

function maxOrMin(op: string, spec: Value, max: boolean): AccumulatorPlan {
  const { input, n } = fields(op, spec, ['input', 'n']);
  const keep = count(op, n);
  const order = (a: Value, b: Value) => (max ? compareValues(b, a) : compareValues(a, b));
  const add = (s: Value[], v: Value) => (isNullish(v) ? s : insertSorted(s, v, order, keep, false));
  return {
    argument: compileExpression(input),
    accumulator: { init: () => [], add, merge: (a: Value[], b: Value[]) => b.reduce(add, a), result: (s) => s },
  };
}

interface Ranked { s: Value[]; o: Value }

function topOrBottom(op: string, spec: Value, bottom: boolean, single: boolean): AccumulatorPlan {
  const { sortBy, output, n } = fields(op, spec, single ? ['sortBy', 'output'] : ['sortBy', 'output', 'n']);
  const keep = single ? 1 : count(op, n);
  if (!isPlainObject(sortBy) || Object.keys(sortBy).length === 0) throw new PipelineError(`${op} requires a sortBy object`);
  const keys = Object.entries(sortBy).map(([path, direction]) => {
    if (direction !== 1 && direction !== -1) throw new PipelineError(`${op} sortBy direction for ${path} must be 1 or -1`);
    return { parts: path.split('.'), direction };
  });
  const out = orNull(compileExpression(output));
  const order = (a: Ranked, b: Ranked) => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareValues(a.s[i], b.s[i]);
      if (c !== 0) return c * keys[i]!.direction;
    }
    return 0;
  };
  const add = (s: Ranked[], v: Ranked) => insertSorted(s, v, order, keep, bottom);
  return {
    argument: (doc: Doc): Ranked => ({ s: keys.map((k) => resolvePath(doc, k.parts) ?? null), o: out(doc) }),
    accumulator: {
      init: () => [],
      add,
      merge: (a: Ranked[], b: Ranked[]) => b.reduce(add, a),
      result: (s: Ranked[]) => (single ? (s[0]?.o ?? null) : s.map((r) => r.o)),
    },
  };
}

export const N_ACCUMULATORS: Record<string, (spec: Value) => AccumulatorPlan> = {
  $firstN: (spec) => firstOrLast('$firstN', spec, false),
  $lastN: (spec) => firstOrLast('$lastN', spec, true),
  $maxN: (spec) => maxOrMin('$maxN', spec, true),
  $minN: (spec) => maxOrMin('$minN', spec, false),
  $topN: (spec) => topOrBottom('$topN', spec, false, false),
  $bottomN: (spec) => topOrBottom('$bottomN', spec, true, false),
  $top: (spec) => topOrBottom('$top', spec, false, true),
  $bottom: (spec) => topOrBottom('$bottom', spec, true, true),
};
