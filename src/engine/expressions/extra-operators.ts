// Expression operators compiled here rather than left to mingo, because mingo lacks them
// ($bsonSize; Atlas's $createUUID and $currentDate) or orders values differently from
// MongoDB ($max/$min, $maxN/$minN, $sortArray across types).
import { UUID } from 'bson';
import { PipelineError } from '../contract.js';
import { bsonSize } from '../runtime/bson-size.js';
import { compileSort } from '../stages/sort.js';
import { compileExpression } from './compile-expression.js';
import { bsonTypeName, compareValues, isNullish, isPlainObject, type Doc, type Evaluate, type Value } from './values.js';

type Compiler = (args: Value) => Evaluate;

/** Atlas Stream Processing refuses these where it runs no JavaScript (sp-agg-function: AWS workspaces only). */
export const REFUSED_OPERATORS: Record<string, string> = {
  $function: '$function is only available in Atlas Stream Processing workspaces deployed to AWS; this emulator runs no user JavaScript',
  $accumulator: '$accumulator is not supported in Atlas Stream Processing',
};

function noArguments(name: string, args: Value): void {
  if (!(isPlainObject(args) && Object.keys(args).length === 0) && !(Array.isArray(args) && args.length === 0)) {
    throw new PipelineError(`${name} takes no arguments`);
  }
}

/** $max/$min as expressions: over the arguments (or one array argument), ignoring null and missing. */
function extreme(sign: 1 | -1): Compiler {
  return (args) => {
    const items = (Array.isArray(args) ? args : [args]).map(compileExpression);
    const single = !Array.isArray(args) || args.length === 1;
    return (doc) => {
      let values: Value[] = items.map((item) => item(doc));
      if (single && Array.isArray(values[0])) values = values[0];
      let best: Value = null;
      for (const v of values) if (!isNullish(v) && (best === null || compareValues(v, best) * sign > 0)) best = v;
      return best;
    };
  };
}

function nArray(name: string, pick: (input: Value[], n: number) => Value[]): Compiler {
  return (args) => {
    if (!isPlainObject(args) || !('input' in args) || !('n' in args)) throw new PipelineError(`${name} requires 'input' and 'n'`);
    const input = compileExpression(args['input']);
    const n = compileExpression(args['n']);
    return (doc) => {
      const count = n(doc);
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) throw new Error(`${name} 'n' must be a positive integer`);
      const list = input(doc);
      if (isNullish(list)) return null;
      if (!Array.isArray(list)) throw new Error(`${name} 'input' must be an array, found ${bsonTypeName(list)}`);
      return pick(list, count);
    };
  };
}

const byOrder = (sign: 1 | -1) => (input: Value[], n: number) =>
  input.filter((v) => !isNullish(v)).sort((a, b) => compareValues(a, b) * sign).slice(0, n);

export const EXTRA_OPERATORS: Record<string, Compiler> = {
  $bsonSize: (args) => {
    const arg = compileExpression(args);
    return (doc) => {
      const v = arg(doc);
      if (isNullish(v)) return null;
      if (!isPlainObject(v)) throw new Error(`$bsonSize requires a document input, found: ${bsonTypeName(v)}`);
      return bsonSize(v);
    };
  },
  $createUUID: (args) => { noArguments('$createUUID', args); return () => new UUID(); },
  // sp-agg-currentDate: the workspace's system time, each time it is evaluated.
  $currentDate: (args) => { noArguments('$currentDate', args); return () => new Date(); },
  $max: extreme(1),
  $min: extreme(-1),
  $maxN: nArray('$maxN', byOrder(-1)),
  $minN: nArray('$minN', byOrder(1)),
  $firstN: nArray('$firstN', (input, n) => input.slice(0, n)),
  $lastN: nArray('$lastN', (input, n) => input.slice(-n)),
  $sortArray: (args) => {
    if (!isPlainObject(args) || !('input' in args) || !('sortBy' in args)) throw new PipelineError("$sortArray requires 'input' and 'sortBy'");
    const input = compileExpression(args['input']);
    const sortBy = args['sortBy'];
    const compare: (a: Value, b: Value) => number = sortBy === 1 || sortBy === -1
      ? (a, b) => compareValues(a, b) * sortBy
      : compileSort(sortBy) as (a: Doc, b: Doc) => number;
    return (doc) => {
      const list = input(doc);
      if (isNullish(list)) return null;
      if (!Array.isArray(list)) throw new Error(`$sortArray 'input' must be an array, found ${bsonTypeName(list)}`);
      return [...list].sort(compare);
    };
  },
};
