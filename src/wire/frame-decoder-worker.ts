// The worker thread behind large-frames.ts: reads a frame as parseFrame does, turns each large
// document or array of the command (at the top level or under `options`) into its relaxed
// Extended JSON text, which is what the commands make of a pipeline or a DLQ anyway, and
// writes the rest back as BSON with every number's type kept.
import { parentPort } from 'node:worker_threads';
import { BSON, EJSON, type Document } from 'bson';
import { parseFrame } from './codec.js';
import { WireError } from './errors.js';
import type { DecodeAnswer, DecodeRequest, JsonField } from './large-frames.js';

/** Smaller values stay BSON: the command reads them with their BSON types, and they are quick to read. */
const LARGE_VALUE_BYTES = 64 * 1024;
const encoder = new TextEncoder();
let internalBufferBytes = 17 * 1024 * 1024;

function isDocumentOrArray(value: unknown): value is Document {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Moves the large values of `container` out as JSON text, leaving null in their place (the order of fields stays). */
function moveOutLargeValues(container: Document, path: string[], out: JsonField[]): void {
  for (const [key, value] of Object.entries(container)) {
    if (!isDocumentOrArray(value)) continue;
    if (path.length === 0 && key === 'options' && !Array.isArray(value)) {
      moveOutLargeValues(value, ['options'], out);
      continue;
    }
    if (BSON.calculateObjectSize({ value }) < LARGE_VALUE_BYTES) continue;
    out.push({ path: [...path, key], json: encoder.encode(EJSON.stringify(value, { relaxed: true })) });
    container[key] = null;
  }
}

function decode({ id, frame }: DecodeRequest): { answer: DecodeAnswer; transfer: ArrayBuffer[] } {
  try {
    const { body, ...command } = parseFrame(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength), 'exact');
    const asJson: JsonField[] = [];
    moveOutLargeValues(body, [], asJson);
    const restBytes = BSON.calculateObjectSize(body);
    // The bson package writes through one internal buffer (17 MiB at first); a message may be larger.
    if (restBytes > internalBufferBytes) BSON.setInternalBufferSize(internalBufferBytes = restBytes);
    const rest = BSON.serialize(body);
    // `rest` may sit in Node's shared Buffer pool, so it is copied; each JSON text has its own memory.
    return { answer: { id, ok: true, command, rest, asJson }, transfer: asJson.map((field) => field.json.buffer as ArrayBuffer) };
  } catch (error) {
    const answer: DecodeAnswer = error instanceof WireError
      ? { id, ok: false, codeName: error.codeName, message: error.message }
      : { id, ok: false, message: (error as Error).message };
    return { answer, transfer: [] };
  }
}

parentPort!.on('message', (request: DecodeRequest) => {
  const { answer, transfer } = decode(request);
  parentPort!.postMessage(answer, transfer);
});
