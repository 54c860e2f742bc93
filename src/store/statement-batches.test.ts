import { describe, expect, it } from 'vitest';
import { StatementBatches } from './statement-batches.js';

/** A fake database: records each statement's batch and lets the test settle it. */
function fakeStatements() {
  const statements: { batch: string[]; resolve: (result: string) => void; reject: (error: Error) => void }[] = [];
  const batches = new StatementBatches((batch: string[]) => new Promise<string>((resolve, reject) => {
    statements.push({ batch: [...batch], resolve, reject });
  }));
  /** Adds `item` to the open batch `batchId` of `lane`; resolves to the statement's result. */
  const add = (lane: string, batchId: string, item: string): Promise<string> => {
    const { items, sent } = batches.join(lane, batchId, () => []);
    items.push(item);
    return sent.then((result) => `${item}:${result}`);
  };
  return { statements, add };
}

/** Lets queued promise callbacks run (a statement is sent a few ticks after its batch opens). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('statement batches', () => {
  it('sends work arriving while a statement is on its way together in the next statement, after it', async () => {
    const { statements, add } = fakeStatements();
    const first = add('lane', 'b', 'one');
    await settle();
    expect(statements.map((s) => s.batch)).toEqual([['one']]);
    const second = add('lane', 'b', 'two');
    const third = add('lane', 'b', 'three');
    await settle();
    // Still one statement in flight: the next batch waits for it.
    expect(statements.map((s) => s.batch)).toEqual([['one']]);
    statements[0]!.resolve('r1');
    expect(await first).toBe('one:r1');
    await settle();
    expect(statements.map((s) => s.batch)).toEqual([['one'], ['two', 'three']]);
    statements[1]!.resolve('r2');
    expect(await Promise.all([second, third])).toEqual(['two:r2', 'three:r2']);
  });

  it('a failed statement fails the callers of its batch only; the next batch is still sent', async () => {
    const { statements, add } = fakeStatements();
    const failed = [add('lane', 'b', 'one'), add('lane', 'b', 'two')];
    const outcomes = failed.map((p) => p.then(() => 'resolved', (error: Error) => error.message));
    await settle();
    const after = add('lane', 'b', 'three');
    statements[0]!.reject(new Error('connection lost'));
    expect(await Promise.all(outcomes)).toEqual(['connection lost', 'connection lost']);
    await settle();
    expect(statements.map((s) => s.batch)).toEqual([['one', 'two'], ['three']]);
    statements[1]!.resolve('r2');
    expect(await after).toBe('three:r2');
  });

  it("keeps one statement in flight per lane, sending a lane's batches in the order they were opened", async () => {
    const { statements, add } = fakeStatements();
    const results = [add('a', 'a1', 'x'), add('a', 'a2', 'y'), add('b', 'b1', 'z'), add('a', 'a1', 'w')];
    await settle();
    // Lane b does not wait for lane a; a's second batch waits for its first.
    expect(statements.map((s) => s.batch)).toEqual([['x', 'w'], ['z']]);
    statements[1]!.resolve('rb');
    await settle();
    expect(statements).toHaveLength(2);
    statements[0]!.resolve('ra1');
    await settle();
    expect(statements.map((s) => s.batch)).toEqual([['x', 'w'], ['z'], ['y']]);
    statements[2]!.resolve('ra2');
    expect(await Promise.all(results)).toEqual(['x:ra1', 'y:ra2', 'z:rb', 'w:ra1']);
  });
});
