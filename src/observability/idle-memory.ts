// Gives back, once a burst of requests is over, the memory the burst made V8 grow. Under load V8
// doubles its young generation (16 -> 32 MiB on Node 20: most of the RSS a million requests add)
// and halves it again only at a collection that finds the allocation rate of the last 5 s (its
// GCTracer's throughput window) below 1 MB/s. An idle server allocates almost nothing, so no
// collection comes and the young generation stays at its busiest size for good; its memory
// reducer does not help either, as it starts only once the old generation grew by 10 MB. One full
// collection after a quiet period longer than that window frees the burst's garbage and makes V8
// shrink the young generation. A collection sooner, while the window still holds the burst, frees
// garbage but shrinks nothing. Written here because no npm package does this one thing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Quiet this long counts as idle: V8's 5 s allocation-rate window and a margin. */
const IDLE_AFTER_MS = 6000;
/** How often the timer looks at the request count: the collection comes 6-8 s after the burst. */
const LOOK_EVERY_MS = 1000;
/**
 * At most this many requests between two looks still count as quiet, so that a health probe or a
 * scrape every few seconds does not keep the burst's heap for good; V8 counts an allocation rate
 * below 1 MB/s as low, which takes far more calls a second than this.
 */
const QUIET_REQUESTS_PER_LOOK = 5;
/** Fewer requests than this since the last collection cannot have grown the heap worth a collection. */
const MIN_REQUESTS = 1000;

export interface IdleMemoryTrim {
  /** Counts one request. */
  noteRequest(): void;
  stop(): void;
}

let collect: (() => void) | undefined;

/** V8's collector, exposed for this module only (the flag is set and cleared around the lookup). */
function collector(): () => void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
    setFlagsFromString('--no-expose-gc');
  }
  return collect;
}

export function trimMemoryWhenIdle(): IdleMemoryTrim {
  // Counted and nothing else: the timer, not every request, notices when the count slows down.
  let sinceCollection = 0;
  let countAtLastLook = 0;
  let lastBusyAt = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const sinceLastLook = sinceCollection - countAtLastLook;
    countAtLastLook = sinceCollection;
    if (sinceLastLook > QUIET_REQUESTS_PER_LOOK) {
      lastBusyAt = now;
      return;
    }
    if (sinceCollection < MIN_REQUESTS || now - lastBusyAt < IDLE_AFTER_MS) return;
    sinceCollection = 0;
    countAtLastLook = 0;
    collector()();
  }, LOOK_EVERY_MS);
  timer.unref();
  return {
    noteRequest() {
      sinceCollection += 1;
    },
    stop: () => clearInterval(timer),
  };
}
