// $emit to a time series collection: `{connectionName, db, coll, timeseries: {timeField,
// metaField?, granularity?, ...}}`. The collection is created as a time series collection
// when it does not exist yet; documents are inserted (time series collections take no
// upserts), and one without a date in timeField goes to the DLQ, as the server would
// refuse it and fail the whole batch.
import { PipelineError } from '../contract.js';
import { isPlainObject, resolvePath, type Doc } from '../expressions/values.js';
import type { ClusterClients } from '../connections/cluster.js';
import { mongoLibrary } from '../connections/client-libraries.js';
import { withRetries } from '../runtime/retry.js';
import { bsonSize } from '../runtime/bson-size.js';
import type { StageContext } from '../stages/operator.js';
import type { Sink } from './sink.js';

const NAMESPACE_EXISTS = 48;
const GRANULARITIES = new Set(['seconds', 'minutes', 'hours']);

export class TimeSeriesEmitSink implements Sink {
  readonly name = '$emit';
  private readonly connectionName: string;
  private readonly db: string;
  private readonly coll: string;
  private readonly timeseries: Doc;
  private readonly timePath: string[];

  constructor(spec: Doc, private readonly clusters: ClusterClients, private readonly ctx: StageContext) {
    const { connectionName, db, coll, timeseries } = spec;
    if (typeof connectionName !== 'string' || typeof db !== 'string' || db === '' || typeof coll !== 'string' || coll === '') {
      throw new PipelineError('$emit to a time series collection needs connectionName, db and coll as strings');
    }
    if (!isPlainObject(timeseries) || typeof timeseries['timeField'] !== 'string' || timeseries['timeField'] === '') {
      throw new PipelineError('$emit.timeseries.timeField must be a field name');
    }
    if (timeseries['metaField'] !== undefined && typeof timeseries['metaField'] !== 'string') throw new PipelineError('$emit.timeseries.metaField must be a field name');
    if (timeseries['granularity'] !== undefined && !GRANULARITIES.has(timeseries['granularity'] as string)) {
      throw new PipelineError('$emit.timeseries.granularity must be "seconds", "minutes" or "hours"');
    }
    this.connectionName = connectionName;
    this.db = db;
    this.coll = coll;
    this.timeseries = timeseries;
    this.timePath = timeseries['timeField'].split('.');
  }

  async open(): Promise<void> {
    const db = this.clusters.get(this.connectionName).db(this.db);
    await withRetries(`creating time series collection ${this.db}.${this.coll}`, async () => {
      try {
        await db.createCollection(this.coll, { timeseries: this.timeseries as never });
      } catch (error) {
        // Already there (from an earlier run, or made by the user): write into it as it is.
        if (!(error instanceof mongoLibrary().MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
      }
    });
  }

  async write(docs: Doc[]): Promise<number> {
    const accepted: Doc[] = [];
    let bytes = 0;
    for (const doc of docs) {
      const time = resolvePath(doc, this.timePath);
      if (!(time instanceof Date) || Number.isNaN(time.getTime())) {
        this.ctx.deadLetter(doc, `time series timeField '${this.timePath.join('.')}' must be a date`);
        continue;
      }
      accepted.push(doc);
      bytes += bsonSize(doc);
    }
    if (accepted.length === 0) return 0;
    const collection = this.clusters.get(this.connectionName).db(this.db).collection(this.coll);
    await withRetries(`$emit into ${this.db}.${this.coll}`, () => collection.insertMany(accepted, { ordered: false }));
    return bytes;
  }

  async close(): Promise<void> {}
}
