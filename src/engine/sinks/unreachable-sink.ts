// A sink that can "go away" on request (fault injection, docs/testing.md): while a fault is
// set, connecting and writing fail as they would against a target that refuses connections,
// through the same retries as a real outage, so the processor fails as it would then.
import type { Doc } from '../expressions/values.js';
import { withRetries } from '../runtime/retry.js';
import type { Sink } from './sink.js';

export class UnreachableSink implements Sink {
  private fault: string | undefined;

  /** connectionName: what the failure names, as a real sink's failures do. */
  constructor(private readonly inner: Sink, private readonly connectionName: string) {}

  get name(): string {
    return this.inner.name;
  }

  /** The error every connection attempt now meets; undefined: the sink is back. */
  setFault(message: string | undefined): void {
    this.fault = message;
  }

  private attempt<T>(what: string, real: () => Promise<T>): Promise<T> {
    if (this.fault === undefined) return real();
    return withRetries(`${what} connection ${this.connectionName}`, async () => {
      if (this.fault !== undefined) throw new Error(this.fault);
      return real();
    });
  }

  open(): Promise<void> {
    return this.attempt('connecting to', () => this.inner.open());
  }

  write(docs: Doc[]): Promise<number> {
    return this.attempt('writing to', () => this.inner.write(docs));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  async onTick(now: number): Promise<void> {
    if (this.inner.onTick) await this.attempt('writing to', () => this.inner.onTick!(now));
  }

  async flush(): Promise<void> {
    if (this.inner.flush) await this.attempt('writing to', () => this.inner.flush!());
  }

  snapshot(): unknown {
    return this.inner.snapshot?.();
  }

  restore(state: unknown): void {
    this.inner.restore?.(state);
  }
}
