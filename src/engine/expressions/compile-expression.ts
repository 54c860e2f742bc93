// Compiles aggregation expressions into closures, once per stage, so the per-document
// hot path runs plain JavaScript. Operators not listed in OPERATORS (and variables other
// than $$ROOT/$$CURRENT/$$REMOVE) fall back to mingo for that sub-expression only.
import { PipelineError } from '../contract.js';
import { checkConcatArrays, checkConcatStrings, checkSplit, codePointLength } from './bounded-operators.js';
import { parseDateString, toDate } from './dates.js';
import { mingoEvaluate } from './mingo-reference.js';
import { metaValue, toObjectId } from './stream-operators.js';
import { compileConvert } from './binary-convert.js';
import { EXTRA_OPERATORS, REFUSED_OPERATORS } from './extra-operators.js';
import {
  bsonTypeName, compareValues, isNullish, isPlainObject, resolvePath, truthy, valuesEqual,
  type Doc, type Evaluate, type Value,
} from './values.js';

const UNSUPPORTED_VARIABLES = new Set(['NOW', 'CLUSTER_TIME', 'USER_ROLES']);

export function compileExpression(expr: Value): Evaluate {
  if (typeof expr === 'string') return expr.startsWith('$') ? compileFieldPath(expr) : () => expr;
  if (Array.isArray(expr)) {
    const items = expr.map(compileExpression);
    return (doc) => items.map((item) => { const v = item(doc); return v === undefined ? null : v; });
  }
  if (!isPlainObject(expr)) return () => expr;
  const keys = Object.keys(expr);
  const first = keys[0];
  if (keys.length === 1 && first !== undefined && first.startsWith('$')) return compileOperator(first, expr[first]);
  if (keys.some((k) => k.startsWith('$'))) throw new PipelineError(`an expression object may not mix operators and fields: ${keys.join(', ')}`);
  const fields = keys.map((k) => [k, compileExpression(expr[k])] as const);
  return (doc) => {
    const out: Doc = {};
    for (const [k, evaluate] of fields) {
      const v = evaluate(doc);
      if (v !== undefined) out[k] = v;
    }
    return out;
  };
}

function compileFieldPath(path: string): Evaluate {
  if (path.startsWith('$$')) return compileVariable(path.slice(2));
  const parts = path.slice(1).split('.');
  if (parts.length === 1) {
    const key = parts[0]!;
    return (doc) => doc[key];
  }
  return (doc) => resolvePath(doc, parts);
}

function compileVariable(reference: string): Evaluate {
  const [name, ...rest] = reference.split('.');
  if (UNSUPPORTED_VARIABLES.has(name!)) throw new PipelineError(`$$${name} is not supported in Atlas Stream Processing`);
  if (name === 'REMOVE') return () => undefined;
  if (name === 'ROOT' || name === 'CURRENT') return rest.length === 0 ? (doc) => doc : (doc) => resolvePath(doc, rest);
  return mingoEvaluate(`$$${reference}`);
}

type OperatorCompiler = (args: Value) => Evaluate;

function compileOperator(name: string, args: Value): Evaluate {
  if (name === '$literal') return () => args;
  const refused = REFUSED_OPERATORS[name];
  if (refused) throw new PipelineError(refused);
  const compiler = OPERATORS[name] ?? EXTRA_OPERATORS[name];
  return compiler ? compiler(args) : mingoEvaluate({ [name]: args });
}

function argList(args: Value): Evaluate[] {
  return (Array.isArray(args) ? args : [args]).map(compileExpression);
}

function single(args: Value): Evaluate {
  const list = Array.isArray(args) ? args : [args];
  if (list.length !== 1) throw new PipelineError('expression takes exactly 1 argument');
  return compileExpression(list[0]);
}

function pair(name: string, args: Value): [Evaluate, Evaluate] {
  if (!Array.isArray(args) || args.length !== 2) throw new PipelineError(`${name} takes exactly 2 arguments`);
  return [compileExpression(args[0]), compileExpression(args[1])];
}

/** Numeric operator of one argument: null/missing in, null out. */
function unaryMath(fn: (n: number) => number): OperatorCompiler {
  return (args) => {
    const arg = single(args);
    return (doc) => {
      const v = arg(doc);
      if (isNullish(v)) return null;
      if (typeof v !== 'number') throw new Error(`expression requires a numeric argument, found ${bsonTypeName(v)}`);
      return fn(v);
    };
  };
}

function binaryMath(name: string, fn: (a: number, b: number) => number): OperatorCompiler {
  return (args) => {
    const [left, right] = pair(name, args);
    return (doc) => {
      const a = left(doc);
      const b = right(doc);
      if (isNullish(a) || isNullish(b)) return null;
      if (typeof a !== 'number' || typeof b !== 'number') throw new Error(`${name} only supports numeric types`);
      return fn(a, b);
    };
  };
}

function comparison(name: string, test: (c: number) => boolean): OperatorCompiler {
  return (args) => {
    const [left, right] = pair(name, args);
    return (doc) => test(compareValues(left(doc), right(doc)));
  };
}

function rounding(fn: (n: number) => number): OperatorCompiler {
  return (args) => {
    const [value, place] = (Array.isArray(args) ? [...args, 0] : [args, 0]).map(compileExpression) as [Evaluate, Evaluate];
    return (doc) => {
      const v = value(doc);
      if (isNullish(v)) return null;
      const p = place(doc) as number;
      const scale = 10 ** p;
      return fn(v * scale) / scale;
    };
  };
}

function roundHalfEven(n: number): number {
  const r = Math.round(n);
  return Math.abs(n % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function conversion(convert: (v: Value) => Value): OperatorCompiler {
  return (args) => {
    const arg = single(args);
    return (doc) => {
      const v = arg(doc);
      return isNullish(v) ? null : convert(v);
    };
  };
}

function toInteger(v: Value): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number.parseInt(v, 10);
  if (v instanceof Date) return v.getTime();
  throw new Error(`Failed to convert ${bsonTypeName(v)} to an integer`);
}

function toDouble(v: Value): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string') {
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return n;
  }
  throw new Error(`Failed to parse number '${String(v)}' in $convert with no onError value`);
}

function toStringValue(v: Value): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (bsonTypeName(v) === 'objectId') return (v as { toHexString(): string }).toHexString();
  throw new Error(`Unsupported conversion from ${bsonTypeName(v)} to string`);
}

function datePart(name: string, get: (d: Date) => number): OperatorCompiler {
  return (args) => {
    // The {date, timezone} form needs time zone rules: mingo handles it.
    if (isPlainObject(args) && !Object.keys(args)[0]?.startsWith('$')) return mingoEvaluate({ [name]: args });
    const arg = single(args);
    return (doc) => {
      const v = arg(doc);
      if (isNullish(v)) return null;
      if (!(v instanceof Date)) throw new Error(`can't convert from BSON type ${bsonTypeName(v)} to Date`);
      return get(v);
    };
  };
}

function stringOp(fn: (s: string) => Value): OperatorCompiler {
  return (args) => {
    const arg = single(args);
    return (doc) => {
      const v = arg(doc);
      return fn(isNullish(v) ? '' : toStringValue(v));
    };
  };
}

function arrayArg(name: string, v: Value): Value[] {
  if (!Array.isArray(v)) throw new Error(`The argument to ${name} must be an array, but was of type: ${bsonTypeName(v)}`);
  return v;
}

const OPERATORS: Record<string, OperatorCompiler> = {
  $add: (args) => {
    const items = argList(args);
    return (doc) => {
      let sum = 0;
      let date = false;
      for (const item of items) {
        const v = item(doc);
        if (isNullish(v)) return null;
        if (v instanceof Date) { if (date) throw new Error('only one date allowed in an $add expression'); date = true; sum += v.getTime(); } 
        else if (typeof v === 'number') sum += v;
        else throw new Error(`$add only supports numeric or date types, not ${bsonTypeName(v)}`);
      }
      return date ? new Date(sum) : sum;
    };
  },
  $subtract: (args) => {
    const [left, right] = pair('$subtract', args);
    return (doc) => {
      const a = left(doc);
      const b = right(doc);
      if (isNullish(a) || isNullish(b)) return null;
      if (typeof a === 'number' && typeof b === 'number') return a - b;
      if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
      if (a instanceof Date && typeof b === 'number') return new Date(a.getTime() - b);
      throw new Error(`can't $subtract ${bsonTypeName(b)} from ${bsonTypeName(a)}`);
    };
  },
  $multiply: (args) => {
    const items = argList(args);
    return (doc) => {
      let product = 1;
      for (const item of items) {
        const v = item(doc);
        if (isNullish(v)) return null;
        if (typeof v !== 'number') throw new Error(`$multiply only supports numeric types, not ${bsonTypeName(v)}`);
        product *= v;
      }
      return product;
    };
  },
  $divide: binaryMath('$divide', (a, b) => { if (b === 0) throw new Error("can't $divide by zero"); return a / b; }),
  $mod: binaryMath('$mod', (a, b) => { if (b === 0) throw new Error("can't $mod by zero"); return a % b; }),
  $pow: binaryMath('$pow', (a, b) => a ** b),
  $abs: unaryMath(Math.abs),
  $ceil: unaryMath(Math.ceil),
  $floor: unaryMath(Math.floor),
  $sqrt: unaryMath(Math.sqrt),
  $exp: unaryMath(Math.exp),
  $ln: unaryMath(Math.log),
  $log10: unaryMath(Math.log10),
  $round: rounding(roundHalfEven),
  $trunc: rounding(Math.trunc),

  $eq: (args) => { const [l, r] = pair('$eq', args); return (doc) => valuesEqual(l(doc), r(doc)); },
  $ne: (args) => { const [l, r] = pair('$ne', args); return (doc) => !valuesEqual(l(doc), r(doc)); },
  $gt: comparison('$gt', (c) => c > 0),
  $gte: comparison('$gte', (c) => c >= 0),
  $lt: comparison('$lt', (c) => c < 0),
  $lte: comparison('$lte', (c) => c <= 0),
  $cmp: (args) => { const [l, r] = pair('$cmp', args); return (doc) => Math.sign(compareValues(l(doc), r(doc))); },

  $and: (args) => { const items = argList(args); return (doc) => items.every((item) => truthy(item(doc))); },
  $or: (args) => { const items = argList(args); return (doc) => items.some((item) => truthy(item(doc))); },
  $not: (args) => { const arg = single(args); return (doc) => !truthy(arg(doc)); },

  $cond: (args) => {
    const [test, then, otherwise] = (Array.isArray(args) ? args : [args.if, args.then, args.else]).map(compileExpression) as Evaluate[];
    return (doc) => (truthy(test!(doc)) ? then!(doc) : otherwise!(doc));
  },
  $ifNull: (args) => {
    const items = argList(args);
    const fallback = items.pop()!;
    return (doc) => {
      for (const item of items) { const v = item(doc); if (!isNullish(v)) return v; }
      return fallback(doc);
    };
  },
  $switch: (args) => {
    const branches = (args.branches as Value[]).map((b) => [compileExpression(b.case), compileExpression(b.then)] as const);
    const fallback = 'default' in args ? compileExpression(args.default) : undefined;
    return (doc) => {
      for (const [test, then] of branches) if (truthy(test(doc))) return then(doc);
      if (!fallback) throw new Error('$switch could not find a matching branch for an input, and no default was specified.');
      return fallback(doc);
    };
  },

  $concat: (args) => {
    const items = argList(args);
    return (doc) => {
      const parts: string[] = [];
      for (const item of items) {
        const v = item(doc);
        if (isNullish(v)) return null;
        if (typeof v !== 'string') throw new Error(`$concat only supports strings, not ${bsonTypeName(v)}`);
        parts.push(v);
      }
      checkConcatStrings('$concat', parts);
      return parts.join('');
    };
  },
  $toUpper: stringOp((s) => s.toUpperCase()),
  $toLower: stringOp((s) => s.toLowerCase()),
  $strLenCP: (args) => {
    const arg = single(args);
    return (doc) => {
      const v = arg(doc);
      if (typeof v !== 'string') throw new Error(`$strLenCP requires a string argument, found: ${bsonTypeName(v)}`);
      return codePointLength(v);
    };
  },
  $split: (args) => {
    const [str, sep] = pair('$split', args);
    return (doc) => {
      const s = str(doc);
      if (isNullish(s)) return null;
      const d = sep(doc);
      if (typeof s !== 'string' || typeof d !== 'string') throw new Error('$split requires string arguments');
      checkSplit(s, d);
      return s.split(d);
    };
  },

  $toString: conversion(toStringValue),
  $toInt: conversion(toInteger),
  $toLong: conversion(toInteger),
  $toDouble: conversion(toDouble),
  $toBool: conversion((v) => (typeof v === 'string' ? true : truthy(v))),
  $toDate: conversion(toDate),
  $toObjectId: conversion(toObjectId),
  $type: (args) => { const arg = single(args); return (doc) => bsonTypeName(arg(doc)); },
  $isNumber: (args) => { const arg = single(args); return (doc) => typeof arg(doc) === 'number'; },
  $isArray: (args) => { const arg = single(args); return (doc) => Array.isArray(arg(doc)); },
  $dateFromString: (args) => {
    if (!isPlainObject(args) || args['format'] !== undefined) return mingoEvaluate({ $dateFromString: args });
    const str = compileExpression(args['dateString']);
    const timezone = args['timezone'] === undefined ? () => undefined : compileExpression(args['timezone']);
    const onNull = 'onNull' in args ? compileExpression(args['onNull']) : undefined;
    const onError = 'onError' in args ? compileExpression(args['onError']) : undefined;
    return (doc) => {
      const v = str(doc);
      if (isNullish(v)) return onNull ? onNull(doc) : null;
      try {
        if (typeof v !== 'string') throw new Error(`$dateFromString requires that 'dateString' be a string, found: ${bsonTypeName(v)}`);
        return parseDateString(v, timezone(doc));
      } catch (error) {
        if (onError) return onError(doc);
        throw error;
      }
    };
  },
  $year: datePart('$year', (d) => d.getUTCFullYear()),
  $month: datePart('$month', (d) => d.getUTCMonth() + 1),
  $dayOfMonth: datePart('$dayOfMonth', (d) => d.getUTCDate()),
  $hour: datePart('$hour', (d) => d.getUTCHours()),
  $minute: datePart('$minute', (d) => d.getUTCMinutes()),
  $second: datePart('$second', (d) => d.getUTCSeconds()),
  $millisecond: datePart('$millisecond', (d) => d.getUTCMilliseconds()),

  $size: (args) => { const arg = single(args); return (doc) => arrayArg('$size', arg(doc)).length; },
  $arrayElemAt: (args) => {
    const [array, index] = pair('$arrayElemAt', args);
    return (doc) => {
      const a = array(doc);
      const i = index(doc);
      if (isNullish(a) || isNullish(i)) return null;
      const list = arrayArg('$arrayElemAt', a);
      return list[i < 0 ? list.length + i : i];
    };
  },
  $in: (args) => {
    const [value, array] = pair('$in', args);
    return (doc) => {
      const v = value(doc);
      return arrayArg('$in', array(doc)).some((x) => valuesEqual(x, v));
    };
  },
  $concatArrays: (args) => {
    const items = argList(args);
    return (doc) => {
      const parts: Value[][] = [];
      for (const item of items) {
        const v = item(doc);
        if (isNullish(v)) return null;
        parts.push(arrayArg('$concatArrays', v));
      }
      checkConcatArrays('$concatArrays', parts);
      // concat, not push(...v): spreading a large array overflows the stack.
      return ([] as Value[]).concat(...parts);
    };
  },
  $mergeObjects: (args) => {
    const items = argList(args);
    return (doc) => {
      const out: Doc = {};
      for (const item of items) {
        const v = item(doc);
        if (isNullish(v)) continue;
        if (!isPlainObject(v)) throw new Error(`$mergeObjects requires object inputs, but input is of type ${bsonTypeName(v)}`);
        for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = x;
      }
      return out;
    };
  },
  $convert: (args) => compileConvert(args),
  $meta: (args) => {
    // sp-agg-meta: the path's root must be "stream"; anything else is refused before the processor runs.
    if (typeof args !== 'string' || (args !== 'stream' && !args.startsWith('stream.'))) {
      throw new PipelineError(`$meta: unsupported metadata '${String(args)}'; the path must begin with "stream"`);
    }
    return (doc) => metaValue(doc, args);
  },
};
