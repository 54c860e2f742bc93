// Stages Atlas allows only inside a window's pipeline: they see the window's documents
// as a whole when it closes.
import { PipelineError } from '../contract.js';
import { mingoAggregate } from '../expressions/mingo-reference.js';
import { compareValues, isPlainObject, resolvePath, type Doc, type Value } from '../expressions/values.js';
import { compileGroup } from './accumulators.js';
import { GroupState } from './group-state.js';
import type { Operator } from './operator.js';

export function windowOnlyStage(name: string, spec: Value): Operator | undefined {
  switch (name) {
    case '$group': {
      const group = compileGroup(spec);
      if (!group) return { name, process: (docs) => mingoAggregate(docs, [{ $group: spec }]) };
      return {
        name,
        process(docs) {
          const state = new GroupState(group);
          for (const doc of docs) state.add(doc);
          return state.results();
        },
      };
    }
    case '$sort': {
      const compare = compileSort(spec);
      return { name, process: (docs) => [...docs].sort(compare) };
    }
    case '$limit': {
      if (typeof spec !== 'number' || spec <= 0) throw new PipelineError('$limit must be a positive number');
      return { name, process: (docs) => docs.slice(0, spec) };
    }
    case '$count': {
      if (typeof spec !== 'string' || spec === '' || spec.startsWith('$') || spec.includes('.')) throw new PipelineError('$count requires a non-empty field name without $ or .');
      return { name, process: (docs) => (docs.length === 0 ? [] : [{ [spec]: docs.length }]) };
    }
  }
  return undefined;
}

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
