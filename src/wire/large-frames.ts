// A large frame (a 16 MB pipeline) is decoded off the event loop. Reading its BSON and turning
// the pipeline into the JSON values the domain keeps are each one synchronous walk of the
// `bson` package over every value (200 to 300 ms apiece for 16 MB), during which no other
// client would be answered; slicing them would mean writing those walks again. So a worker
// thread does both and hands back each large value as JSON text, parsed here in slices
// (sliced-json.ts), and the rest of the command as BSON small enough to read at once.
import type { Worker } from 'node:worker_threads';
import { BSON, type Document } from 'bson';
import { startModuleWorker } from '../engine/runtime/module-worker.js';
import { parseInSlices } from '../engine/runtime/sliced-json.js';
import { BSON_READ_OPTIONS, parseFrame, type Command } from './codec.js';
import { WireError, type CodeName } from './errors.js';
import { markAsJsonValue } from './render.js';

/** Frames from this size on go to the worker; smaller ones are read at once, which is quicker. */
export const LARGE_FRAME_BYTES = 1024 * 1024;
/** The decoding worker's heap: a 48 MB frame's values fit; past it only that frame fails. */
const DECODER_HEAP_MB = 1024;

/** A value of the command (top level or under `options`) that came as JSON text. */
export interface JsonField {
  path: string[];
  json: Uint8Array;
}

export interface DecodeRequest {
  id: number;
  frame: Uint8Array;
}

export type DecodeAnswer =
  | { id: number; ok: true; command: Omit<Command, 'body'>; rest: Uint8Array; asJson: JsonField[] }
  /** codeName for what parseFrame refuses (the same reply as a small frame's); none for a failure of the worker. */
  | { id: number; ok: false; codeName?: CodeName; message: string };

/** A whole frame as a command, as parseFrame reads it; WireError says what is wrong with it. */
export async function decodeFrame(frame: Buffer): Promise<Command> {
  if (frame.length < LARGE_FRAME_BYTES) return parseFrame(frame);
  const answer = await decoder.decode(frame);
  if (!answer.ok) throw answer.codeName ? new WireError(answer.codeName, answer.message) : new Error(`decoding a large frame failed: ${answer.message}`);
  const body = BSON.deserialize(answer.rest, BSON_READ_OPTIONS);
  for (const { path, json } of answer.asJson) {
    let container = body;
    for (const key of path.slice(0, -1)) container = container[key] as Document;
    // Already what toJsonValue would make of it: the commands pass it on as it is.
    container[path[path.length - 1]!] = markAsJsonValue(await parseInSlices(json) as object);
  }
  return { ...answer.command, body };
}

/** One worker, started at the first large frame; frames wait their turn in it. */
class FrameDecoder {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (answer: DecodeAnswer) => void>();

  decode(frame: Buffer): Promise<DecodeAnswer> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    // Handed over, not copied, when the frame has its memory to itself (it usually has).
    const owned = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame : new Uint8Array(frame);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, frame: owned } satisfies DecodeRequest, [owned.buffer as ArrayBuffer]);
    });
  }

  private start(): Worker {
    const worker = startModuleWorker(import.meta.url, 'frame-decoder-worker', { resourceLimits: { maxOldGenerationSizeMb: DECODER_HEAP_MB } });
    worker.unref();
    worker.on('message', (answer: DecodeAnswer) => {
      this.pending.get(answer.id)?.(answer);
      this.pending.delete(answer.id);
    });
    const failAll = (message: string): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, resolve] of this.pending) resolve({ id, ok: false, message });
      this.pending.clear();
    };
    worker.on('error', (error) => failAll(error.message));
    worker.on('exit', (code) => failAll(`the decoding worker exited (${code})`));
    this.worker = worker;
    return worker;
  }
}

const decoder = new FrameDecoder();
