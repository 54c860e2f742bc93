// `{$emit: {connectionName: "__testLog"}}`: documents go to the control plane, which keeps
// the latest ones for watchOutput.
import type { Doc } from '../expressions/values.js';
import type { StageContext } from '../stages/operator.js';
import type { Sink } from './sink.js';
import { bsonSize } from '../runtime/bson-size.js';
import { documentTooLarge, MAX_BSON_BYTES } from '../limits.js';

export class TestLogSink implements Sink {
  readonly name = '$emit';

  constructor(private readonly publish: (docs: Doc[]) => void, private readonly ctx: StageContext) {}

  async open(): Promise<void> {}

  async write(docs: Doc[]): Promise<number> {
    let bytes = 0;
    const kept: Doc[] = [];
    for (const doc of docs) {
      const size = bsonSize(doc);
      if (size > MAX_BSON_BYTES) {
        // As any MongoDB sink would refuse it; the DLQ record keeps the _id only (the
        // document itself could not be written there either).
        this.ctx.deadLetter({ _id: doc['_id'] }, documentTooLarge(size).message);
        continue;
      }
      bytes += size;
      kept.push(doc);
    }
    if (kept.length > 0) this.publish(kept);
    return bytes;
  }

  async close(): Promise<void> {}
}
