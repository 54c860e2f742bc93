// MongoDB wire protocol messages: the 16-byte header, OP_QUERY (the handshake drivers still
// send first), OP_MSG (everything after), and the replies OP_REPLY and OP_MSG. BSON itself
// is the `bson` package's; this file only frames it.
import { BSON, type Document } from 'bson';
import { WireError } from './errors.js';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const HEADER_BYTES = 16;
/** What the hello reply advertises; larger frames are refused (and skipped). */
export const MAX_MESSAGE_BYTES = 48_000_000;
export const MAX_BSON_OBJECT_BYTES = 16 * 1024 * 1024;

const MSG_CHECKSUM_PRESENT = 1 << 0;
const MSG_MORE_TO_COME = 1 << 1;

export interface Header {
  messageLength: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** A command as the session runs it, whichever opcode carried it. */
export interface Command {
  opCode: typeof OP_QUERY | typeof OP_MSG;
  requestId: number;
  /** The database (`$db`, or the OP_QUERY namespace's database). */
  db: string;
  body: Document;
  /** OP_MSG moreToCome: the client wants no reply. */
  noReply: boolean;
}

export function readHeader(buffer: Buffer): Header {
  return {
    messageLength: buffer.readInt32LE(0),
    requestId: buffer.readInt32LE(4),
    responseTo: buffer.readInt32LE(8),
    opCode: buffer.readInt32LE(12),
  };
}

/** How the endpoint reads BSON: promoteLongs false, so an Int64 stays an Int64 end to end, as a server would see it. */
export const BSON_READ_OPTIONS = { promoteLongs: false, validation: { utf8: true } } as const;

/**
 * How the values are read: `promoted` as commands take them (doubles and Int32s as numbers);
 * `exact` keeps every number's BSON type, for a frame that is written back as BSON.
 */
export type ValueReading = 'promoted' | 'exact';

/** Reads one BSON document at `offset`; its declared size must fit what is left. */
function readDocument(frame: Buffer, offset: number, end: number, reading: ValueReading): { doc: Document; next: number } {
  if (offset + 5 > end) throw new WireError('InvalidBSON', 'a BSON document is cut short');
  const size = frame.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new WireError('InvalidBSON', `a BSON document declares ${size} bytes, more than the message holds`);
  try {
    const options = reading === 'exact' ? { ...BSON_READ_OPTIONS, promoteValues: false } : BSON_READ_OPTIONS;
    const doc = BSON.deserialize(frame.subarray(offset, offset + size), options);
    return { doc, next: offset + size };
  } catch (error) {
    throw new WireError('InvalidBSON', `unparseable BSON: ${(error as Error).message}`);
  }
}

function readCString(frame: Buffer, offset: number, end: number): { text: string; next: number } {
  const zero = frame.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new WireError('ProtocolError', 'a C string is not terminated');
  return { text: frame.toString('utf8', offset, zero), next: zero + 1 };
}

/** OP_QUERY: flags, "db.$cmd", skip, return, the command document (a projection may follow). */
function parseQuery(frame: Buffer, header: Header, reading: ValueReading): Command {
  const end = frame.length;
  const { text: namespace, next } = readCString(frame, HEADER_BYTES + 4, end);
  const { doc } = readDocument(frame, next + 8, end, reading);
  const dot = namespace.indexOf('.');
  const db = dot < 0 ? namespace : namespace.slice(0, dot);
  // Legacy clients may wrap the command as {$query: {...}, $readPreference: ...}.
  const body = doc['$query'] !== undefined && typeof doc['$query'] === 'object' ? (doc['$query'] as Document) : doc;
  return { opCode: OP_QUERY, requestId: header.requestId, db, body, noReply: false };
}

/** OP_MSG: flag bits, one body section (kind 0) and any document sequences (kind 1), optional CRC-32C. */
function parseMsg(frame: Buffer, header: Header, reading: ValueReading): Command {
  const flags = frame.readUInt32LE(HEADER_BYTES);
  const end = flags & MSG_CHECKSUM_PRESENT ? frame.length - 4 : frame.length;
  let offset = HEADER_BYTES + 4;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = frame[offset]!;
    offset += 1;
    if (kind === 0) {
      if (body) throw new WireError('ProtocolError', 'an OP_MSG may carry only one body section');
      const read = readDocument(frame, offset, end, reading);
      body = read.doc;
      offset = read.next;
    } else if (kind === 1) {
      if (offset + 4 > end) throw new WireError('ProtocolError', 'a document sequence is cut short');
      const size = frame.readInt32LE(offset);
      const sectionEnd = offset + size;
      if (size < 5 || sectionEnd > end) throw new WireError('ProtocolError', 'a document sequence declares more bytes than the message holds');
      const { text: identifier, next } = readCString(frame, offset + 4, sectionEnd);
      const docs: Document[] = [];
      let at = next;
      while (at < sectionEnd) {
        const read = readDocument(frame, at, sectionEnd, reading);
        docs.push(read.doc);
        at = read.next;
      }
      sequences.push([identifier, docs]);
      offset = sectionEnd;
    } else {
      throw new WireError('ProtocolError', `unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new WireError('ProtocolError', 'an OP_MSG needs a body section');
  for (const [identifier, docs] of sequences) body[identifier] = docs;
  const db = typeof body['$db'] === 'string' ? body['$db'] : '';
  if (!db) throw new WireError('FailedToParse', 'the command document has no $db');
  return { opCode: OP_MSG, requestId: header.requestId, db, body, noReply: (flags & MSG_MORE_TO_COME) !== 0 };
}

/** A whole frame (header included) as a command; WireError says what is wrong with it. */
export function parseFrame(frame: Buffer, reading: ValueReading = 'promoted'): Command {
  const header = readHeader(frame);
  if (header.opCode === OP_QUERY) {
    if (frame.length < HEADER_BYTES + 4 + 1 + 8 + 5) throw new WireError('ProtocolError', 'an OP_QUERY message is too short');
    return parseQuery(frame, header, reading);
  }
  if (header.opCode === OP_MSG) {
    if (frame.length < HEADER_BYTES + 4 + 1 + 5) throw new WireError('ProtocolError', 'an OP_MSG message is too short');
    return parseMsg(frame, header, reading);
  }
  if (header.opCode === OP_COMPRESSED) throw new WireError('ProtocolError', 'OP_COMPRESSED is not supported: no compressor was negotiated');
  throw new WireError('ProtocolError', `unsupported opCode ${header.opCode}`);
}

let nextRequestId = 1;

/** A reply's header and the fixed fields after it (`fieldBytes`, zeros): what comes before its BSON body. */
function prefixFor(opCode: number, responseTo: number, fieldBytes: number, bodyBytes: number): Buffer {
  const prefix = Buffer.alloc(HEADER_BYTES + fieldBytes);
  prefix.writeInt32LE(HEADER_BYTES + fieldBytes + bodyBytes, 0);
  prefix.writeInt32LE(nextRequestId, 4);
  nextRequestId = nextRequestId >= 0x7fffffff ? 1 : nextRequestId + 1;
  prefix.writeInt32LE(responseTo, 8);
  prefix.writeInt32LE(opCode, 12);
  return prefix;
}

/** Before the body of an OP_REPLY carrying one document (the answer to an OP_QUERY). */
function replyPrefix(responseTo: number, bodyBytes: number): Buffer {
  const prefix = prefixFor(OP_REPLY, responseTo, 20, bodyBytes); // responseFlags, cursorID (int64), startingFrom, numberReturned
  prefix.writeInt32LE(1, HEADER_BYTES + 16);
  return prefix;
}

/** Before the body of an OP_MSG with a single body section: flagBits 0, section kind 0. */
function msgPrefix(responseTo: number, bodyBytes: number): Buffer {
  return prefixFor(OP_MSG, responseTo, 5, bodyBytes);
}

/** OP_MSG with a single body section. */
export function encodeMsg(responseTo: number, doc: Document): Buffer {
  return Buffer.concat(responseParts({ opCode: OP_MSG, requestId: responseTo }, BSON.serialize(doc)));
}

/**
 * The reply, already BSON, in the opcode the request came in (OP_REPLY for OP_QUERY), as its
 * prefix and `body` itself: a 16 MB body is written as it is rather than copied into one frame.
 */
export function responseParts(request: { opCode: number; requestId: number }, body: Uint8Array): [Buffer, Uint8Array] {
  const prefix = request.opCode === OP_QUERY ? replyPrefix(request.requestId, body.length) : msgPrefix(request.requestId, body.length);
  return [prefix, body];
}

/** The reply in the opcode the request came in (OP_REPLY for OP_QUERY). */
export function encodeResponse(request: { opCode: number; requestId: number }, doc: Document): Buffer {
  return Buffer.concat(responseParts(request, BSON.serialize(doc)));
}
