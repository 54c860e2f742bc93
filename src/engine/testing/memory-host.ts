// A ProcessorHost that keeps everything in memory, and other helpers of the engine tests.
import type { Checkpoint, ConnectionDefinition, Document, ProcessorDefinition, ProcessorHost, ProcessorRunner } from '../contract.js';

export class MemoryHost implements ProcessorHost {
  readonly checkpoints = new Map<string, Checkpoint>();
  readonly failures = new Map<string, string>();
  saved = 0;

  async loadCheckpoint(processorId: string): Promise<Checkpoint | undefined> {
    return this.checkpoints.get(processorId);
  }

  async saveCheckpoint(processorId: string, checkpoint: Checkpoint): Promise<void> {
    // A copy, as a store would keep: the bytes as they are, anything else through JSON.
    const state = checkpoint.state instanceof Uint8Array ? checkpoint.state.slice() : JSON.parse(JSON.stringify(checkpoint.state ?? null));
    this.checkpoints.set(processorId, { id: checkpoint.id, takenAt: checkpoint.takenAt, state });
    this.saved += 1;
  }

  async deleteCheckpoint(processorId: string): Promise<void> {
    this.checkpoints.delete(processorId);
  }

  async markFailed(processorId: string, message: string): Promise<void> {
    this.failures.set(processorId, message);
  }
}

let counter = 0;

export function definition(pipeline: Document[], extra: Partial<ProcessorDefinition> & { connections?: Record<string, ConnectionDefinition> } = {}): ProcessorDefinition {
  counter += 1;
  const id = (Date.now().toString(16) + counter.toString(16).padStart(6, '0')).padStart(24, '0').slice(-24);
  return {
    id,
    name: `processor${counter}`,
    groupId: '0'.repeat(24),
    instanceName: 'instance0',
    tier: 'SP10',
    pipeline,
    ...extra,
    connections: { sample_stream_solar: { name: 'sample_stream_solar', type: 'Sample' }, ...extra.connections },
  };
}

/** Polls until `check` returns a value other than undefined/false (tests never assert timings). */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The first `count` documents a processor's sink receives. */
export async function collectOutput(runner: ProcessorRunner, id: string, count: number): Promise<Document[]> {
  const controller = new AbortController();
  const docs: Document[] = [];
  for await (const doc of runner.watchOutput(id, controller.signal)) {
    docs.push(doc);
    if (docs.length >= count) controller.abort();
  }
  return docs;
}
