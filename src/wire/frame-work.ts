// What large-frames.ts and its worker (frame-worker.ts) send each other, and the helpers both
// use; kept apart so that the worker loads no more than it needs.
import type { Document } from 'bson';
import type { Command } from './codec.js';
import type { CodeName } from './errors.js';

/** A value of a document that crosses as JSON text; null holds its place in the rest. */
export interface JsonField {
  path: string[];
  json: Uint8Array;
}

export type FrameWork =
  | { kind: 'decode'; id: number; frame: Uint8Array }
  /** A reply: `rest` as BSON, with the fields in `asJson` (relaxed Extended JSON) put back. */
  | { kind: 'encode'; id: number; rest: Uint8Array; asJson: JsonField[] };

export type FrameWorkAnswer =
  | { id: number; ok: true; command: Omit<Command, 'body'>; rest: Uint8Array; asJson: JsonField[] }
  | { id: number; ok: true; bson: Uint8Array }
  /** codeName for what parseFrame refuses (the same reply as a small frame's); none for a failure of the worker. */
  | { id: number; ok: false; codeName?: CodeName; message: string };

/** A plain document or an array, as BSON.deserialize makes them (not a Date, an ObjectId...). */
export function isDocumentOrArray(value: unknown): value is Document {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

export function place(container: Document, path: string[], value: unknown): void {
  let at = container;
  for (const key of path.slice(0, -1)) at = at[key] as Document;
  at[path[path.length - 1]!] = value;
}


/**
 * Whether `bytes` span the whole of an ArrayBuffer, which can then be handed to the other thread
 * (transferred) instead of copied: 16 MB copied on the event loop took 10 to 20 ms, and the
 * garbage collection the extra memory brought on longer still.
 */
export function ownMemory(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}
