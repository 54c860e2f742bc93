import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { encodeMsg, encodeResponse, OP_MSG, OP_QUERY, parseFrame, readHeader } from './codec.js';
import { WireError } from './errors.js';

function msg(flags: number, sections: Uint8Array[]): Buffer {
  const body = Buffer.concat([Buffer.alloc(4), ...sections]);
  body.writeUInt32LE(flags, 0);
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + body.length, 0);
  header.writeInt32LE(5, 4);
  header.writeInt32LE(OP_MSG, 12);
  return Buffer.concat([header, body]);
}

describe('codec', () => {
  it('reads an OP_MSG body and its document sequences', () => {
    const docs = Buffer.concat([BSON.serialize({ a: 1 }), BSON.serialize({ a: 2 })]);
    const id = Buffer.from('documents\0');
    const size = Buffer.alloc(4);
    size.writeInt32LE(4 + id.length + docs.length);
    const frame = msg(0, [Buffer.from([0]), BSON.serialize({ insert: 'c', $db: 'admin' }), Buffer.from([1]), size, id, docs]);
    const command = parseFrame(frame);
    expect(command).toMatchObject({ opCode: OP_MSG, requestId: 5, db: 'admin', noReply: false });
    expect(command.body['documents']).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('honours moreToCome and a trailing checksum', () => {
    const frame = msg(0b11, [Buffer.from([0]), BSON.serialize({ ping: 1, $db: 'admin' }), Buffer.alloc(4)]);
    expect(parseFrame(frame)).toMatchObject({ noReply: true, body: { ping: 1 } });
  });

  it('reads an OP_QUERY command and unwraps $query', () => {
    const body = Buffer.concat([Buffer.alloc(4), Buffer.from('admin.$cmd\0'), Buffer.alloc(8), BSON.serialize({ $query: { isMaster: 1 } })]);
    const header = Buffer.alloc(16);
    header.writeInt32LE(16 + body.length, 0);
    header.writeInt32LE(OP_QUERY, 12);
    expect(parseFrame(Buffer.concat([header, body]))).toMatchObject({ opCode: OP_QUERY, db: 'admin', body: { isMaster: 1 } });
  });

  it('refuses two body sections and a missing $db', () => {
    const two = msg(0, [Buffer.from([0]), BSON.serialize({ a: 1, $db: 'x' }), Buffer.from([0]), BSON.serialize({ b: 1 })]);
    expect(() => parseFrame(two)).toThrow(WireError);
    expect(() => parseFrame(msg(0, [Buffer.from([0]), BSON.serialize({ ping: 1 })]))).toThrow('the command document has no $db');
  });

  it('writes replies that answer the request', () => {
    const reply = encodeResponse({ opCode: OP_QUERY, requestId: 42 }, { ok: 1 });
    expect(readHeader(reply)).toMatchObject({ messageLength: reply.length, responseTo: 42, opCode: 1 });
    expect(reply.readInt32LE(32)).toBe(1);
    expect(BSON.deserialize(reply.subarray(36))).toEqual({ ok: 1 });
    const answer = encodeMsg(43, { ok: 1 });
    expect(readHeader(answer)).toMatchObject({ messageLength: answer.length, responseTo: 43, opCode: OP_MSG });
    expect(BSON.deserialize(answer.subarray(21))).toEqual({ ok: 1 });
  });
});
