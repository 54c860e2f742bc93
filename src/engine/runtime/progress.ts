// What the main thread's watchdog reads to tell a busy worker from a stuck one: a heartbeat
// the worker's event loop bumps while it is free, and a counter bumped for every document a
// stage finishes. Both stand still only when one document holds the thread.
const HEARTBEAT = 0;
const PROGRESS = 1;
const HEARTBEAT_MS = 100;

let cells: Int32Array | undefined;

/** Shared memory for one worker's counters (created by the main thread). */
export function createProgressBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
}

/** In the worker: starts the heartbeat; markProgress() counts from now on. */
export function installProgress(buffer: SharedArrayBuffer): void {
  cells = new Int32Array(buffer);
  const shared = cells;
  // The first beat at once: the main thread reads "never beat" as still loading.
  Atomics.add(shared, HEARTBEAT, 1);
  setInterval(() => Atomics.add(shared, HEARTBEAT, 1), HEARTBEAT_MS).unref();
}

/** A stage finished one document (a no-op outside a worker: benchmarks, unit tests). */
export function markProgress(): void {
  if (cells) Atomics.add(cells, PROGRESS, 1);
}

/** In the main thread: a value that changes whenever the worker's loop is free or a document moves on. */
export function readActivity(buffer: SharedArrayBuffer): string {
  const view = new Int32Array(buffer);
  return `${Atomics.load(view, HEARTBEAT)}:${Atomics.load(view, PROGRESS)}`;
}
