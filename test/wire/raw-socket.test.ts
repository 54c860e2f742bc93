// What a client that sends garbage gets: an {ok: 0} reply, never a dropped connection (but
// for a length that leaves no way to find the next frame) and never a crash; and nobody
// else notices. Frames are built by hand here, independently of src/wire/codec.ts.
import { connect as tcpConnect, type Socket } from 'node:net';
import { BSON, type Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createWorkspace, startWireServer, type WireServer } from './wire-fixtures.js';

let w: WireServer;
let port: number;
const sockets: Socket[] = [];

beforeAll(async () => {
  w = await startWireServer();
  ({ port } = await createWorkspace(w, 'wsraw'));
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await w.close();
});

function header(length: number, requestId: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(0, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

function opMsg(requestId: number, doc: Document): Buffer {
  const body = Buffer.concat([Buffer.alloc(5), BSON.serialize(doc)]);
  return Buffer.concat([header(16 + body.length, requestId, 2013), body]);
}

function opQuery(requestId: number, doc: Document): Buffer {
  const ns = Buffer.from('admin.$cmd\0');
  const body = Buffer.concat([Buffer.alloc(4), ns, Buffer.alloc(4), Buffer.from([0xff, 0xff, 0xff, 0xff]), BSON.serialize(doc)]);
  return Buffer.concat([header(16 + body.length, requestId, 2004), body]);
}

interface Reply { responseTo: number; opCode: number; doc: Document }

/** A raw connection that collects whole reply frames. */
async function raw(): Promise<{ socket: Socket; next(): Promise<Reply>; closed: Promise<void> }> {
  const socket = tcpConnect(port, '127.0.0.1');
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  let buffered = Buffer.alloc(0);
  const replies: Reply[] = [];
  const waiters: Array<(r: Reply) => void> = [];
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 16 && buffered.length >= buffered.readInt32LE(0)) {
      const frame = buffered.subarray(0, buffered.readInt32LE(0));
      buffered = buffered.subarray(frame.length);
      const opCode = frame.readInt32LE(12);
      const docAt = opCode === 1 ? 36 : 21;
      const reply = { responseTo: frame.readInt32LE(8), opCode, doc: BSON.deserialize(frame.subarray(docAt)) };
      const waiter = waiters.shift();
      if (waiter) waiter(reply); else replies.push(reply);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    closed,
    next: () => new Promise<Reply>((resolve) => { const r = replies.shift(); if (r) resolve(r); else waiters.push(resolve); }),
  };
}

describe('the wire endpoint with a raw socket', () => {
  it('answers the legacy OP_QUERY handshake with OP_REPLY, then OP_MSG with OP_MSG', async () => {
    const c = await raw();
    c.socket.write(opQuery(7, { isMaster: 1, helloOk: true }));
    const hello = await c.next();
    expect({ opCode: hello.opCode, responseTo: hello.responseTo, ok: hello.doc['ok'], ismaster: hello.doc['ismaster'] })
      .toEqual({ opCode: 1, responseTo: 7, ok: 1, ismaster: true });
    c.socket.write(opMsg(8, { hello: 1, $db: 'admin' }));
    const second = await c.next();
    expect({ opCode: second.opCode, responseTo: second.responseTo, ok: second.doc['ok'] }).toEqual({ opCode: 2013, responseTo: 8, ok: 1 });
  });

  it('refuses commands before authentication with Unauthorized (13)', async () => {
    const c = await raw();
    for (const [i, command] of [{ ping: 1 }, { listStreamProcessors: 1 }, { createStreamProcessor: 'x', pipeline: [] }].entries()) {
      c.socket.write(opMsg(20 + i, { ...command, $db: 'admin' }));
      const reply = await c.next();
      expect(reply.doc).toMatchObject({ ok: 0, code: 13, codeName: 'Unauthorized' });
      expect(reply.doc['errmsg']).toBe(`command ${Object.keys(command)[0]} requires authentication`);
    }
  });

  it('answers an unknown opcode, OP_COMPRESSED, a bad section kind and unparseable BSON, and goes on', async () => {
    const c = await raw();
    c.socket.write(Buffer.concat([header(24, 30, 9999), Buffer.alloc(8)]));
    expect((await c.next()).doc).toMatchObject({ ok: 0, code: 17, codeName: 'ProtocolError', errmsg: 'unsupported opCode 9999' });
    c.socket.write(Buffer.concat([header(25, 31, 2012), Buffer.alloc(9)]));
    expect((await c.next()).doc).toMatchObject({ ok: 0, codeName: 'ProtocolError' });
    c.socket.write(Buffer.concat([header(26, 32, 2013), Buffer.from([0, 0, 0, 0, 7]), Buffer.alloc(5)]));
    expect((await c.next()).doc).toMatchObject({ ok: 0, codeName: 'ProtocolError', errmsg: 'unknown OP_MSG section kind 7' });
    const badDoc = Buffer.from([100, 0, 0, 0, 0x02, 0x61, 0x00]);
    c.socket.write(Buffer.concat([header(16 + 5 + badDoc.length, 33, 2013), Buffer.alloc(5), badDoc]));
    expect((await c.next()).doc).toMatchObject({ ok: 0, code: 22, codeName: 'InvalidBSON' });
    const corrupt = BSON.serialize({ hello: 1, $db: 'admin' });
    corrupt[corrupt.length - 1] = 7; // no terminating zero
    c.socket.write(Buffer.concat([header(16 + 5 + corrupt.length, 34, 2013), Buffer.alloc(5), corrupt]));
    expect((await c.next()).doc).toMatchObject({ ok: 0, codeName: 'InvalidBSON' });
    c.socket.write(opMsg(35, { hello: 1 }));
    expect((await c.next()).doc).toMatchObject({ ok: 0, codeName: 'FailedToParse', errmsg: 'the command document has no $db' });
    c.socket.write(opMsg(36, { hello: 1, $db: 'admin' }));
    expect((await c.next()).doc).toMatchObject({ ok: 1 });
  });

  it('skips a frame larger than 48 MB, answers it, and reads the next one', async () => {
    const c = await raw();
    const size = 48_000_000 + 1024;
    c.socket.write(header(size, 40, 2013));
    const chunk = Buffer.alloc(1024 * 1024);
    for (let sent = 16; sent < size; sent += chunk.length) {
      const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
      if (!c.socket.write(piece)) await new Promise((r) => c.socket.once('drain', r));
    }
    c.socket.write(opMsg(41, { hello: 1, $db: 'admin' }));
    const tooLarge = await c.next();
    expect({ responseTo: tooLarge.responseTo, ...tooLarge.doc }).toMatchObject({ responseTo: 40, ok: 0, codeName: 'ProtocolError' });
    expect(tooLarge.doc['errmsg']).toBe(`message of ${size} bytes is larger than the maximum of 48000000 bytes`);
    expect((await c.next()).doc).toMatchObject({ ok: 1 });
  });

  it('answers a length shorter than a header, then closes: the stream cannot be followed', async () => {
    const c = await raw();
    c.socket.write(header(3, 50, 2013));
    expect((await c.next()).doc).toMatchObject({ ok: 0, codeName: 'ProtocolError' });
    await c.closed;
  });

  it('answers other clients while it decodes a 16 MB createStreamProcessor frame, then answers that frame', async () => {
    const items = Array.from({ length: 315_000 }, (_, i) => `device-${i}-abcdefghijklmnopqrstuvwxyz`);
    const frame = opMsg(70, { createStreamProcessor: 'huge', pipeline: [{ $match: { device_id: { $in: items } } }], $db: 'admin' });
    expect(frame.length).toBeGreaterThan(15 * 1024 * 1024);
    const sender = await raw();
    const other = await raw();
    const hello = async (requestId: number) => {
      other.socket.write(opMsg(requestId, { hello: 1, $db: 'admin' }));
      return (await other.next()).doc['ok'];
    };
    // All but the last byte, and a round of hellos so that the server has read them: the
    // frame is complete, and being decoded, from the moment its last byte comes in.
    await new Promise<void>((resolve, reject) => sender.socket.write(frame.subarray(0, frame.length - 1), (e) => (e ? reject(e) : resolve())));
    for (let i = 0; i < 20; i++) expect(await hello(100 + i)).toBe(1);
    const events: string[] = [];
    sender.socket.write(frame.subarray(frame.length - 1));
    const answered = sender.next().then((reply) => { events.push('createStreamProcessor'); return reply; });
    for (let i = 0; i < 5; i++) {
      expect(await hello(200 + i)).toBe(1);
      events.push('hello');
    }
    const reply = await answered;
    // Decoding the frame on the event loop, as it once was, answered no hello before it.
    expect(events).toEqual(['hello', 'hello', 'hello', 'hello', 'hello', 'createStreamProcessor']);
    expect({ responseTo: reply.responseTo, ...reply.doc }).toEqual({
      responseTo: 70, ok: 0, code: 13, codeName: 'Unauthorized', errmsg: 'command createStreamProcessor requires authentication',
    });
  });

  it('refuses unparseable BSON in a large frame as in a small one, and goes on', async () => {
    const c = await raw();
    const corrupted = (padding: number) => {
      const doc = BSON.serialize({ hello: 1, padding: 'x'.repeat(padding), broken: 'ab', $db: 'admin' });
      const at = doc.lastIndexOf(Buffer.from('ab\0'));
      doc[at] = 0xff; // not UTF-8
      return Buffer.concat([header(16 + 5 + doc.length, 80, 2013), Buffer.alloc(5), doc]);
    };
    c.socket.write(corrupted(10));
    const small = (await c.next()).doc;
    expect(small).toMatchObject({ ok: 0, code: 22, codeName: 'InvalidBSON' });
    c.socket.write(corrupted(2 * 1024 * 1024));
    expect((await c.next()).doc).toEqual(small);
    c.socket.write(opMsg(81, { hello: 1, $db: 'admin' }));
    expect((await c.next()).doc).toMatchObject({ ok: 1 });
  });

  it("leaves other clients' sessions alone while one sends garbage", async () => {
    const { client, admin } = await connect(`mongodb://127.0.0.1:${port}/`);
    const garbage = await raw();
    garbage.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    garbage.socket.write(Buffer.concat([header(24, 60, 9999), Buffer.alloc(8)]));
    expect((await admin.command({ listStreamProcessors: 1 })).ok).toBe(1);
    expect((await admin.command({ ping: 1 })).ok).toBe(1);
    await client.close();
  });
});
