// Sample cursors: what `sp.X.sample()` and `sp.process()` read through
// getMoreSampleStreamProcessor. A cursor collects a processor's output from the moment it
// opens; it ends when the processor stops, when an interactive run has delivered everything,
// after `limit` documents or 40 MB, and it is closed when the client stops asking for it.
import { randomInt } from 'node:crypto';
import { BSON, type Document } from 'bson';
import type { ProcessorRunner } from '../engine/contract.js';

/** A cursor nobody has asked for in this long is abandoned (mongosh asks at least every second). */
export const ABANDONED_AFTER_MS = 60_000;
/** Sampling ends after this much output (WIRE.md §3). */
const MAX_SAMPLE_BYTES = 40 * 1024 * 1024;
/** One reply stays well under the 16 MB BSON limit. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** A sample of a fast processor keeps only the latest documents while nobody reads. */
const MAX_QUEUED_SAMPLE_DOCS = 10_000;
/** A getMore with nothing ready waits this long for output before answering an empty batch. */
const WAIT_FOR_OUTPUT_MS = 200;
const SWEEP_MS = 5_000;

export interface CursorOptions {
  processorId: string;
  processorName: string;
  /** Interactive runs keep every document; a sample of a running processor keeps the latest. */
  lossless: boolean;
  limit?: number;
  /** Hard end of life (interactive runs: ten minutes). */
  expiresAt?: number;
  /** True once an interactive run has no more output to come. */
  isComplete?: (received: number) => boolean;
  /** Called once when the cursor closes, however it ends. */
  onClose?: () => Promise<void>;
  /** The connection that opened it: its close ends an interactive run. */
  ownerConnection?: number;
}

export class SampleCursor {
  /**
   * An int32, not an Int64: mongosh decodes replies without promoting longs and loops while
   * `cursorId !== 0`, which a Long never satisfies.
   */
  readonly id = randomInt(1, 0x7fffffff);
  lastUsed = Date.now();
  private readonly queue: Document[] = [];
  private received = 0;
  private bytes = 0;
  private ended = false;
  private closed = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;

  constructor(private readonly runner: ProcessorRunner, readonly options: CursorOptions) {}

  /** Starts collecting output; call once. */
  open(): void {
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for await (const doc of this.runner.watchOutput(this.options.processorId, this.abort.signal, { includeRecent: false })) {
        this.queue.push(doc);
        this.received += 1;
        if (!this.options.lossless && this.queue.length > MAX_QUEUED_SAMPLE_DOCS) this.queue.shift();
        if (this.options.limit !== undefined && this.received >= this.options.limit) break;
        this.wake?.();
      }
    } finally {
      // The processor stopped, the limit was reached, or the cursor was closed.
      this.ended = true;
      this.wake?.();
    }
  }

  private finished(): boolean {
    if (this.ended) return true;
    if (this.bytes >= MAX_SAMPLE_BYTES) return true;
    if (this.options.expiresAt !== undefined && Date.now() >= this.options.expiresAt) return true;
    return this.options.isComplete?.(this.received) === true;
  }

  /** The next batch; `done` when nothing more will come (the reply then carries cursorId 0). */
  async next(batchSize: number | undefined): Promise<{ docs: Document[]; done: boolean }> {
    this.lastUsed = Date.now();
    if (this.queue.length === 0 && !this.finished()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, WAIT_FOR_OUTPUT_MS).unref();
      });
      this.wake = undefined;
    }
    const docs: Document[] = [];
    let batchBytes = 0;
    const max = batchSize && batchSize > 0 ? batchSize : Number.MAX_SAFE_INTEGER;
    while (this.queue.length > 0 && docs.length < max && batchBytes < MAX_BATCH_BYTES) {
      const doc = this.queue.shift()!;
      const size = BSON.calculateObjectSize(doc);
      batchBytes += size;
      this.bytes += size;
      docs.push(doc);
    }
    const done = this.queue.length === 0 && this.finished();
    return { docs, done };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    await this.options.onClose?.();
  }
}

/** Every open cursor of one workspace endpoint, swept for the abandoned and the expired. */
export class SampleCursors {
  private readonly byId = new Map<string, SampleCursor>();
  /** Interactive runs that have ended: mongosh drops them after the last batch, which must not fail. */
  private readonly ended = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly runner: ProcessorRunner) {
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  open(options: CursorOptions): SampleCursor {
    const cursor = new SampleCursor(this.runner, options);
    this.byId.set(String(cursor.id), cursor);
    cursor.open();
    return cursor;
  }

  get(id: string, processorName: string): SampleCursor | undefined {
    const cursor = this.byId.get(id);
    return cursor && cursor.options.processorName === processorName ? cursor : undefined;
  }

  /** The interactive run of this name, if one is open. */
  interactive(processorName: string): SampleCursor | undefined {
    for (const cursor of this.byId.values()) if (cursor.options.lossless && cursor.options.processorName === processorName) return cursor;
    return undefined;
  }

  /** True (once) when an interactive run of this name has already ended. */
  forgetEnded(processorName: string): boolean {
    return this.ended.delete(processorName);
  }

  async close(cursor: SampleCursor): Promise<void> {
    this.byId.delete(String(cursor.id));
    if (cursor.options.lossless) {
      this.ended.add(cursor.options.processorName);
      if (this.ended.size > 1000) this.ended.delete(this.ended.values().next().value!);
    }
    await cursor.close();
  }

  /** A connection went away: the interactive runs it started go with it. */
  async connectionClosed(connectionId: number): Promise<void> {
    const owned = [...this.byId.values()].filter((c) => c.options.ownerConnection === connectionId);
    await Promise.all(owned.map((c) => this.close(c)));
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const cursor of [...this.byId.values()]) {
      const expired = cursor.options.expiresAt !== undefined && now >= cursor.options.expiresAt;
      if (expired || now - cursor.lastUsed > ABANDONED_AFTER_MS) await this.close(cursor).catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.byId.values()].map((c) => this.close(c).catch(() => undefined)));
  }
}
