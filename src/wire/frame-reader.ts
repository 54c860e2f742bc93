// Cuts a TCP byte stream into wire protocol frames. A frame larger than the limit is skipped
// as its bytes arrive (never buffered) and reported, so the session can answer it and go on;
// a length below the header size leaves no way to find the next frame, and is reported as fatal.
import { HEADER_BYTES, MAX_MESSAGE_BYTES } from './codec.js';

export type FrameEvent =
  | { kind: 'frame'; frame: Buffer }
  /** A whole oversized frame went by; requestId and opCode let the session answer it. */
  | { kind: 'oversized'; length: number; requestId: number; opCode: number }
  | { kind: 'fatal'; length: number; requestId: number; opCode: number };

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private skipping = 0;
  private broken = false;
  private pendingOversized: FrameEvent | undefined;

  constructor(private readonly maxBytes = MAX_MESSAGE_BYTES) {}

  /** Takes the next bytes; returns the events they complete, in order. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.broken) return [];
    const events: FrameEvent[] = [];
    let data = chunk;
    if (this.skipping > 0) {
      const skipped = Math.min(this.skipping, data.length);
      this.skipping -= skipped;
      data = data.subarray(skipped);
      if (this.skipping > 0) return events;
      // The rest of the oversized frame has gone by: now it can be answered.
      events.push(this.pendingOversized!);
      this.pendingOversized = undefined;
      if (data.length === 0) return events;
    }
    this.chunks.push(data);
    this.buffered += data.length;
    while (this.buffered >= HEADER_BYTES) {
      const head = this.peek(HEADER_BYTES);
      const length = head.readInt32LE(0);
      const requestId = head.readInt32LE(4);
      const opCode = head.readInt32LE(12);
      if (length < HEADER_BYTES) {
        this.broken = true;
        this.chunks = [];
        this.buffered = 0;
        events.push({ kind: 'fatal', length, requestId, opCode });
        return events;
      }
      if (length > this.maxBytes) {
        const available = Math.min(length, this.buffered);
        this.take(available);
        this.skipping = length - available;
        const event: FrameEvent = { kind: 'oversized', length, requestId, opCode };
        if (this.skipping === 0) {
          events.push(event);
          continue;
        }
        // Reported once the rest has gone by, so the answer follows the whole frame.
        this.pendingOversized = event;
        return events;
      }
      if (this.buffered < length) break;
      events.push({ kind: 'frame', frame: this.take(length) });
    }
    return events;
  }

  private peek(bytes: number): Buffer {
    if (this.chunks[0]!.length >= bytes) return this.chunks[0]!.subarray(0, bytes);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.subarray(0, bytes);
  }

  private take(bytes: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = joined.subarray(0, bytes);
    const rest = joined.subarray(bytes);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= bytes;
    return out;
  }
}
