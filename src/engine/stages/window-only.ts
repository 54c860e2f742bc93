// Stages Atlas allows only inside a window's pipeline: they see the window's documents
// as a whole when it closes.
import { PipelineError } from '../contract.js';
import { mingoAggregate } from '../expressions/mingo-reference.js';
import type { Value } from '../expressions/values.js';
import { compileGroup } from './accumulators.js';
import { GroupState } from './group-state.js';
import type { Operator } from './operator.js';
import { compileSort } from './sort.js';

export { compileSort };

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
