import type { Doc } from '../expressions/values.js';

export interface Sink {
  readonly name: string;
  /** Connects; throws when the target cannot be reached. */
  open(): Promise<void>;
  /** Writes a batch durably (at-least-once: a checkpoint only follows completed writes). Returns bytes written. */
  write(docs: Doc[]): Promise<number>;
  close(): Promise<void>;
}
