// Steps that usually answer at once and only sometimes wait (a cached credential, a count kept
// in memory, a store that is already caught up) return their value directly, not a promise:
// a request that never waits is then answered in the tick that read it, with no promise to
// make and no turn of the microtask queue. This is the one place that tells the two apart.

/** A value now, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * next(value): at once when value is not a promise, after it resolves when it is. onRejected
 * answers a rejected promise; errors thrown by next, or by whatever made value, stay the caller's.
 */
export function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>, onRejected?: (error: unknown) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(next, onRejected) : next(value);
}
