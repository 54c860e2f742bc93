// Size checks for the expression operators that can build large values, applied BEFORE
// the value is allocated: V8 aborts the whole process (not only the worker) on an array or
// string it cannot allocate, so a cap checked afterwards would come too late. Both the
// compiled operators and mingo's (the fallback, and whatever runs inside $reduce, $map...)
// go through these.
import { evalExpr } from 'mingo/core';
import type { Options } from 'mingo/types';
import { checkArrayLength, checkStringLength, rangeTooLarge, MAX_ARRAY_ELEMENTS } from '../limits.js';
import type { Value } from './values.js';

type MingoOperator = (obj: Value, expr: Value, options: Options) => Value;

/** How many elements $range(start, end, step) produces; throws MongoDB's error past the cap. */
export function checkRange(start: Value, end: Value, step: Value = 1): void {
  if (typeof start !== 'number' || typeof end !== 'number' || typeof step !== 'number' || step === 0) return;
  const count = Math.max(0, Math.ceil((end - start) / step));
  if (count > MAX_ARRAY_ELEMENTS) throw rangeTooLarge(count);
}

export function checkConcatStrings(operator: string, parts: Value[]): void {
  let chars = 0;
  for (const part of parts) if (typeof part === 'string') chars += part.length;
  checkStringLength(operator, chars);
}

export function checkConcatArrays(operator: string, parts: Value[]): void {
  let elements = 0;
  for (const part of parts) if (Array.isArray(part)) elements += part.length;
  checkArrayLength(operator, elements);
}

/** Occurrences of `find` in `input` (non-overlapping, as replaceAll and split count them). */
function occurrences(input: string, find: string): number {
  if (find === '') return input.length + 1;
  let count = 0;
  for (let at = input.indexOf(find); at >= 0; at = input.indexOf(find, at + find.length)) count += 1;
  return count;
}

export function checkReplaceAll(operator: string, input: Value, find: Value, replacement: Value): void {
  if (typeof input !== 'string' || typeof find !== 'string' || typeof replacement !== 'string') return;
  if (replacement.length <= find.length) return;
  checkStringLength(operator, input.length + occurrences(input, find) * (replacement.length - find.length));
}

export function checkSplit(input: Value, separator: Value): void {
  if (typeof input !== 'string' || typeof separator !== 'string') return;
  checkArrayLength('$split', occurrences(input, separator) + 1);
}

/** Number of code points, without materialising them ([...s] allocates one string each). */
export function codePointLength(s: string): number {
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
    count += 1;
  }
  return count;
}

/** Evaluated arguments handed back to mingo as literals, so that nothing is evaluated twice. */
const literal = (v: Value): Value => ({ $literal: v });

/**
 * mingo's expression operators with the same checks: arguments are evaluated here, checked,
 * and passed on as literals; every other operator's result is checked for size afterwards
 * (those results are bounded by their inputs, so the check cannot come too late).
 */
export function boundedMingoOperators(operators: Record<string, MingoOperator>): Record<string, MingoOperator> {
  const out: Record<string, MingoOperator> = {};
  for (const [name, operator] of Object.entries(operators)) {
    if (typeof operator !== 'function') continue;
    out[name] = (obj, expr, options) => checkResult(name, operator(obj, expr, options));
  }
  const { $range, $concat, $concatArrays, $replaceAll, $replaceOne, $split } = operators;
  if ($range) out['$range'] = (obj, expr, options) => {
    const args = evalExpr(obj, expr, options) as Value[];
    if (Array.isArray(args)) checkRange(args[0], args[1], args[2]);
    return $range(obj, Array.isArray(args) ? args.map(literal) : expr, options);
  };
  for (const [name, operator, check] of [
    ['$concat', $concat, checkConcatStrings],
    ['$concatArrays', $concatArrays, checkConcatArrays],
  ] as const) {
    if (!operator) continue;
    out[name] = (obj, expr, options) => {
      const args = evalExpr(obj, expr, options) as Value[];
      if (!Array.isArray(args)) return operator(obj, expr, options);
      check(name, args);
      return operator(obj, args.map(literal), options);
    };
  }
  for (const [name, operator] of [['$replaceAll', $replaceAll], ['$replaceOne', $replaceOne]] as const) {
    if (!operator) continue;
    out[name] = (obj, expr, options) => {
      const args = evalExpr(obj, expr, options) as { input?: Value; find?: Value; replacement?: Value };
      if (args === null || typeof args !== 'object') return operator(obj, expr, options);
      if (name === '$replaceAll') checkReplaceAll(name, args.input, args.find, args.replacement);
      const literals = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, literal(v)]));
      return operator(obj, literals, options);
    };
  }
  if ($split) out['$split'] = (obj, expr, options) => {
    const args = evalExpr(obj, expr, options) as Value[];
    if (!Array.isArray(args)) return $split(obj, expr, options);
    checkSplit(args[0], args[1]);
    return $split(obj, args.map(literal), options);
  };
  return out;
}

function checkResult(name: string, value: Value): Value {
  if (typeof value === 'string') checkStringLength(name, value.length);
  else if (Array.isArray(value)) checkArrayLength(name, value.length);
  return value;
}
