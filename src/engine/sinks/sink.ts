import type { Doc } from '../expressions/values.js';

export interface Sink {
  readonly name: string;
  /** Connects; throws when the target cannot be reached. */
  open(): Promise<void>;
  /** Writes a batch durably (at-least-once: a checkpoint only follows completed writes). Returns bytes written. */
  write(docs: Doc[]): Promise<number>;
  close(): Promise<void>;
  /** Sinks that gather documents before writing them (S3) write what is due on the processor's timer, */
  onTick?(now: number): Promise<void>;
  /** write what they hold when the processor stops, */
  flush?(): Promise<void>;
  /** and keep what they hold in the checkpoint, so a crash loses nothing (at-least-once). */
  snapshot?(): unknown;
  restore?(state: unknown): void;
}
