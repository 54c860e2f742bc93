// $merge into a collection through the mongodb driver, one bulkWrite per batch.
// into.db / into.coll may be expressions (documents are grouped by namespace).
import type { AnyBulkWriteOperation } from 'mongodb';
import { PipelineError } from '../contract.js';
import { compileExpression } from '../expressions/compile-expression.js';
import { isPlainObject, resolvePath, type Doc, type Evaluate } from '../expressions/values.js';
import type { ClusterClients } from '../connections/cluster.js';
import { mongoLibrary } from '../connections/client-libraries.js';
import { withRetries } from '../runtime/retry.js';
import type { StageContext } from '../stages/operator.js';
import type { Sink } from './sink.js';
import { bsonSize } from '../runtime/bson-size.js';

const WHEN_MATCHED = new Set(['replace', 'keepExisting', 'merge', 'fail']);
const WHEN_NOT_MATCHED = new Set(['insert', 'discard', 'fail']);

export class MergeSink implements Sink {
  readonly name = '$merge';
  private readonly connectionName: string;
  private readonly db: Evaluate;
  private readonly coll: Evaluate;
  private readonly on: string[];
  private readonly whenMatched: string;
  private readonly whenNotMatched: string;

  constructor(spec: Doc, private readonly clusters: ClusterClients, private readonly ctx: StageContext) {
    const into = spec['into'];
    if (!isPlainObject(into) || typeof into['connectionName'] !== 'string' || into['db'] === undefined || into['coll'] === undefined) {
      throw new PipelineError('$merge.into must be {connectionName, db, coll}');
    }
    this.connectionName = into['connectionName'];
    this.db = compileExpression(into['db']);
    this.coll = compileExpression(into['coll']);
    const on = spec['on'] ?? '_id';
    this.on = Array.isArray(on) ? on : [on];
    this.whenMatched = spec['whenMatched'] ?? 'merge';
    this.whenNotMatched = spec['whenNotMatched'] ?? 'insert';
    if (!WHEN_MATCHED.has(this.whenMatched)) throw new PipelineError('$merge.whenMatched must be replace, keepExisting, merge or fail');
    if (!WHEN_NOT_MATCHED.has(this.whenNotMatched)) throw new PipelineError('$merge.whenNotMatched must be insert, discard or fail');
  }

  async open(): Promise<void> {
    const client = this.clusters.get(this.connectionName);
    await withRetries(`connecting to Cluster connection ${this.connectionName}`, () => client.db('admin').command({ ping: 1 }));
  }

  async write(docs: Doc[]): Promise<number> {
    const byNamespace = new Map<string, { db: string; coll: string; ops: AnyBulkWriteOperation[] }>();
    let bytes = 0;
    for (const doc of docs) {
      try {
        const db = this.db(doc);
        const coll = this.coll(doc);
        if (typeof db !== 'string' || typeof coll !== 'string') throw new Error('$merge into.db and into.coll must evaluate to strings');
        const op = this.operation(doc);
        if (!op) continue;
        const ns = `${db}.${coll}`;
        let entry = byNamespace.get(ns);
        if (!entry) byNamespace.set(ns, (entry = { db, coll, ops: [] }));
        entry.ops.push(op);
        bytes += bsonSize(doc);
      } catch (error) {
        this.ctx.deadLetter(doc, (error as Error).message);
      }
    }
    const client = this.clusters.get(this.connectionName);
    for (const { db, coll, ops } of byNamespace.values()) {
      await withRetries(`$merge into ${db}.${coll}`, () => client.db(db).collection(coll).bulkWrite(ops, { ordered: true }));
    }
    return bytes;
  }

  private operation(doc: Doc): AnyBulkWriteOperation | undefined {
    const onId = this.on.length === 1 && this.on[0] === '_id';
    if (onId && doc['_id'] === undefined) {
      // No identity to match on: the document can only be new.
      return this.whenNotMatched === 'insert' ? { insertOne: { document: { _id: new (mongoLibrary().ObjectId)(), ...doc } } } : undefined;
    }
    const filter: Doc = {};
    for (const field of this.on) {
      const value = resolvePath(doc, field.split('.'));
      if (value === undefined) throw new Error(`$merge: document is missing the 'on' field ${field}`);
      filter[field] = value;
    }
    const upsert = this.whenNotMatched === 'insert';
    const { _id: id, ...withoutId } = doc;
    switch (this.whenMatched) {
      case 'replace': return { replaceOne: { filter, replacement: onId ? withoutId : doc, upsert } };
      case 'keepExisting': return upsert ? { updateOne: { filter, update: { $setOnInsert: doc }, upsert } } : undefined;
      default: {
        // Matching on _id, an upsert takes _id from the filter; otherwise the document's own _id is kept on insert.
        const keepId = !onId && id !== undefined ? { $setOnInsert: { _id: id } } : {};
        return { updateOne: { filter, update: { $set: withoutId, ...keepId }, upsert } };
      }
    }
  }

  async close(): Promise<void> {}
}
