// Gives back, once a burst of requests is over, the memory the burst made V8 grow. V8 sizes its
// heap to the allocation rate and shrinks it again only when its embedder says the process is
// idle; Chrome does, Node never does, so a server that took a million calls would keep the heap
// of its busiest second for good. One full collection when the requests stop lets V8 return
// those pages to the system. Written here because no npm package does this one thing.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Quiet this long (give or take half of it) after the last request counts as idle. */
const IDLE_AFTER_MS = 500;
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
  // Counted and nothing else: the timer, not every request, notices when the count stops moving.
  let sinceCollection = 0;
  let countAtLastLook = 0;
  let lastMovedAt = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (sinceCollection !== countAtLastLook) {
      countAtLastLook = sinceCollection;
      lastMovedAt = now;
      return;
    }
    if (sinceCollection < MIN_REQUESTS || now - lastMovedAt < IDLE_AFTER_MS) return;
    sinceCollection = 0;
    countAtLastLook = 0;
    collector()();
  }, IDLE_AFTER_MS / 2);
  timer.unref();
  return {
    noteRequest() {
      sinceCollection += 1;
    },
    stop: () => clearInterval(timer),
  };
}
