// `{$emit: {connectionName: "__testLog"}}`: documents go to the control plane, which keeps
// the latest ones for watchOutput.
import type { Doc } from '../expressions/values.js';
import type { Sink } from './sink.js';
import { bsonSize } from '../runtime/bson-size.js';

export class TestLogSink implements Sink {
  readonly name = '$emit';

  constructor(private readonly publish: (docs: Doc[]) => void) {}

  async open(): Promise<void> {}

  async write(docs: Doc[]): Promise<number> {
    let bytes = 0;
    for (const doc of docs) bytes += bsonSize(doc);
    if (docs.length > 0) this.publish(docs);
    return bytes;
  }

  async close(): Promise<void> {}
}
