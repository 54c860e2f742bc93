// A checkpoint's state as it travels: serialized in the worker (canonical Extended JSON,
// UTF-8) into one byte array that is transferred, not copied, to the main thread and stored
// as it is. The main thread never walks, clones or stringifies the state itself: tens of MB
// of window state used to hold the API for seconds at every checkpoint.
import { EJSON } from 'bson';
import type { Doc } from '../expressions/values.js';

export function encodeCheckpointState(state: unknown): Uint8Array {
  // TextEncoder gives the bytes their own ArrayBuffer (Buffer.from may share a pool), so it can be transferred.
  return new TextEncoder().encode(EJSON.stringify(state as Doc, { relaxed: false }));
}

/** The state back; checkpoints stored before this format held the EJSON document itself. */
export function decodeCheckpointState(state: unknown): unknown {
  // Parsed as EJSON.deserialize read the older documents: numbers come back as numbers.
  if (state instanceof Uint8Array) return EJSON.parse(new TextDecoder().decode(state));
  return EJSON.deserialize(state as Doc);
}
