// Batches for one database statement at a time: while a lane's statement is on its way, the
// work arriving for that lane gathers in the next batch, sent (as one statement) once the one
// before it settled. One round trip per batch instead of one per caller, in the order the
// batches were opened, and a statement that fails fails only the callers whose work it carried.
//
// A lane is what must not run two statements at once (a rate-limit key whose row they would
// queue on, or a whole store); a batch id names the batch still taking work within it, so a
// lane can hold more than one open batch (one per rate window) when they cannot be merged.

/** A batch still taking work, and the result of its statement once sent. */
export interface StatementBatch<Batch, Result> {
  /** What the callers add their work to, until the statement is sent. */
  readonly items: Batch;
  /** The statement's result; rejects, for every caller of this batch, if the statement failed. */
  readonly sent: Promise<Result>;
}

export class StatementBatches<Batch, Result> {
  /** Batches still taking work (their statement not yet sent), by batch id. */
  private readonly open = new Map<string, StatementBatch<Batch, Result>>();
  /** Per lane, the last statement sent or queued: the next batch goes after it. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly send: (batch: Batch) => Promise<Result>) {}

  /**
   * The batch `batchId` if it is still taking work; otherwise a new one (`create()`), sent
   * after the last statement of `lane` settles (succeeded or failed). Batch ids are unique across
   * lanes. Work added to `items` in the same tick as this call is always in the batch.
   */
  join(lane: string, batchId: string, create: () => Batch): StatementBatch<Batch, Result> {
    const open = this.open.get(batchId);
    if (open) return open;
    const items = create();
    const sent = (this.tails.get(lane) ?? Promise.resolve()).then(() => {
      this.open.delete(batchId);
      return this.send(items);
    });
    // The next batch waits for this statement whatever its outcome; the lane is forgotten once idle.
    const tail = sent.catch(() => undefined).finally(() => {
      if (this.tails.get(lane) === tail) this.tails.delete(lane);
    });
    this.tails.set(lane, tail);
    const made = { items, sent };
    this.open.set(batchId, made);
    return made;
  }
}
