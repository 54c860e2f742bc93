// Carries a processor's output to the main thread without letting a fast pipeline flood
// it. Encoding documents as text and handing them to another thread cost more than the
// pipeline itself once several processors share the cores, so by default nothing crosses:
// the worker keeps the latest documents (RecentOutput) and sends them when a watch begins,
// at stop and at a failure. While someone watches, documents are sent at most every
// FLUSH_MS, and only the latest `limit` of them (the main thread keeps no more than that
// anyway). What crosses is bounded in bytes too: a document over MongoDB's 16 MB (no sink
// could write it) never crosses, and a message carries at most MAX_FLUSH_BYTES, so no
// pipeline can run the main thread out of memory.
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
    const texts = encodeLatest(this.pending, this.limit);
    this.pending = [];
    if (texts.length > 0) this.send(texts);
  }

  /** Forgets what was not sent yet (a new watch starts from the recent documents instead). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}

/** The latest `limit` documents output, kept in the worker as they are (no copy, no encoding). */
export class RecentOutput {
  private docs: Doc[] = [];

  constructor(private readonly limit: number) {}

  push(docs: Doc[]): void {
    for (const doc of docs) this.docs.push(doc);
    // Trimmed in steps of `limit`, not per document: a batch costs one push per document.
    if (this.docs.length > this.limit * 2) this.docs = this.docs.slice(-this.limit);
  }

  encode(): string[] {
    return encodeLatest(this.docs, this.limit);
  }
}

/**
 * The latest `limit` documents, no larger in all than MAX_FLUSH_BYTES, in order, as canonical
 * Extended JSON text: structured clone would strip BSON classes such as ObjectId, and cloning
 * a tree of objects costs the main thread far more than a string.
 */
function encodeLatest(docs: Doc[], limit: number): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (let i = docs.length - 1; i >= Math.max(0, docs.length - limit); i--) {
    const size = bsonSize(docs[i]!);
    if (size > MAX_BSON_BYTES) continue;
    if (bytes + size > MAX_FLUSH_BYTES) break;
    bytes += size;
    kept.push(EJSON.stringify(docs[i]!, { relaxed: false }));
  }
  return kept.reverse();
}
