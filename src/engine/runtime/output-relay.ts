// Carries a processor's output to the main thread without letting a fast pipeline flood
// it: documents are sent at most every FLUSH_MS, and only the latest `limit` of them (the
// main thread keeps no more than that for watchOutput anyway).
import { EJSON } from 'bson';
import type { Doc } from '../expressions/values.js';

const FLUSH_MS = 100;

export class OutputRelay {
  private pending: Doc[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly limit: number, private readonly send: (docs: unknown[]) => void) {}

  push(docs: Doc[]): void {
    this.pending.push(...docs.slice(-this.limit));
    if (this.pending.length > this.limit * 2) this.pending = this.pending.slice(-this.limit);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const docs = this.pending.slice(-this.limit);
    this.pending = [];
    // Canonical Extended JSON: structured clone would strip BSON classes such as ObjectId.
    this.send(docs.map((d) => EJSON.serialize(d, { relaxed: false })));
  }
}
