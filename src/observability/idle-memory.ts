// Gives back, once a burst of requests is over, the memory the burst made V8 grow. Under load V8
// doubles its young generation (16 -> 32 MiB on Node 20: most of the RSS a million requests add)
// and halves it again only at a collection that finds the allocation rate low: below 1 MB/s over
// what was allocated since the collection before, when that spans its 5 s window (GCTracer). An
// idle server allocates almost nothing, so no collection comes and the young generation stays at
// its busiest size for good; V8's memory reducer does not help, as it starts only once the old
// generation grew by 10 MB. So, once requests stop: one full collection, which frees the burst's
// garbage and starts V8's count of allocated bytes afresh; then, 6 s later, a young-generation
// collection (a few ms), which finds that count low and shrinks. A single collection after the
// burst would weigh up to 16 MiB the burst left in the young generation and often shrink nothing.
// Both wait for a minute of quiet: the next burst pays for them (measured on a cached GET, CPU
// a request in the 3 s after: 10% more after the full collection, up to 40% more after the
// shrink, while V8 grows the young generation back), so bursts that come closer together keep
// the heap they grew.
// Written here because no npm package does this one thing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Quiet this long after a burst counts as its end: time for the full collection. */
const QUIET_FOR_FULL_MS = 60_000;
/** Quiet this long after the full collection: V8's 5 s allocation-rate window and a margin. */
const QUIET_FOR_SHRINK_MS = 6000;
/** How often the timer looks at the request count. */
const LOOK_EVERY_MS = 500;
/** By this long after a burst's last request, what the burst grew is given back. */
export const GIVEN_BACK_AFTER_QUIET_MS = QUIET_FOR_FULL_MS + QUIET_FOR_SHRINK_MS + 2 * LOOK_EVERY_MS;
/**
 * At most this many requests a second still count as quiet, so that a health probe or a scrape
 * every few seconds does not keep the burst's heap for good; V8 counts an allocation rate below
 * 1 MB/s as low, which takes far more calls a second than this.
 */
const QUIET_REQUESTS_PER_SECOND = 5;
/** Fewer requests than this since the last collection cannot have grown the heap worth a collection. */
const MIN_REQUESTS = 1000;

export interface IdleMemoryTrim {
  /** Counts one request. */
  noteRequest(): void;
  stop(): void;
}

type Collect = (options?: { type: 'major' | 'minor' }) => void;
let collect: Collect | undefined;

/**
 * V8's collector: the global one when the process was started with --expose-gc (whose flag is
 * then left as it is); else exposed for this lookup only, the flag set and cleared around it.
 * The engine bench uses it too, to measure memory after a full collection.
 */
export function garbageCollector(): Collect {
  const global = (globalThis as { gc?: Collect }).gc;
  if (!collect && typeof global === 'function') collect = global;
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Collect;
    setFlagsFromString('--no-expose-gc');
  }
  return collect;
}

export function trimMemoryWhenIdle(): IdleMemoryTrim {
  // Counted and nothing else: the timer, not every request, notices when the count slows down.
  let sinceCollection = 0;
  let countAtLastLook = 0;
  let lastBusyAt = Date.now();
  /** When the young generation is due to shrink: set by the full collection, cleared by requests. */
  let shrinkDueAt: number | undefined;
  const timer = setInterval(() => {
    const now = Date.now();
    const sinceLastLook = sinceCollection - countAtLastLook;
    countAtLastLook = sinceCollection;
    if (sinceLastLook > (QUIET_REQUESTS_PER_SECOND * LOOK_EVERY_MS) / 1000) {
      lastBusyAt = now;
      shrinkDueAt = undefined;
      return;
    }
    if (shrinkDueAt !== undefined && now >= shrinkDueAt) {
      shrinkDueAt = undefined;
      garbageCollector()({ type: 'minor' });
      return;
    }
    if (sinceCollection < MIN_REQUESTS || now - lastBusyAt < QUIET_FOR_FULL_MS) return;
    sinceCollection = 0;
    countAtLastLook = 0;
    garbageCollector()();
    shrinkDueAt = Date.now() + QUIET_FOR_SHRINK_MS;
  }, LOOK_EVERY_MS);
  timer.unref();
  return {
    noteRequest() {
      sinceCollection += 1;
    },
    stop: () => clearInterval(timer),
  };
}
