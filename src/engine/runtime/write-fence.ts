// Per-write fencing of sinks for a processor held by lease. The runner that holds the lease
// keeps, in memory shared with the processor's worker, the moment until which its lease is
// surely still its own (renewal start + lease time − a safety margin). The worker checks it
// before every sink and dead-letter write: once it has passed, writes wait, so a runner cut off
// from the database writes nothing more before another runner can claim the processor. A
// database round trip per write would tie output speed to the database; a time bound does not.
const UNTIL = 0;
const POLL_MS = 50;

/** Shared memory holding the time (ms, performance.timeOrigin-based) until which writes may start. */
export type WriteFence = SharedArrayBuffer;

/** A clock that reads the same in every thread of the process and never goes back. */
export function fenceClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export function createWriteFence(): WriteFence {
  return new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
}

/** Writes may start until `untilMs` (fenceClockMs); 0 closes the fence at once. */
export function allowWritesUntil(fence: WriteFence, untilMs: number): void {
  Atomics.store(new BigInt64Array(fence), UNTIL, BigInt(Math.floor(untilMs)));
}

export function writesAllowed(fence: WriteFence): boolean {
  return Number(Atomics.load(new BigInt64Array(fence), UNTIL)) > fenceClockMs();
}

/**
 * Resolves once a write may start. While the fence is closed it waits rather than fails: the
 * runner either renews the lease (writes go on) or stops the worker (nothing more is written).
 */
export async function waitForWritePermit(fence: WriteFence | undefined): Promise<void> {
  while (fence && !writesAllowed(fence)) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
