// The worker thread behind large-frames.ts. Reading: a frame as parseFrame reads it, each large
// document or array of the command (at the top level or under `options`) turned into its
// relaxed Extended JSON text, which is what the commands make of a pipeline or a DLQ anyway,
// and the rest written back as BSON with every number's type kept. Writing: a reply whose
// stored pipelines come as JSON text, as BSON.
import { parentPort } from 'node:worker_threads';
import { BSON, EJSON, type Document } from 'bson';
import { BSON_READ_OPTIONS, parseFrame } from './codec.js';
import { WireError } from './errors.js';
import { isDocumentOrArray, ownMemory, place, type FrameWork, type FrameWorkAnswer, type JsonField } from './frame-work.js';

/** Smaller values stay BSON: the command reads them with their BSON types, and they are quick to read. */
const LARGE_VALUE_BYTES = 64 * 1024;
/** Keeps Int32 and Double apart, so that the BSON written back is what was read. */
const EXACT_READ_OPTIONS = { ...BSON_READ_OPTIONS, promoteValues: false } as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let internalBufferBytes = 17 * 1024 * 1024;

/** BSON bytes of `doc`, however large: the bson package writes through one internal buffer (17 MiB at first). */
function serialize(doc: Document): Uint8Array {
  const bytes = BSON.calculateObjectSize(doc);
  if (bytes > internalBufferBytes) BSON.setInternalBufferSize(internalBufferBytes = bytes);
  return BSON.serialize(doc);
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

function work(request: FrameWork): { answer: FrameWorkAnswer; transfer: ArrayBuffer[] } {
  const { id } = request;
  if (request.kind === 'encode') {
    const reply = BSON.deserialize(request.rest, EXACT_READ_OPTIONS);
    for (const { path, json } of request.asJson) place(reply, path, EJSON.parse(decoder.decode(json), { relaxed: true }));
    // The bson package answers a copy of its internal buffer, this frame's own: handed over, not copied.
    const bson = serialize(reply);
    return { answer: { id, ok: true, bson }, transfer: ownMemory(bson) ? [bson.buffer as ArrayBuffer] : [] };
  }
  const { body, ...command } = parseFrame(Buffer.from(request.frame.buffer, request.frame.byteOffset, request.frame.byteLength), 'exact');
  const asJson: JsonField[] = [];
  moveOutLargeValues(body, [], asJson);
  // `rest` may sit in Node's shared Buffer pool, so it is copied; each JSON text has its own memory.
  return { answer: { id, ok: true, command, rest: serialize(body), asJson }, transfer: asJson.map((field) => field.json.buffer as ArrayBuffer) };
}

parentPort!.on('message', (request: FrameWork) => {
  let done: { answer: FrameWorkAnswer; transfer: ArrayBuffer[] };
  try {
    done = work(request);
  } catch (error) {
    const answer: FrameWorkAnswer = error instanceof WireError
      ? { id: request.id, ok: false, codeName: error.codeName, message: error.message }
      : { id: request.id, ok: false, message: (error as Error).message };
    done = { answer, transfer: [] };
  }
  parentPort!.postMessage(done.answer, done.transfer);
});
