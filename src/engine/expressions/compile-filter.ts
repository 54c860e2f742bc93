// Compiles $match query filters into predicates. Field conditions follow query (not
// expression) semantics: a path that crosses arrays yields every value it reaches, and a
// condition holds when any of them (or any element of an array value) satisfies it.
// Clauses the compiler does not know are handed to mingo one clause at a time.
import { PipelineError } from '../contract.js';
import { compileExpression } from './compile-expression.js';
import { compileJsonSchema } from './json-schema.js';
import { mingoFilter } from './mingo-reference.js';
import { compareValues, hasBsonType, isPlainObject, truthy, valuesEqual, type Doc, type Value } from './values.js';

export type Predicate = (doc: Doc) => boolean;
type ValueTest = (v: Value) => boolean;

export function compileFilter(filter: Value): Predicate {
  if (!isPlainObject(filter)) throw new PipelineError('a query filter must be an object');
  const clauses = Object.entries(filter).map(([key, cond]) => compileClause(key, cond));
  if (clauses.length === 1) return clauses[0]!;
  return (doc) => {
    for (const clause of clauses) if (!clause(doc)) return false;
    return true;
  };
}

function compileClause(key: string, cond: Value): Predicate {
  switch (key) {
    case '$and': { const subs = subFilters(key, cond); return (doc) => subs.every((s) => s(doc)); }
    case '$or': { const subs = subFilters(key, cond); return (doc) => subs.some((s) => s(doc)); }
    case '$nor': { const subs = subFilters(key, cond); return (doc) => !subs.some((s) => s(doc)); }
    case '$expr': { const expr = compileExpression(cond); return (doc) => truthy(expr(doc)); }
    case '$jsonSchema': return compileJsonSchema(cond);
    case '$comment': return () => true;
  }
  if (key.startsWith('$')) return mingoFilter({ [key]: cond });
  return compileFieldCondition(key, cond);
}

function subFilters(op: string, cond: Value): Predicate[] {
  if (!Array.isArray(cond) || cond.length === 0) throw new PipelineError(`${op} argument must be a non-empty array`);
  return cond.map(compileFilter);
}

function isOperatorObject(cond: Value): cond is Doc {
  if (!isPlainObject(cond)) return false;
  const keys = Object.keys(cond);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

function compileFieldCondition(path: string, cond: Value): Predicate {
  const parts = path.split('.');
  const test = compileValueCondition(cond, path);
  if (!test) return mingoFilter({ [path]: cond });
  if (parts.length === 1) {
    const key = parts[0]!;
    return (doc) => test(doc[key], doc);
  }
  return (doc) => {
    // Fast path: plain nested documents; any array on the way needs the full traversal.
    let v: Value = doc;
    for (const part of parts) {
      if (Array.isArray(v)) return test(collectPath(doc, parts), doc);
      if (!isPlainObject(v)) { v = undefined; break; }
      v = v[part];
    }
    return test(v, doc);
  };
}

/** Marks the values a dotted path reached through arrays, as opposed to a single value. */
class Reached {
  constructor(readonly values: Value[]) {}
}

function collectPath(doc: Value, parts: string[]): Value {
  let sawArray = false;
  let current: Value[] = [doc];
  for (const part of parts) {
    const next: Value[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        sawArray = true;
        if (/^\d+$/.test(part)) next.push(v[Number(part)]);
        for (const el of v) if (isPlainObject(el)) next.push(el[part]);
      } else if (isPlainObject(v)) next.push(v[part]);
      else next.push(undefined);
    }
    current = next;
  }
  return sawArray ? new Reached(current) : current[0];
}

type FieldTest = (v: Value, doc: Doc) => boolean;

/** Returns undefined when some operator needs mingo. */
function compileValueCondition(cond: Value, path: string): FieldTest | undefined {
  if (!isOperatorObject(cond)) return anyValue(equalityTest(cond));
  const tests: FieldTest[] = [];
  for (const [op, arg] of Object.entries(cond)) {
    const test = compileOperator(op, arg, cond, path);
    if (!test) return undefined;
    tests.push(test);
  }
  return (v, doc) => tests.every((t) => t(v, doc));
}

/** A condition on one value holds when it holds for the value or any element of an array value. */
function anyValue(test: ValueTest): FieldTest {
  const onOne = (v: Value) => test(v) || (Array.isArray(v) && v.some(test));
  return (v) => (v instanceof Reached ? v.values.some(onOne) : onOne(v));
}

/** For operators on the array itself ($size, $all, $elemMatch): no element expansion. */
function wholeValue(test: ValueTest): FieldTest {
  return (v) => (v instanceof Reached ? v.values.some(test) : test(v));
}

function equalityTest(expected: Value): ValueTest {
  if (expected instanceof RegExp) return (v) => typeof v === 'string' && expected.test(v);
  if (expected === null) return (v) => v === null || v === undefined;
  if (typeof expected !== 'object') return (v) => v === expected;
  return (v) => valuesEqual(v, expected);
}

const CANONICAL_ORDER_CLASS: Record<string, number> = { number: 1, string: 2, date: 3, object: 4, boolean: 5 };
function orderClass(v: Value): number | undefined {
  if (v instanceof Date) return CANONICAL_ORDER_CLASS['date'];
  if (typeof v === 'bigint') return CANONICAL_ORDER_CLASS['number'];
  return CANONICAL_ORDER_CLASS[typeof v];
}

/** $gt & co. only compare values of the same kind (type bracketing). */
function rangeTest(expected: Value, holds: (c: number) => boolean, inclusive: boolean): ValueTest {
  if (expected === null) return inclusive ? (v) => v === null || v === undefined : () => false;
  const wanted = orderClass(expected);
  if (wanted === undefined) return () => false;
  return (v) => v !== null && v !== undefined && orderClass(v) === wanted && holds(compareValues(v, expected));
}

function compileOperator(op: string, arg: Value, cond: Doc, path: string): FieldTest | undefined {
  switch (op) {
    case '$eq': return anyValue(equalityTest(arg));
    case '$ne': { const eq = anyValue(equalityTest(arg)); return (v, doc) => !eq(v, doc); }
    case '$gt': return anyValue(rangeTest(arg, (c) => c > 0, false));
    case '$gte': return anyValue(rangeTest(arg, (c) => c >= 0, true));
    case '$lt': return anyValue(rangeTest(arg, (c) => c < 0, false));
    case '$lte': return anyValue(rangeTest(arg, (c) => c <= 0, true));
    case '$in': {
      if (!Array.isArray(arg)) throw new PipelineError('$in needs an array');
      const tests = arg.map(equalityTest);
      return anyValue((v) => tests.some((t) => t(v)));
    }
    case '$nin': {
      if (!Array.isArray(arg)) throw new PipelineError('$nin needs an array');
      const tests = arg.map(equalityTest);
      const any = anyValue((v) => tests.some((t) => t(v)));
      return (v, doc) => !any(v, doc);
    }
    case '$exists': {
      const want = truthy(arg);
      const exists = (v: Value) => (v instanceof Reached ? v.values.some((x) => x !== undefined) : v !== undefined);
      return (v) => exists(v) === want;
    }
    case '$type': {
      const types: Value[] = Array.isArray(arg) ? arg : [arg];
      const test = (v: Value) => v !== undefined && types.some((t) => hasBsonType(v, t));
      return (v) => (v instanceof Reached ? v.values : [v]).some((x) => test(x) || (Array.isArray(x) && x.some(test)));
    }
    case '$regex': {
      const re = arg instanceof RegExp ? arg : new RegExp(arg, typeof cond['$options'] === 'string' ? cond['$options'] : '');
      return anyValue((v) => typeof v === 'string' && re.test(v));
    }
    case '$options': return () => true;
    case '$size': return wholeValue((v) => Array.isArray(v) && v.length === arg);
    case '$mod': {
      const [divisor, remainder] = arg as [number, number];
      return anyValue((v) => typeof v === 'number' && Math.trunc(v) % divisor === remainder);
    }
    case '$all': {
      if (!Array.isArray(arg)) throw new PipelineError('$all needs an array');
      if (arg.some((x) => isOperatorObject(x))) return undefined;
      const tests = arg.map((x) => anyValue(equalityTest(x)));
      return (v, doc) => arg.length > 0 && tests.every((t) => t(v, doc));
    }
    case '$elemMatch': {
      const element: ValueTest = isOperatorObject(arg) && !('$and' in arg || '$or' in arg || '$nor' in arg)
        ? singleValue(compileValueCondition(arg, path))
        : objectElement(compileFilter(arg));
      return wholeValue((v) => Array.isArray(v) && v.some(element));
    }
    case '$not': {
      const inner = arg instanceof RegExp ? anyValue((v) => typeof v === 'string' && arg.test(v)) : compileValueCondition(arg, path);
      if (!inner) return undefined;
      return (v, doc) => !inner(v, doc);
    }
  }
  return undefined;
}

function singleValue(test: FieldTest | undefined): ValueTest {
  if (!test) throw new PipelineError('unsupported operator inside $elemMatch');
  return (v) => test(v, {});
}

function objectElement(filter: Predicate): ValueTest {
  return (v) => isPlainObject(v) && filter(v);
}
