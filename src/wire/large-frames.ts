// Large frames (a 16 MB pipeline) are read and written off the event loop. Reading a frame's
// BSON, turning a pipeline into the JSON values the domain keeps, turning a stored pipeline
// back into BSON values and writing the reply are each one synchronous walk of the `bson`
// package over every value (100 to 300 ms apiece for 16 MB), during which no other client
// would be answered; slicing them would mean writing those walks again. So a worker thread
// (frame-worker.ts) does them, and the large values cross as JSON text: parsed here in slices
// (sliced-json.ts) on the way in, spliced from the stored bytes on the way out.
import type { Worker } from 'node:worker_threads';
import { BSON, type Document } from 'bson';
import { startModuleWorker } from '../engine/runtime/module-worker.js';
import { parseInSlices } from '../engine/runtime/sliced-json.js';
import { RawJson } from '../http/json.js';
import { BSON_READ_OPTIONS, encodeResponse, parseFrame, responseParts, type Command } from './codec.js';
import { WireError } from './errors.js';
import { isDocumentOrArray, ownMemory, place, type FrameWork, type FrameWorkAnswer, type JsonField } from './frame-work.js';
import { markAsJsonValue } from './render.js';

/** Frames from this size on go to the worker; smaller ones are read at once, which is quicker. */
export const LARGE_FRAME_BYTES = 1024 * 1024;
/** The worker's heap: a 48 MB frame's values fit; past it only that frame fails. */
const WORKER_HEAP_MB = 1024;
/** How deep in a reply a stored pipeline's text may sit (streamProcessors.N.pipeline). */
const REPLY_JSON_DEPTH = 3;

/** A whole frame as a command, as parseFrame reads it; WireError says what is wrong with it. */
export async function decodeFrame(frame: Buffer): Promise<Command> {
  if (frame.length < LARGE_FRAME_BYTES) return parseFrame(frame);
  const owned = ownMemory(frame) ? frame : new Uint8Array(frame);
  const answer = await worker.run({ kind: 'decode', id: 0, frame: owned }, [owned.buffer as ArrayBuffer]);
  if (!('command' in answer)) throw failure(answer);
  const body = BSON.deserialize(answer.rest, BSON_READ_OPTIONS);
  for (const { path, json } of answer.asJson) {
    // Already what toJsonValue would make of it: the commands pass it on as it is.
    place(body, path, markAsJsonValue(await parseInSlices(json) as object));
  }
  return { ...answer.command, body };
}

/**
 * The reply frame, in parts to write one after the other. A stored pipeline a command left as
 * its JSON text (RawJson, render.ts) is turned into BSON values, with the rest of the reply, in
 * the worker; its BSON is written as the worker made it, after the frame's header.
 */
export async function encodeReplyFrame(request: { opCode: number; requestId: number }, reply: Document): Promise<Uint8Array[]> {
  const asJson: JsonField[] = [];
  takeOutRawJson(reply, [], asJson);
  if (asJson.length === 0) return [encodeResponse(request, reply)];
  // The stored bytes are the reply's own (pipelineOf, render.ts): handed over, not copied, where they can be.
  const transfer = asJson.filter((field) => ownMemory(field.json)).map((field) => field.json.buffer as ArrayBuffer);
  const answer = await worker.run({ kind: 'encode', id: 0, rest: BSON.serialize(reply), asJson }, transfer);
  if (!('bson' in answer)) throw failure(answer);
  return responseParts(request, answer.bson);
}

function takeOutRawJson(container: Document, path: string[], out: JsonField[]): void {
  for (const [key, value] of Object.entries(container)) {
    if (value instanceof RawJson) {
      out.push({ path: [...path, key], json: value.bytes });
      container[key] = null;
    } else if (path.length < REPLY_JSON_DEPTH - 1 && isDocumentOrArray(value)) {
      takeOutRawJson(value, [...path, key], out);
    }
  }
}

function failure(answer: FrameWorkAnswer): Error {
  if (answer.ok) return new Error('the frame worker answered another kind of work');
  return answer.codeName ? new WireError(answer.codeName, answer.message) : new Error(`the frame worker failed: ${answer.message}`);
}

/** One worker, started at the first large frame; frames wait their turn in it. */
class FrameWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (answer: FrameWorkAnswer) => void>();

  run(work: FrameWork, transfer: ArrayBuffer[]): Promise<FrameWorkAnswer> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ ...work, id }, transfer);
    });
  }

  private start(): Worker {
    const worker = startModuleWorker(import.meta.url, 'frame-worker', { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    worker.unref();
    worker.on('message', (answer: FrameWorkAnswer) => {
      this.pending.get(answer.id)?.(answer);
      this.pending.delete(answer.id);
    });
    const failAll = (message: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, resolve] of this.pending) resolve({ id, ok: false, message });
      this.pending.clear();
    };
    worker.on('error', (error) => failAll(error.message));
    worker.on('exit', (code) => failAll(`it exited (${code})`));
    this.worker = worker;
    return worker;
  }
}

const worker = new FrameWorker();
