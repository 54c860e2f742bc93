// Atlas Stream Processing's $convert (sp-agg-convert) between binData and int, long,
// double and string: `byteOrder` "little" (default) | "big" for numbers, `format`
// base64 | base64url | hex | uuid | utf8 for strings. binData to int takes 1, 2 or 4
// bytes, to long 1, 2, 4 or 8, to double 4 (single precision) or 8; int becomes 4 bytes,
// long and double 8. Every other $convert is MongoDB's, answered by mingo.
import { Binary, Long, UUID } from 'bson';
import { PipelineError } from '../contract.js';
import { compileExpression } from './compile-expression.js';
import { mingoEvaluate } from './mingo-reference.js';
import { bsonTypeName, isNullish, isPlainObject, type Evaluate, type Value } from './values.js';

const FORMATS = new Set(['base64', 'base64url', 'hex', 'uuid', 'utf8']);
const BIN_TARGETS = new Set(['int', 'long', 'double', 'string', 'binData']);

export function compileConvert(args: Value): Evaluate {
  if (!isPlainObject(args) || !('input' in args) || !('to' in args)) throw new PipelineError("$convert requires 'input' and 'to'");
  const binaryForm = args['byteOrder'] !== undefined || args['format'] !== undefined || args['to'] === 'binData' || args['to'] === 5;
  const byteOrder = args['byteOrder'] ?? 'little';
  if (byteOrder !== 'little' && byteOrder !== 'big') throw new PipelineError('$convert.byteOrder must be "little" or "big"');
  const format = args['format'] ?? 'base64';
  if (!FORMATS.has(format)) throw new PipelineError(`$convert.format must be one of ${[...FORMATS].join(', ')}`);
  const to = args['to'] === 5 ? 'binData' : args['to'];
  if (binaryForm && !BIN_TARGETS.has(to)) throw new PipelineError(`$convert.to must be one of ${[...BIN_TARGETS].join(', ')} with byteOrder or format`);
  const input = compileExpression(args['input']);
  const onError = 'onError' in args ? compileExpression(args['onError']) : undefined;
  const onNull = 'onNull' in args ? compileExpression(args['onNull']) : undefined;
  // Other conversions are MongoDB's; a binData input follows the Atlas rules even without byteOrder/format.
  const mongo = binaryForm ? undefined : mingoEvaluate({ $convert: args });
  return (doc) => {
    const v = input(doc);
    if (mongo && !(v instanceof Binary && BIN_TARGETS.has(to))) return mongo(doc);
    if (isNullish(v)) return onNull ? onNull(doc) : null;
    try {
      return convertBinary(v, to, byteOrder, format);
    } catch (error) {
      if (onError) return onError(doc);
      throw error;
    }
  };
}

function convertBinary(v: Value, to: string, byteOrder: 'little' | 'big', format: string): Value {
  const little = byteOrder === 'little';
  if (v instanceof Binary) {
    const bytes = Buffer.from(v.buffer);
    switch (to) {
      case 'int': return readInteger(bytes, little, [1, 2, 4], 'int');
      case 'long': {
        if (bytes.length === 8) return Long.fromBigInt(little ? bytes.readBigInt64LE() : bytes.readBigInt64BE());
        return Long.fromNumber(readInteger(bytes, little, [1, 2, 4], 'long'));
      }
      case 'double':
        if (bytes.length === 8) return little ? bytes.readDoubleLE() : bytes.readDoubleBE();
        if (bytes.length === 4) return little ? bytes.readFloatLE() : bytes.readFloatBE();
        throw new Error(`Failed to convert binData of length ${bytes.length} to double: expected 4 or 8 bytes`);
      case 'string':
        if (format === 'uuid') return new UUID(bytes).toHexString(true);
        return bytes.toString(format as BufferEncoding);
      case 'binData': return v;
    }
  }
  if (to === 'binData') {
    if (typeof v === 'string') {
      if (format === 'uuid') return new UUID(v);
      return new Binary(Buffer.from(v, format as BufferEncoding));
    }
    const buffer = Buffer.alloc(bsonTypeName(v) === 'int' ? 4 : 8);
    switch (bsonTypeName(v)) {
      case 'int': little ? buffer.writeInt32LE(v) : buffer.writeInt32BE(v); break;
      case 'long': {
        const big = typeof v === 'bigint' ? v : BigInt((v as Long).toString());
        little ? buffer.writeBigInt64LE(big) : buffer.writeBigInt64BE(big);
        break;
      }
      case 'double': little ? buffer.writeDoubleLE(Number(v)) : buffer.writeDoubleBE(Number(v)); break;
      default: throw new Error(`Unsupported conversion from ${bsonTypeName(v)} to binData in $convert with no onError value`);
    }
    return new Binary(buffer);
  }
  throw new Error(`Unsupported conversion from ${bsonTypeName(v)} to ${to} in $convert with no onError value`);
}

function readInteger(bytes: Buffer, little: boolean, lengths: number[], to: string): number {
  if (!lengths.includes(bytes.length)) {
    throw new Error(`Failed to convert binData of length ${bytes.length} to ${to}: expected ${lengths.join(', ')} bytes`);
  }
  return little ? bytes.readIntLE(0, bytes.length) : bytes.readIntBE(0, bytes.length);
}
