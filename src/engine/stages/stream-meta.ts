// `_stream_meta` as the Stream Aggregation page describes it: only `$project: {_stream_meta: 0}`
// or `$unset: "_stream_meta"` removes it, so stages that build a new document
// ($replaceRoot, $replaceWith, inclusion $project) carry it over; and $setStreamMeta
// (sp-agg-setStreamMeta) writes into it.
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { isPlainObject, type Doc, type Evaluate, type Value } from '../expressions/values.js';

export const STREAM_META = '_stream_meta';

/** `out` with the input's `_stream_meta` when `out` does not set its own. */
export function keepStreamMeta(input: Doc, out: Doc): Doc {
  const meta = input[STREAM_META];
  if (meta !== undefined && out[STREAM_META] === undefined) out[STREAM_META] = meta;
  return out;
}

/** `{$setStreamMeta: {"stream.<path>": <expression>}}`: sets `_stream_meta.<path>`; a failing expression sends the document to the DLQ. */
export function compileSetStreamMeta(spec: Value): (doc: Doc) => Doc {
  if (!isPlainObject(spec) || Object.keys(spec).length === 0) throw new PipelineError('$setStreamMeta requires an object of "stream.<field>": <expression>');
  const assignments: Array<{ parts: string[]; evaluate: Evaluate }> = Object.entries(spec).map(([key, expr]) => {
    const parts = key.split('.');
    if (parts[0] !== 'stream' || parts.length < 2 || parts.some((p) => p === '' || p.startsWith('$'))) {
      throw new PipelineError(`$setStreamMeta field '${key}' must be a path beginning with "stream."`);
    }
    return { parts: parts.slice(1), evaluate: compileExpression(expr) };
  });
  return (doc) => {
    const values = assignments.map((a) => a.evaluate(doc));
    const meta: Doc = { ...(isPlainObject(doc[STREAM_META]) ? doc[STREAM_META] : {}) };
    assignments.forEach(({ parts }, i) => {
      let target = meta;
      for (const part of parts.slice(0, -1)) {
        target[part] = isPlainObject(target[part]) ? { ...target[part] } : {};
        target = target[part];
      }
      const value = values[i];
      if (value === undefined) delete target[parts[parts.length - 1]!];
      else target[parts[parts.length - 1]!] = value;
    });
    return { ...doc, [STREAM_META]: meta };
  };
}
