// Audit events waiting to be written. Recording one must not cost the request a database
// write, so events collect here and go to the store in one transaction per batch; readers
// of the trail merge what is still waiting, so a call shows up the moment it is recorded.
import type { AuditEvent } from './store.js';

/** Long enough to gather a burst of calls into one transaction, short enough to lose little on a crash. */
const FLUSH_DELAY_MS = 50;
const MAX_BATCH = 5000;

interface Pending {
  scopeId: string;
  event: AuditEvent;
}

export class AuditJournal {
  private pending: Pending[] = [];
  /** Batches handed to the store and not yet committed: still merged by readers. */
  private readonly writing = new Set<Pending[]>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  /** write stores a batch in one transaction. */
  constructor(private readonly write: (batch: readonly Pending[]) => Promise<void>, private readonly onError: (error: unknown) => void) {}

  record(scopeId: string, event: AuditEvent): void {
    this.pending.push({ scopeId, event });
    if (this.pending.length >= MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
  }

  /** Events of scopeId not yet in the store, at from..to inclusive (ISO times), oldest first. */
  waiting(scopeId: string, fromIso: string, toIso: string): AuditEvent[] {
    const out: AuditEvent[] = [];
    const collect = (batch: Pending[]): void => {
      for (const p of batch) if (p.scopeId === scopeId && p.event.at >= fromIso && p.event.at <= toIso) out.push(p.event);
    };
    this.writing.forEach(collect);
    collect(this.pending);
    return out;
  }

  /** Hands what is waiting to the store; resolves once every batch handed so far is written. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    if (batch.length > 0) {
      this.pending = [];
      this.writing.add(batch);
      this.flushing = this.flushing
        .then(() => this.write(batch))
        .catch(this.onError)
        .finally(() => this.writing.delete(batch));
    }
    return this.flushing;
  }
}
