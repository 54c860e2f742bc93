// `$source: {documents: [...]}`: a finite stream; the checkpoint records the next index.
import { EJSON } from 'bson';
import type { Doc } from '../expressions/values.js';
import type { Deliver, Source, SourceContext } from './source.js';

const BATCH = 500;
const META = Object.freeze({ type: 'generated' });

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
          docs.push(this.ctx.stamp(doc, now, META));
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
