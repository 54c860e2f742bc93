// Processor output for nodes other than the one running the processor (see
// store/postgres-output.ts): the runner side copies a held processor's output while someone
// watches it; the API side follows the copy.
import { EJSON } from 'bson';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Document, ProcessorRunner } from '../../engine/contract.js';
import { appendOutput, latestOutputSeq, readOutput, renewWatch, watchedProcessors } from '../../store/postgres-output.js';

const WATCH_MS = 5000;
const FLUSH_MS = 200;
const POLL_MS = 200;

/** Runner side: call sync() on each heartbeat with the processors held here. */
export function createOutputPublisher(pool: pg.Pool, engine: ProcessorRunner, log: Logger) {
  const relays = new Map<string, AbortController>();

  function relay(processorId: string): AbortController {
    const abort = new AbortController();
    let buffer: string[] = [];
    const flush = setInterval(() => {
      if (buffer.length === 0) return;
      const docs = buffer;
      buffer = [];
      appendOutput(pool, processorId, docs).catch((error: unknown) => log.warn({ processorId, err: error }, 'publishing output failed'));
    }, FLUSH_MS);
    void (async () => {
      try {
        for await (const doc of engine.watchOutput(processorId, abort.signal)) buffer.push(EJSON.stringify(doc));
      } finally {
        clearInterval(flush);
      }
    })();
    return abort;
  }

  return {
    async sync(held: string[]): Promise<void> {
      const watched = await watchedProcessors(pool, held);
      for (const [id, abort] of relays) {
        if (!watched.has(id)) {
          abort.abort();
          relays.delete(id);
        }
      }
      for (const id of watched) if (!relays.has(id)) relays.set(id, relay(id));
    },
    stopAll(): void {
      for (const abort of relays.values()) abort.abort();
      relays.clear();
    },
  };
}

/** API side: the output of a processor running elsewhere, from now on, until signal aborts. */
export async function* followRemoteOutput(pool: pg.Pool, processorId: string, signal: AbortSignal): AsyncIterable<Document> {
  // Start after what is already kept: a follower sees output from now on, as the watch asks for it.
  let after = await latestOutputSeq(pool, processorId);
  let renewedAt = 0;
  while (!signal.aborted) {
    if (Date.now() - renewedAt > WATCH_MS / 3) {
      await renewWatch(pool, processorId, WATCH_MS);
      renewedAt = Date.now();
    }
    const rows = await readOutput(pool, processorId, after);
    for (const row of rows) {
      after = row.seq;
      yield EJSON.parse(row.doc, { relaxed: false }) as Document;
    }
    if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
