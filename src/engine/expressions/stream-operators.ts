// Operators that exist only in Atlas Stream Processing (or that mingo lacks), shared by
// the compiler and the mingo reference so both give the same answer.
import { ObjectId } from 'bson';
import { isPlainObject, type Doc, type Value } from './values.js';

/**
 * `{$meta: "stream.source.topic"}` and friends read the `_stream_meta` the source
 * stamped on the document: "stream" is all of it, "stream.a.b" is `_stream_meta.a.b`.
 */
export function metaValue(doc: Doc, key: Value): Value {
  if (typeof key !== 'string' || (key !== 'stream' && !key.startsWith('stream.'))) {
    throw new Error(`$meta: unsupported metadata '${String(key)}'`);
  }
  let value: Value = doc['_stream_meta'];
  for (const part of key.split('.').slice(1)) {
    if (!isPlainObject(value)) return undefined;
    value = value[part];
  }
  return value;
}

export function toObjectId(v: Value): ObjectId | null {
  if (v === null || v === undefined) return null;
  if (v instanceof ObjectId) return v;
  if (typeof v === 'string' && /^[0-9a-fA-F]{24}$/.test(v)) return new ObjectId(v);
  throw new Error(`Failed to parse objectId '${String(v)}' in $convert with no onError value`);
}
