// The processor's dead letter queue (options.dlq): records are buffered while a batch runs
// and written before the batch counts as done, so a checkpoint never precedes its DLQ writes.
import type { DeadLetterQueueOptions } from '../contract.js';
import type { Doc } from '../expressions/values.js';
import type { ClusterClients } from '../connections/cluster.js';
import { withRetries } from './retry.js';
import { bsonSize } from './bson-size.js';
import { boundedMessage } from '../limits.js';

export class DeadLetterQueue {
  private pending: Doc[] = [];

  constructor(
    private readonly identity: { processorName: string; instanceName: string },
    private readonly target: DeadLetterQueueOptions | undefined,
    private readonly clusters: ClusterClients,
    private readonly published: (record: Doc) => void,
  ) {}

  /** Buffers one record; returns its size for the stats. */
  add(doc: Doc, reason: string, extra?: Doc): number {
    const record: Doc = {
      doc,
      errInfo: { reason: boundedMessage(reason) },
      processorName: this.identity.processorName,
      instanceName: this.identity.instanceName,
      dlqTime: new Date(),
      ...extra,
    };
    if (this.target) this.pending.push(record);
    this.published(record);
    return bsonSize(record);
  }

  async flush(): Promise<void> {
    if (!this.target || this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    const { connectionName, db, coll } = this.target;
    const collection = this.clusters.get(connectionName).db(db).collection(coll);
    await withRetries(`writing to the dead letter queue ${db}.${coll}`, () => collection.insertMany(records, { ordered: false }));
  }
}
