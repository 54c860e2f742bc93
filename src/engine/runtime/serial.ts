/** Runs tasks one at a time in call order: batches, checkpoints and timer ticks never interleave. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * One task in a SerialQueue for items that keep arriving: items that arrive while it waits for
 * its turn join it, so a worker that is behind (or waiting on a sink) takes them in one go
 * rather than one task, and one round trip, each. cut() ends the joining: what arrives later
 * runs after whatever is queued next.
 */
export class JoiningTask<T> {
  private waiting: T[] | undefined;

  constructor(private readonly queue: SerialQueue, private readonly task: (items: T[]) => Promise<void>) {}

  add(items: Iterable<T>): void {
    if (this.waiting) {
      for (const item of items) this.waiting.push(item);
      return;
    }
    const batch = [...items];
    this.waiting = batch;
    void this.queue.run(() => {
      if (this.waiting === batch) this.waiting = undefined;
      return this.task(batch);
    });
  }

  cut(): void {
    this.waiting = undefined;
  }
}
