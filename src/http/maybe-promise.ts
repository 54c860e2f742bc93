// Steps that usually answer at once and only sometimes wait (a cached credential, a count kept
// in memory, a store that is already caught up) return their value directly, not a promise:
// a request that never waits is then answered in the tick that read it, with no promise to
// make and no turn of the microtask queue. This is the one place that tells the two apart.
//
// What the next step needs is passed to it as an argument rather than captured: a closure made
// per request costs an allocation even when nothing waits.

/** A value now, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * next(value, context): at once when value is not a promise, after it resolves when it is.
 * Errors thrown by next, or by whatever made value, stay the caller's.
 */
export function andThen<T, R, C = undefined>(value: MaybePromise<T>, next: (value: T, context: C) => MaybePromise<R>, context?: C): MaybePromise<R> {
  return value instanceof Promise ? value.then((resolved) => next(resolved, context as C)) : next(value, context as C);
}

/**
 * step(context), with onError(error, context) answering what it throws at once or what its
 * promise rejects with: one error path whether or not the step waited.
 */
export function attempt<C, R>(step: (context: C) => MaybePromise<R>, onError: (error: unknown, context: C) => MaybePromise<R>, context: C): MaybePromise<R> {
  let value: MaybePromise<R>;
  try {
    value = step(context);
  } catch (error) {
    return onError(error, context);
  }
  return value instanceof Promise ? value.catch((error: unknown) => onError(error, context)) : value;
}
