// A handler's store transaction with the work that belongs to it outside the store: what to
// do once it committed (engine start and stop), and what to undo should it not commit (a
// large pipeline written beside the store first). A networked store may run the transaction
// function again after losing a race, so each run's tasks are its own: a run that did not
// commit has its undo tasks run (before the next run, or before its error goes on), and only
// the committing run's afterCommit tasks run, once it committed.
import type { StoreTx } from '../store/store.js';

type Task = () => Promise<void>;

export interface TransactionTasks {
  afterCommit(task: Task): void;
  unlessCommitted(task: Task): void;
}

export async function withTransactionTasks<T>(
  inStore: (fn: (tx: StoreTx) => Promise<T>) => Promise<T>,
  fn: (tx: StoreTx, tasks: TransactionTasks) => Promise<T>,
): Promise<T> {
  // Made when a task comes: most calls (every read, most writes) have none.
  let afterCommit: Task[] | undefined;
  let undo: Task[] | undefined;
  const undoLastRun = async () => {
    const tasks = undo ?? [];
    undo = undefined;
    for (const task of tasks) await task();
  };
  const tasks: TransactionTasks = { afterCommit: (task) => (afterCommit ??= []).push(task), unlessCommitted: (task) => (undo ??= []).push(task) };
  let result: T;
  try {
    result = await inStore(async (tx) => {
      if (undo) await undoLastRun();
      afterCommit = undefined;
      return fn(tx, tasks);
    });
  } catch (error) {
    if (undo) await undoLastRun();
    throw error;
  }
  for (const task of afterCommit ?? []) await task();
  return result;
}
