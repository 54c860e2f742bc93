// $sort order (and the sortBy of $top/$bottom/$topN/$bottomN/$sortArray): MongoDB's
// BSON order; an array field sorts by its smallest element ascending, largest descending.
import { PipelineError } from '../contract.js';
import { compareValues, isPlainObject, resolvePath, type Doc, type Value } from '../expressions/values.js';

export function compileSort(spec: Value): (a: Doc, b: Doc) => number {
  if (!isPlainObject(spec) || Object.keys(spec).length === 0) throw new PipelineError('$sort requires a non-empty object');
  const keys = Object.entries(spec).map(([path, direction]) => {
    if (direction !== 1 && direction !== -1) throw new PipelineError(`$sort direction for ${path} must be 1 or -1`);
    return { parts: path.split('.'), direction };
  });
  return (a, b) => {
    for (const { parts, direction } of keys) {
      const c = compareValues(sortKey(resolvePath(a, parts), direction), sortKey(resolvePath(b, parts), direction));
      if (c !== 0) return c * direction;
    }
    return 0;
  };
}

/** Arrays sort by their smallest element ascending and their largest descending. */
function sortKey(v: Value, direction: number): Value {
  if (!Array.isArray(v) || v.length === 0) return v ?? null;
  return v.reduce((best, x) => (compareValues(x, best) * direction < 0 ? x : best));
}
