// A window's own pipeline, split for incremental evaluation: stages before the first
// window-only stage run as documents arrive; a leading groupable $group accumulates
// incrementally; everything after runs once, when the window closes.
import { compileGroup, type CompiledGroup } from '../stages/accumulators.js';
import type { Operator } from '../stages/operator.js';
import type { Doc } from '../expressions/values.js';
import { contentsFactory, type Reject, type WindowContents } from './window-contents.js';

const WINDOW_ONLY = new Set(['$group', '$sort', '$count', '$limit']);
/** References that can see `_stream_meta.window` ({$meta: "stream"}, "stream.window.*", the field itself, the whole document). */
const READS_WINDOW_META = /"stream"|stream\.window|_stream_meta|\$\$ROOT|\$\$CURRENT/;

export class InnerPipeline {
  private readonly onArrival: Operator[];
  private readonly atClose: Operator[];
  private readonly factory: ReturnType<typeof contentsFactory>;
  /**
   * Whether documents must carry their window's bounds as they arrive (the tumbling and
   * hopping pages group by `{$meta: "stream.window.start"}`). Stamping copies every
   * document, so only pipelines that can read it pay for it.
   */
  readonly readsWindowMeta: boolean;

  constructor(stages: Doc[], build: (stages: Doc[]) => Operator[], reject: Reject) {
    const operators = build(stages);
    let split = stages.findIndex((s) => WINDOW_ONLY.has(Object.keys(s)[0]!));
    if (split < 0) split = stages.length;
    const first = stages[split];
    const group: CompiledGroup | undefined = first && '$group' in first ? compileGroup(first['$group']) : undefined;
    this.onArrival = operators.slice(0, split);
    this.atClose = operators.slice(group ? split + 1 : split);
    this.factory = contentsFactory(group, reject);
    this.readsWindowMeta = READS_WINDOW_META.test(JSON.stringify(stages));
  }

  newContents(): WindowContents { return this.factory.create(); }
  restoreContents(snapshot: unknown): WindowContents { return this.factory.restore(snapshot); }

  arrive(docs: Doc[]): Promise<Doc[]> { return runOperators(this.onArrival, docs); }
  close(contents: WindowContents): Promise<Doc[]> { return runOperators(this.atClose, contents.results()); }
}

async function runOperators(operators: Operator[], input: Doc[]): Promise<Doc[]> {
  let docs = input;
  for (const operator of operators) {
    if (docs.length === 0) break;
    const result = operator.process(docs);
    docs = result instanceof Promise ? await result : result;
  }
  return docs;
}
