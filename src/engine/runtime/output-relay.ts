// Carries a processor's output to the main thread without letting a fast pipeline flood
// it: documents are sent at most every FLUSH_MS, and only the latest `limit` of them (the
// main thread keeps no more than that for watchOutput anyway). What crosses is bounded in
// bytes too: a document over MongoDB's 16 MB (no sink could write it) never crosses, and a
// flush carries at most MAX_FLUSH_BYTES, so no pipeline can run the main thread out of memory.
import { EJSON } from 'bson';
import type { Doc } from '../expressions/values.js';
import { MAX_BSON_BYTES } from '../limits.js';
import { bsonSize } from './bson-size.js';

const FLUSH_MS = 100;
const MAX_FLUSH_BYTES = 2 * MAX_BSON_BYTES;

export class OutputRelay {
  private pending: Doc[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly limit: number, private readonly send: (docs: string[]) => void) {}

  push(docs: Doc[]): void {
    this.pending.push(...docs.slice(-this.limit));
    if (this.pending.length > this.limit * 2) this.pending = this.pending.slice(-this.limit);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const docs = this.latestWithinBudget(this.pending.slice(-this.limit));
    this.pending = [];
    // Canonical Extended JSON text: structured clone would strip BSON classes such as
    // ObjectId, and cloning a tree of objects costs the main thread far more than a string.
    if (docs.length > 0) this.send(docs.map((d) => EJSON.stringify(d, { relaxed: false })));
  }

  /** The latest documents whose sizes add up to no more than MAX_FLUSH_BYTES, in order. */
  private latestWithinBudget(docs: Doc[]): Doc[] {
    const kept: Doc[] = [];
    let bytes = 0;
    for (let i = docs.length - 1; i >= 0; i--) {
      const size = bsonSize(docs[i]!);
      if (size > MAX_BSON_BYTES) continue;
      if (bytes + size > MAX_FLUSH_BYTES) break;
      bytes += size;
      kept.push(docs[i]!);
    }
    return kept.reverse();
  }
}
