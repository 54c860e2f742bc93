// A small MongoDB server double speaking the wire protocol (OP_QUERY handshake, OP_MSG
// commands) on a loopback port, enough for the official driver to run what the engine
// uses: hello/ping, create (keeping options such as timeseries) and listCollections,
// insert, update (with upsert), delete, find, aggregate and change streams on a
// collection, database or the whole deployment. Data lives in memory;
// queries, updates and aggregation run through mingo.
import { createServer, type Server, type Socket } from 'node:net';
import { BSON, Long, ObjectId, Timestamp } from 'bson';
import { Aggregator, Query, update as applyUpdate } from 'mingo';

type Doc = Record<string, unknown>;

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;
/** Fields of a `create` command that are not collection options. */
const COMMAND_FIELDS = new Set(['create', 'lsid', 'txnNumber', 'writeConcern', 'comment']);

interface ChangeEvent { seq: number; db: string; coll: string; event: Doc }
interface ChangeCursor { id: number; db: string; coll: string | undefined; next: number; pipeline: Doc[] }

export class MongoDouble {
  readonly databases = new Map<string, Map<string, Doc[]>>();
  private readonly events: ChangeEvent[] = [];
  private readonly collectionOptions = new Map<string, Doc>();
  private readonly cursors = new Map<number, ChangeCursor>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();
  private server: Server | undefined;
  private nextCursorId = 1;
  private requestId = 1;
  private clock = 0;
  port = 0;

  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}/?directConnection=true`;
  }

  async start(): Promise<void> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    for (const wake of this.waiters) wake();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  collection(db: string, coll: string): Doc[] {
    let database = this.databases.get(db);
    if (!database) this.databases.set(db, (database = new Map()));
    let docs = database.get(coll);
    if (!docs) database.set(coll, (docs = []));
    return docs;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = Buffer.alloc(0);
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= buffered.readInt32LE(0)) {
        const length = buffered.readInt32LE(0);
        const message = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        // One connection's requests are answered in order, as the driver expects.
        chain = chain.then(() => this.handle(socket, message)).catch(() => { socket.destroy(); });
      }
    });
  }

  private async handle(socket: Socket, message: Buffer): Promise<void> {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_QUERY) {
      let offset = 20;
      while (message[offset] !== 0) offset++;
      offset += 9;
      const query = BSON.deserialize(message.subarray(offset, offset + message.readInt32LE(offset)));
      socket.write(this.reply(requestId, await this.command(query)));
    } else if (opCode === OP_MSG) {
      const command = parseOpMsg(message);
      socket.write(this.msg(requestId, await this.command(command)));
    }
  }

  private reply(responseTo: number, body: Doc): Buffer {
    const doc = BSON.serialize(body);
    const header = Buffer.alloc(36);
    header.writeInt32LE(36 + doc.length, 0);
    header.writeInt32LE(this.requestId++, 4);
    header.writeInt32LE(responseTo, 8);
    header.writeInt32LE(OP_REPLY, 12);
    header.writeInt32LE(0, 16);
    header.writeBigInt64LE(0n, 20);
    header.writeInt32LE(0, 28);
    header.writeInt32LE(1, 32);
    return Buffer.concat([header, doc]);
  }

  private msg(responseTo: number, body: Doc): Buffer {
    const doc = BSON.serialize(body);
    const header = Buffer.alloc(21);
    header.writeInt32LE(21 + doc.length, 0);
    header.writeInt32LE(this.requestId++, 4);
    header.writeInt32LE(responseTo, 8);
    header.writeInt32LE(OP_MSG, 12);
    header.writeUInt32LE(0, 16);
    header.writeUInt8(0, 20);
    return Buffer.concat([header, doc]);
  }

  private async command(cmd: Doc): Promise<Doc> {
    const name = Object.keys(cmd)[0]!;
    const db = String(cmd['$db'] ?? 'admin');
    try {
      switch (name.toLowerCase()) {
        case 'hello': case 'ismaster': return this.hello();
        case 'ping': case 'endsessions': case 'buildinfo': case 'getparameter': return { ok: 1, version: '7.0.0' };
        case 'insert': return this.insert(db, String(cmd[name]), cmd['documents'] as Doc[]);
        case 'update': return this.update(db, String(cmd[name]), cmd['updates'] as Doc[]);
        case 'delete': return this.remove(db, String(cmd[name]), cmd['deletes'] as Doc[]);
        case 'find': return this.find(db, String(cmd[name]), cmd);
        case 'aggregate': return this.aggregate(db, cmd[name], cmd['pipeline'] as Doc[]);
        case 'getmore': return await this.getMore(Number(cmd[name]), Number(cmd['maxTimeMS'] ?? 1000));
        case 'killcursors': for (const id of cmd['cursors'] as unknown[]) this.cursors.delete(Number(id)); return { ok: 1, cursorsKilled: cmd['cursors'] };
        case 'drop': this.databases.get(db)?.delete(String(cmd[name])); return { ok: 1 };
        case 'create': return this.create(db, String(cmd[name]), cmd);
        case 'createindexes': this.collection(db, String(cmd[name])); return { ok: 1 };
        case 'listcollections': return this.listCollections(db, (cmd['filter'] ?? {}) as Doc);
        default: return { ok: 0, errmsg: `no such command: '${name}'`, code: 59, codeName: 'CommandNotFound' };
      }
    } catch (error) {
      return { ok: 0, errmsg: (error as Error).message, code: 2, codeName: 'BadValue' };
    }
  }

  private hello(): Doc {
    return {
      helloOk: true, ismaster: true, isWritablePrimary: true, maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000, maxWriteBatchSize: 100_000, localTime: new Date(),
      logicalSessionTimeoutMinutes: 30, connectionId: 1, minWireVersion: 0, maxWireVersion: 21, readOnly: false, ok: 1,
    };
  }

  /** Like the server, refuses a collection that exists; keeps its options (e.g. `timeseries`) for listCollections. */
  private create(db: string, coll: string, cmd: Doc): Doc {
    if (this.databases.get(db)?.has(coll)) return { ok: 0, errmsg: `Collection ${db}.${coll} already exists.`, code: 48, codeName: 'NamespaceExists' };
    this.collection(db, coll);
    const options: Doc = {};
    for (const [key, value] of Object.entries(cmd)) if (!COMMAND_FIELDS.has(key) && !key.startsWith('$')) options[key] = value;
    this.collectionOptions.set(`${db}.${coll}`, options);
    return { ok: 1 };
  }

  private listCollections(db: string, filter: Doc): Doc {
    const query = new Query(filter);
    const firstBatch = [...(this.databases.get(db)?.keys() ?? [])]
      .map((name) => {
        const options = this.collectionOptions.get(`${db}.${name}`) ?? {};
        return { name, type: options['timeseries'] ? 'timeseries' : 'collection', options, info: { readOnly: false } };
      })
      .filter((entry) => query.test(entry));
    return { ok: 1, cursor: { id: Long.ZERO, ns: `${db}.$cmd.listCollections`, firstBatch } };
  }

  private insert(db: string, coll: string, documents: Doc[]): Doc {
    const docs = this.collection(db, coll);
    for (const doc of documents) {
      const stored = { _id: doc['_id'] ?? new ObjectId(), ...doc };
      if (docs.some((d) => sameId(d['_id'], stored['_id']))) {
        return { ok: 1, n: 0, writeErrors: [{ index: 0, code: 11000, errmsg: 'E11000 duplicate key error' }] };
      }
      docs.push(stored);
      this.record(db, coll, { operationType: 'insert', documentKey: { _id: stored['_id'] }, fullDocument: stored });
    }
    return { ok: 1, n: documents.length };
  }

  private update(db: string, coll: string, updates: Doc[]): Doc {
    const docs = this.collection(db, coll);
    let n = 0;
    let nModified = 0;
    const upserted: Doc[] = [];
    updates.forEach((spec, index) => {
      const query = new Query(spec['q'] as Doc);
      const u = spec['u'] as Doc;
      const isReplacement = !Object.keys(u).some((k) => k.startsWith('$'));
      const matches = docs.filter((d) => query.test(d));
      const targets = spec['multi'] ? matches : matches.slice(0, 1);
      for (const target of targets) {
        n += 1;
        nModified += 1;
        if (isReplacement) {
          for (const key of Object.keys(target)) if (key !== '_id') delete target[key];
          Object.assign(target, u);
          this.record(db, coll, { operationType: 'replace', documentKey: { _id: target['_id'] }, fullDocument: { ...target } });
        } else {
          const { $setOnInsert: _ignored, ...modifier } = u;
          if (Object.keys(modifier).length > 0) applyUpdate(target, modifier as never);
          this.record(db, coll, { operationType: 'update', documentKey: { _id: target['_id'] }, updateDescription: { updatedFields: u['$set'] ?? {}, removedFields: [] }, fullDocument: { ...target } });
        }
      }
      if (targets.length === 0 && spec['upsert']) {
        const base: Doc = {};
        for (const [k, v] of Object.entries(spec['q'] as Doc)) if (!k.startsWith('$') && (v === null || typeof v !== 'object' || v instanceof Date || v instanceof ObjectId)) base[k] = v;
        let created: Doc;
        if (isReplacement) created = { ...base, ...u };
        else {
          created = base;
          const { $setOnInsert, ...modifier } = u;
          if (Object.keys(modifier).length > 0) applyUpdate(created, modifier as never);
          Object.assign(created, $setOnInsert);
        }
        if (created['_id'] === undefined) created = { _id: new ObjectId(), ...created };
        docs.push(created);
        upserted.push({ index, _id: created['_id'] });
        n += 1;
        this.record(db, coll, { operationType: 'insert', documentKey: { _id: created['_id'] }, fullDocument: { ...created } });
      }
    });
    return { ok: 1, n, nModified, ...(upserted.length > 0 ? { upserted } : {}) };
  }

  private remove(db: string, coll: string, deletes: Doc[]): Doc {
    const docs = this.collection(db, coll);
    let n = 0;
    for (const spec of deletes) {
      const query = new Query(spec['q'] as Doc);
      for (let i = docs.length - 1; i >= 0; i--) {
        const doc = docs[i]!;
        if (!query.test(doc)) continue;
        docs.splice(i, 1);
        n += 1;
        this.record(db, coll, { operationType: 'delete', documentKey: { _id: doc['_id'] } });
        if (spec['limit'] === 1) break;
      }
    }
    return { ok: 1, n };
  }

  private find(db: string, coll: string, cmd: Doc): Doc {
    const pipeline: Doc[] = [{ $match: cmd['filter'] ?? {} }];
    if (cmd['sort']) pipeline.push({ $sort: cmd['sort'] });
    if (cmd['skip']) pipeline.push({ $skip: cmd['skip'] });
    if (cmd['limit']) pipeline.push({ $limit: Math.abs(Number(cmd['limit'])) });
    if (cmd['projection'] && Object.keys(cmd['projection'] as Doc).length > 0) pipeline.push({ $project: cmd['projection'] });
    const firstBatch = new Aggregator(pipeline).run(this.collection(db, coll)) as Doc[];
    return { ok: 1, cursor: { id: Long.ZERO, ns: `${db}.${coll}`, firstBatch } };
  }

  private aggregate(db: string, target: unknown, pipeline: Doc[]): Doc {
    const coll = typeof target === 'string' ? target : undefined;
    const first = pipeline[0];
    if (first && '$changeStream' in first) {
      const options = first['$changeStream'] as Doc;
      const token = (options['startAfter'] ?? options['resumeAfter']) as { _data?: string } | undefined;
      let next = this.events.length;
      if (token?._data) next = Number.parseInt(token._data, 16) + 1;
      else if (options['startAtOperationTime'] instanceof Timestamp) {
        const at = options['startAtOperationTime'] as Timestamp;
        next = this.events.findIndex((e) => (e.event['clusterTime'] as Timestamp).greaterThanOrEqual(at));
        if (next < 0) next = this.events.length;
      }
      const cursor: ChangeCursor = { id: this.nextCursorId++, db: options['allChangesForCluster'] ? '' : db, coll, next, pipeline: pipeline.slice(1) };
      this.cursors.set(cursor.id, cursor);
      return { ok: 1, cursor: { id: Long.fromNumber(cursor.id), ns: `${db}.${coll ?? '$cmd.aggregate'}`, firstBatch: [], postBatchResumeToken: this.token(next - 1) } };
    }
    if (!coll) throw new Error('aggregate on a database is only supported with $changeStream');
    const firstBatch = new Aggregator(pipeline).run(this.collection(db, coll)) as Doc[];
    return { ok: 1, cursor: { id: Long.ZERO, ns: `${db}.${coll}`, firstBatch } };
  }

  private async getMore(id: number, maxTimeMs: number): Promise<Doc> {
    const cursor = this.cursors.get(id);
    if (!cursor) return { ok: 0, errmsg: `cursor id ${id} not found`, code: 43, codeName: 'CursorNotFound' };
    const deadline = Date.now() + Math.min(maxTimeMs, 1000);
    let batch = this.collect(cursor);
    while (batch.length === 0 && Date.now() < deadline && this.cursors.has(id)) {
      await new Promise<void>((resolve) => {
        const wake = () => { this.waiters.delete(wake); clearTimeout(timer); resolve(); };
        const timer = setTimeout(wake, deadline - Date.now());
        this.waiters.add(wake);
      });
      batch = this.collect(cursor);
    }
    return { ok: 1, cursor: { id: Long.fromNumber(id), ns: `${cursor.db}.${cursor.coll ?? ''}`, nextBatch: batch, postBatchResumeToken: this.token(cursor.next - 1) } };
  }

  private collect(cursor: ChangeCursor): Doc[] {
    const fresh = this.events.slice(cursor.next).filter((e) => (cursor.db === '' || e.db === cursor.db) && (!cursor.coll || e.coll === cursor.coll));
    cursor.next = this.events.length;
    const events = fresh.map((e) => e.event);
    return cursor.pipeline.length > 0 ? (new Aggregator(cursor.pipeline).run(events) as Doc[]) : events;
  }

  private token(seq: number): Doc {
    return { _data: Math.max(seq, 0).toString(16).padStart(16, '0') };
  }

  private record(db: string, coll: string, change: Doc): void {
    const seq = this.events.length;
    this.clock += 1;
    const event: Doc = {
      _id: this.token(seq), ...change,
      clusterTime: new Timestamp({ t: Math.floor(Date.now() / 1000), i: this.clock }), wallTime: new Date(), ns: { db, coll },
    };
    if (change['operationType'] === 'update') event['fullDocument'] = null;
    this.events.push({ seq, db, coll, event });
    for (const wake of [...this.waiters]) wake();
  }
}

function parseOpMsg(message: Buffer): Doc {
  const flags = message.readUInt32LE(16);
  const end = message.length - (flags & 1 ? 4 : 0);
  let offset = 20;
  let body: Doc = {};
  const sequences: Record<string, Doc[]> = {};
  while (offset < end) {
    const kind = message[offset]!;
    offset += 1;
    if (kind === 0) {
      const size = message.readInt32LE(offset);
      body = BSON.deserialize(message.subarray(offset, offset + size));
      offset += size;
    } else {
      const size = message.readInt32LE(offset);
      const sectionEnd = offset + size;
      let cursor = offset + 4;
      const nameEnd = message.indexOf(0, cursor);
      const identifier = message.toString('utf8', cursor, nameEnd);
      cursor = nameEnd + 1;
      const docs: Doc[] = [];
      while (cursor < sectionEnd) {
        const docSize = message.readInt32LE(cursor);
        docs.push(BSON.deserialize(message.subarray(cursor, cursor + docSize)));
        cursor += docSize;
      }
      sequences[identifier] = docs;
      offset = sectionEnd;
    }
  }
  return { ...body, ...sequences };
}

function sameId(a: unknown, b: unknown): boolean {
  if (a instanceof ObjectId && b instanceof ObjectId) return a.equals(b);
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
