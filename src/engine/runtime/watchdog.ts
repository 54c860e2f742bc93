// The main thread's watch over processor workers: a worker whose heartbeat and document
// counter (progress.ts) both stand still for longer than the limit is stuck on one
// document (or on compiling), and only terminating it frees the thread.
import { readActivity } from './progress.js';

const NOT_STARTED = '0:0';

interface Watched {
  buffer: SharedArrayBuffer;
  last: string;
  /** When the counters last moved (ms). */
  since: number;
  onStuck(): void;
}

export class Watchdog {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly limitMs: number, private readonly now: () => number = Date.now) {}

  watch(id: string, buffer: SharedArrayBuffer, onStuck: () => void): void {
    this.watched.set(id, { buffer, last: readActivity(buffer), since: this.now(), onStuck });
    this.timer ??= setInterval(() => this.check(), Math.max(50, Math.min(1000, this.limitMs / 4)));
    this.timer.unref();
  }

  unwatch(id: string): void {
    this.watched.delete(id);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Has the worker's thread been held for at least `ms` (its heartbeat stopped)? */
  stalledFor(id: string, ms: number): boolean {
    const w = this.watched.get(id);
    if (!w) return false;
    this.observe(w);
    return this.now() - w.since >= ms;
  }

  private observe(w: Watched): void {
    const activity = readActivity(w.buffer);
    // No heartbeat yet: the worker is still loading its modules, which no pipeline controls.
    if (activity !== w.last || activity === NOT_STARTED) {
      w.last = activity;
      w.since = this.now();
    }
  }

  private check(): void {
    for (const [id, w] of this.watched) {
      this.observe(w);
      if (this.now() - w.since < this.limitMs) continue;
      this.unwatch(id);
      w.onStuck();
    }
  }
}
