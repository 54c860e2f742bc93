// `$source: {documents: [...]}`: a finite stream; the checkpoint records the next index.
// sp-agg-source: `documents` may also be an expression that evaluates to that array.
import { EJSON } from 'bson';
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { isPlainObject, type Doc, type Value } from '../expressions/values.js';
import type { Deliver, Source, SourceContext } from './source.js';

const BATCH = 500;

/** The documents of `$source.documents`: the array itself, or what its expression evaluates to. */
export function sourceDocuments(spec: Value): Doc[] {
  let value: Value = spec;
  if (!Array.isArray(spec)) {
    try {
      value = compileExpression(spec)({});
    } catch (error) {
      if (error instanceof PipelineError) throw error;
      throw new PipelineError(`$source.documents could not be evaluated: ${(error as Error).message}`);
    }
  }
  if (!Array.isArray(value) || !value.every(isPlainObject)) throw new PipelineError('$source.documents must be an array of documents or an expression that evaluates to one');
  return value as Doc[];
}

export class DocumentsSource implements Source {
  private next: number;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly ctx: SourceContext, private readonly documents: Doc[], resumeFrom?: unknown) {
    this.next = (resumeFrom as { next?: number } | undefined)?.next ?? 0;
  }

  async start(deliver: Deliver): Promise<void> {
    this.loop = this.run(deliver);
  }

  private async run(deliver: Deliver): Promise<void> {
    while (!this.stopped && this.next < this.documents.length) {
      const end = Math.min(this.next + BATCH, this.documents.length);
      const now = new Date();
      const docs: Doc[] = [];
      for (let i = this.next; i < end; i++) {
        // A private copy: the definition's documents must survive for a restart.
        const doc = EJSON.deserialize(EJSON.serialize(this.documents[i], { relaxed: false })) as Doc;
        try {
          docs.push(this.ctx.stamp(doc, now, { type: 'generated' }));
        } catch (error) {
          this.ctx.deadLetter(doc, (error as Error).message);
        }
      }
      this.next = end;
      await deliver(docs, undefined, this.position());
    }
  }

  position(): { next: number } {
    return { next: this.next };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}
