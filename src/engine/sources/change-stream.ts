// Change streams on a Cluster connection: the whole cluster, a database, or one or more
// collections. The checkpoint keeps the last resume token.
import type { ChangeStream, ChangeStreamOptions, Document as MongoDocument } from 'mongodb';
import { Timestamp } from 'bson';
import { PipelineError } from '../contract.js';
import type { ClusterClients } from '../connections/cluster.js';
import type { Doc, Value } from '../expressions/values.js';
import type { Deliver, Source, SourceContext } from './source.js';

export class ChangeStreamSource implements Source {
  private stream: ChangeStream | undefined;
  private resumeToken: Value;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly db: string | undefined;
  private readonly colls: string[];
  private readonly config: Doc;

  constructor(
    private readonly ctx: SourceContext,
    spec: Doc,
    private readonly connectionName: string,
    private readonly clusters: ClusterClients,
    resumePosition: unknown,
    private readonly startAtOperationTime: string | undefined,
  ) {
    this.db = spec['db'] as string | undefined;
    const coll: Value = spec['coll'];
    this.colls = coll === undefined ? [] : Array.isArray(coll) ? coll : [coll];
    if (this.colls.length > 0 && !this.db) throw new PipelineError('$source.coll needs $source.db');
    this.config = (spec['config'] ?? {}) as Doc;
    this.resumeToken = (resumePosition as { resumeToken?: Value } | undefined)?.resumeToken;
  }

  async start(deliver: Deliver): Promise<void> {
    const client = this.clusters.get(this.connectionName);
    await client.db('admin').command({ ping: 1 });
    const pipeline: MongoDocument[] = [...((this.config['pipeline'] as MongoDocument[] | undefined) ?? [])];
    if (this.colls.length > 1) pipeline.unshift({ $match: { 'ns.coll': { $in: this.colls } } });
    const options: ChangeStreamOptions = {};
    if (this.config['fullDocument']) options.fullDocument = this.config['fullDocument'] as string;
    if (this.config['fullDocumentBeforeChange']) options.fullDocumentBeforeChange = this.config['fullDocumentBeforeChange'] as string;
    if (this.resumeToken) options.startAfter = this.resumeToken;
    else if (this.config['startAfter']) options.startAfter = this.config['startAfter'];
    else {
      const at = this.config['startAtOperationTime'] ?? this.startAtOperationTime;
      if (at !== undefined) options.startAtOperationTime = toTimestamp(at);
    }
    const db = this.db ? client.db(this.db) : undefined;
    const only = this.colls.length === 1 ? this.colls[0] : undefined;
    this.stream = only && db ? db.collection(only).watch(pipeline, options) : db ? db.watch(pipeline, options) : client.watch(pipeline, options);
    this.loop = this.run(deliver);
  }

  private async run(deliver: Deliver): Promise<void> {
    const stream = this.stream!;
    const fullDocumentOnly = this.config['fullDocumentOnly'] === true;
    try {
      while (!this.stopped) {
        // One change per batch: waiting for more would hold back the first until the server's await time ends.
        const change = await stream.tryNext();
        if (!change) continue;
        const batch: MongoDocument[] = [change];
        const docs: Doc[] = [];
        for (const change of batch) {
          const doc: Doc = fullDocumentOnly ? { ...(change['fullDocument'] as Doc) } : { ...change };
          const time = change['wallTime'] instanceof Date ? change['wallTime'] : timestampDate(change['clusterTime']);
          const meta: Doc = { type: 'atlas', ...(change['ns'] ? { ns: change['ns'] } : {}) };
          try {
            docs.push(this.ctx.stamp(doc, time, meta));
          } catch (error) {
            this.ctx.deadLetter(doc, (error as Error).message);
          }
        }
        const token = batch.at(-1)!['_id'];
        await deliver(docs, undefined, { resumeToken: token });
        this.resumeToken = token;
      }
    } catch (error) {
      if (!this.stopped) this.ctx.fail(`change stream on connection ${this.connectionName} failed: ${(error as Error).message}`);
    }
  }

  position(): unknown {
    return { resumeToken: this.resumeToken ?? null };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stream?.close().catch(() => undefined);
    await this.loop;
  }
}

function timestampDate(ts: Value): Date {
  if (ts instanceof Timestamp) return new Date(ts.high * 1000);
  return new Date();
}

function toTimestamp(at: Value): Timestamp {
  if (at instanceof Timestamp) return at;
  const ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at * 1000 : Date.parse(String(at));
  if (Number.isNaN(ms)) throw new PipelineError(`startAtOperationTime ${String(at)} is not a date`);
  return new Timestamp({ t: Math.floor(ms / 1000), i: 0 });
}
