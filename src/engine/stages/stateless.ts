// Stages that look at one document at a time.
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { compileFilter } from '../expressions/compile-filter.js';
import { mingoAggregate } from '../expressions/mingo-reference.js';
import { bsonTypeName, isNullish, isPlainObject, resolvePath, type Doc, type Value } from '../expressions/values.js';
import { perDocument, type Operator, type StageContext } from './operator.js';
import { compileAddFields, compileProjection, compileUnset } from './projection.js';
import { compileSetStreamMeta, keepStreamMeta } from './stream-meta.js';

const VALIDATE_FAILURE_REASON = 'Input document found to be invalid in $validate stage';

export function statelessStage(name: string, spec: Value, ctx: StageContext): Operator | undefined {
  switch (name) {
    case '$match': {
      const test = compileFilter(spec);
      return perDocument(name, ctx, (doc) => (test(doc) ? doc : undefined));
    }
    case '$project': return perDocument(name, ctx, compileProjection(spec));
    case '$unset': return perDocument(name, ctx, compileUnset(spec));
    case '$addFields':
    case '$set': return perDocument(name, ctx, compileAddFields(spec));
    case '$replaceRoot':
      if (!isPlainObject(spec) || !('newRoot' in spec)) throw new PipelineError('$replaceRoot requires a newRoot expression');
      return replaceRoot(name, spec['newRoot'], ctx);
    case '$replaceWith': return replaceRoot(name, spec, ctx);
    case '$redact': return perDocument(name, ctx, (doc) => mingoAggregate([doc], [{ $redact: spec }])[0]);
    case '$unwind': return unwind(spec, ctx);
    case '$validate': return validate(spec, ctx);
    case '$setStreamMeta': return perDocument(name, ctx, compileSetStreamMeta(spec));
  }
  return undefined;
}

function replaceRoot(name: string, expr: Value, ctx: StageContext): Operator {
  const newRoot = compileExpression(expr);
  return perDocument(name, ctx, (doc) => {
    const v = newRoot(doc);
    if (!isPlainObject(v)) throw new Error(`'newRoot' expression must evaluate to an object, but resulting value was: ${isNullish(v) ? 'MISSING' : bsonTypeName(v)}`);
    return keepStreamMeta(doc, v === doc ? v : { ...v });
  });
}

function unwind(spec: Value, ctx: StageContext): Operator {
  const options = typeof spec === 'string' ? { path: spec } : spec;
  const path: Value = options?.path;
  if (typeof path !== 'string' || !path.startsWith('$')) throw new PipelineError('$unwind path must be a field path starting with $');
  const parts = path.slice(1).split('.');
  const indexField: string | undefined = options.includeArrayIndex;
  const preserve = options.preserveNullAndEmptyArrays === true;
  const withValue = (doc: Doc, value: Value, index: number | null): Doc => {
    const out = setTopPath(doc, parts, value);
    if (indexField) out[indexField] = index;
    return out;
  };
  return perDocument('$unwind', ctx, (doc) => {
    const value = resolvePath(doc, parts);
    if (Array.isArray(value)) {
      if (value.length === 0) return preserve ? withValue(doc, undefined, null) : undefined;
      return value.map((el, i) => withValue(doc, el, i));
    }
    if (isNullish(value)) return preserve ? (indexField ? { ...doc, [indexField]: null } : doc) : undefined;
    return indexField ? { ...doc, [indexField]: null } : doc;
  });
}

/** Copies the objects along `parts` and sets the leaf (undefined removes it). */
function setTopPath(doc: Doc, parts: string[], value: Value): Doc {
  const out: Doc = { ...doc };
  let target = out;
  parts.forEach((part, i) => {
    if (i === parts.length - 1) {
      if (value === undefined) delete target[part];
      else target[part] = value;
    } else {
      const next: Doc = { ...(target[part] as Doc) };
      target[part] = next;
      target = next;
    }
  });
  return out;
}

function validate(spec: Value, ctx: StageContext): Operator {
  if (!isPlainObject(spec) || !isPlainObject(spec['validator'])) throw new PipelineError('$validate requires a validator object');
  const action = spec['validationAction'] ?? 'discard';
  if (action !== 'discard' && action !== 'dlq') throw new PipelineError(`$validate.validationAction must be "discard" or "dlq", not ${String(action)}`);
  const test = compileFilter(spec['validator']);
  return perDocument('$validate', ctx, (doc) => {
    if (test(doc)) return doc;
    if (action === 'dlq') ctx.deadLetter(doc, VALIDATE_FAILURE_REASON);
    return undefined;
  });
}
