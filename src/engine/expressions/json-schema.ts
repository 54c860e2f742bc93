// $jsonSchema as MongoDB's validator understands it: JSON Schema draft 4 plus `bsonType`.
// Compiled once into a predicate; mingo has no validator of its own, so the reference
// path (mingo-reference.ts) uses this one too.
import { bsonTypeName, hasBsonType, isPlainObject, valuesEqual, type Value } from './values.js';

type Check = (v: Value) => boolean;

const JSON_TYPE_TO_BSON: Record<string, string[]> = {
  object: ['object'], array: ['array'], string: ['string'], boolean: ['bool'], null: ['null'],
  number: ['number'], integer: ['int', 'long'],
};

export function compileJsonSchema(schema: Value): Check {
  if (!isPlainObject(schema)) throw new Error('$jsonSchema must be an object');
  const checks: Check[] = [];
  for (const [keyword, arg] of Object.entries(schema)) {
    const check = compileKeyword(keyword, arg, schema);
    if (check) checks.push(check);
  }
  return (v) => {
    for (const check of checks) if (!check(v)) return false;
    return true;
  };
}

function compileKeyword(keyword: string, arg: Value, schema: Record<string, Value>): Check | undefined {
  switch (keyword) {
    case 'bsonType': {
      const types: Value[] = Array.isArray(arg) ? arg : [arg];
      return (v) => types.some((t) => hasBsonType(v, t));
    }
    case 'type': {
      const types: string[] = Array.isArray(arg) ? arg : [arg];
      const bsonTypes = types.flatMap((t) => JSON_TYPE_TO_BSON[t] ?? [t]);
      return (v) => bsonTypes.some((t) => hasBsonType(v, t));
    }
    case 'enum': return (v) => (arg as Value[]).some((e) => valuesEqual(v, e));
    case 'minimum': return onNumbers((n) => (schema['exclusiveMinimum'] === true ? n > arg : n >= arg));
    case 'maximum': return onNumbers((n) => (schema['exclusiveMaximum'] === true ? n < arg : n <= arg));
    case 'multipleOf': return onNumbers((n) => n % arg === 0);
    case 'minLength': return onStrings((s) => [...s].length >= arg);
    case 'maxLength': return onStrings((s) => [...s].length <= arg);
    case 'pattern': {
      const re = new RegExp(arg as string, 'u');
      return onStrings((s) => re.test(s));
    }
    case 'required': return onObjects((o) => (arg as string[]).every((k) => o[k] !== undefined));
    case 'minProperties': return onObjects((o) => Object.keys(o).length >= arg);
    case 'maxProperties': return onObjects((o) => Object.keys(o).length <= arg);
    case 'properties': {
      const props = Object.entries(arg as Record<string, Value>).map(([k, s]) => [k, compileJsonSchema(s)] as const);
      return onObjects((o) => props.every(([k, check]) => o[k] === undefined || check(o[k])));
    }
    case 'patternProperties': {
      const patterns = Object.entries(arg as Record<string, Value>).map(([p, s]) => [new RegExp(p, 'u'), compileJsonSchema(s)] as const);
      return onObjects((o) => Object.entries(o).every(([k, v]) => patterns.every(([re, check]) => !re.test(k) || check(v))));
    }
    case 'additionalProperties': return compileAdditionalProperties(arg, schema);
    case 'dependencies': {
      const deps = Object.entries(arg as Record<string, Value>).map(([k, d]) => {
        const check: Check = Array.isArray(d) ? (o) => d.every((name: string) => o[name] !== undefined) : compileJsonSchema(d);
        return [k, check] as const;
      });
      return onObjects((o) => deps.every(([k, check]) => o[k] === undefined || check(o)));
    }
    case 'items': {
      if (Array.isArray(arg)) {
        const positional = arg.map(compileJsonSchema);
        const extra = schema['additionalItems'];
        const extraCheck = extra === false ? () => false : isPlainObject(extra) ? compileJsonSchema(extra) : () => true;
        return onArrays((a) => a.every((el, i) => (positional[i] ?? extraCheck)(el)));
      }
      const item = compileJsonSchema(arg);
      return onArrays((a) => a.every(item));
    }
    case 'minItems': return onArrays((a) => a.length >= arg);
    case 'maxItems': return onArrays((a) => a.length <= arg);
    case 'uniqueItems':
      return arg === true ? onArrays((a) => a.every((x, i) => a.findIndex((y) => valuesEqual(x, y)) === i)) : undefined;
    case 'allOf': { const subs = (arg as Value[]).map(compileJsonSchema); return (v) => subs.every((s) => s(v)); }
    case 'anyOf': { const subs = (arg as Value[]).map(compileJsonSchema); return (v) => subs.some((s) => s(v)); }
    case 'oneOf': { const subs = (arg as Value[]).map(compileJsonSchema); return (v) => subs.filter((s) => s(v)).length === 1; }
    case 'not': { const sub = compileJsonSchema(arg); return (v) => !sub(v); }
    case 'exclusiveMinimum': case 'exclusiveMaximum': case 'additionalItems':
    case 'title': case 'description': return undefined;
    default:
      throw new Error(`$jsonSchema keyword '${keyword}' is not supported`);
  }
}

function compileAdditionalProperties(arg: Value, schema: Record<string, Value>): Check | undefined {
  if (arg === true) return undefined;
  const known = new Set(Object.keys((schema['properties'] as object | undefined) ?? {}));
  const patterns = Object.keys((schema['patternProperties'] as object | undefined) ?? {}).map((p) => new RegExp(p, 'u'));
  const extraCheck: Check = arg === false ? () => false : compileJsonSchema(arg);
  return onObjects((o) => Object.entries(o).every(([k, v]) => known.has(k) || patterns.some((re) => re.test(k)) || extraCheck(v)));
}

// Keywords only constrain values of their own type (draft 4): anything else passes.
const onNumbers = (check: (n: number) => boolean): Check => (v) => typeof v !== 'number' || check(v);
const onStrings = (check: (s: string) => boolean): Check => (v) => typeof v !== 'string' || check(v);
const onArrays = (check: (a: Value[]) => boolean): Check => (v) => !Array.isArray(v) || check(v);
const onObjects = (check: (o: Record<string, Value>) => boolean): Check => (v) => bsonTypeName(v) !== 'object' || check(v);
