// The stop of a window processor split across workers, with the two workers' processors in
// this thread and their channel running through the test, which holds back what the shard
// sends: a checkpoint round is under way, with the shard's state taken before it hands its
// window over, at the moment stop comes. Deterministic: the processors' periodic work
// (ticks, hand-overs, checkpoint rounds) runs only when the test advances their timers.
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Checkpoint } from '../contract.js';
import type { Doc } from '../expressions/values.js';
import type { Deliver, Source } from '../sources/source.js';
import { definition } from '../testing/memory-host.js';
import { decodeCheckpointState } from './checkpoint-codec.js';
import type { ProcessorEnvironment } from './environment.js';
import { Processor, type CheckpointState } from './processor.js';
import { splitCheckpoint } from './sharded-checkpoint.js';
import type { ShardLinks } from './window-shards.js';

const base = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
const event = (device: string, n: number, ms: number): Doc => ({ device, n, at: new Date(base + ms) });
/** Far-off events: they close every window before them (a day's lateness). */
const flush = (day: number) => event('flush', 0, day * DAY);

/** Lets messages between the processors, and what they start, go through (real time: only intervals are faked). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

/**
 * Stands for a Kafka source over `partitions` (events by partition), with Kafka-shaped
 * offsets as its position; it delivers when the test says, and a checkpoint's commit takes a
 * while, as a broker's answer does.
 */
class TestSource implements Source {
  private deliver!: Deliver;
  private readonly offsets: Record<string, number>;

  constructor(private readonly partitions: Map<number, Doc[]>, resumed: unknown) {
    this.offsets = { ...(resumed as { offsets?: Record<string, number> } | undefined)?.offsets };
  }

  async start(deliver: Deliver): Promise<void> { this.deliver = deliver; }

  /** Delivers what `partition` holds past this source's offset. */
  async read(partition: number): Promise<void> {
    const key = `events:${partition}`;
    const events = this.partitions.get(partition) ?? [];
    const docs = events.slice(this.offsets[key] ?? 0).map((doc) => ({ ...doc, _ts: doc['at'], _stream_meta: { source: { type: 'kafka', partition } } }));
    this.offsets[key] = events.length;
    await this.deliver(docs, undefined, this.position());
  }

  position(): unknown { return { offsets: { ...this.offsets } }; }
  async checkpointSaved(): Promise<void> { await settle(); }
  async stop(): Promise<void> {}
}

const windowed = () => definition([
  { $source: { documents: [] } },
  {
    $tumblingWindow: {
      interval: { size: 1, unit: 'minute' }, allowedLateness: { size: 1, unit: 'day' },
      pipeline: [{ $group: { _id: '$device', count: { $count: {} }, total: { $sum: '$n' } } }],
    },
  },
  { $emit: { connectionName: '__testLog' } },
]);

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function environment(output: Doc[], saved: Checkpoint[], failures: string[], split?: { index: number; links: ShardLinks }): ProcessorEnvironment {
  return {
    settings: { sampleRatePerSecond: 0, checkpointIntervalMs: 50 },
    log: silent,
    ...(split ? { shard: { index: split.index, count: 2, run: 'test' }, shardLinks: split.links } : {}),
    saveCheckpoint: async (checkpoint) => { saved.push(checkpoint); },
    publishOutput: (docs) => { output.push(...docs); },
    publishDeadLetters: () => undefined,
    wantsOutput: () => false,
    failed: (message) => { failures.push(message); },
  };
}

/** A processor over the test's partitions (its own source, set in place of the definition's). */
function processor(env: ProcessorEnvironment, partitions: Map<number, Doc[]>, checkpoint?: Checkpoint): { processor: Processor; source: TestSource } {
  const created = new Processor(windowed(), env, checkpoint);
  created.compile();
  const source = new TestSource(partitions, checkpoint ? (decodeCheckpointState(checkpoint.state) as CheckpointState).source : undefined);
  (created as unknown as { source: Source }).source = source;
  return { processor: created, source };
}

describe('a split window processor stopped while a checkpoint round is under way', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('takes a final round after it, so a resume from the final checkpoint emits no window a second time', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    // Partition 0 is the emitting worker's, 1 the shard's; both in the first minute's window.
    const partitions = new Map([[0, [event('a', 1, 0), event('a', 2, 1000)]], [1, [event('b', 10, 2000)]]]);
    const fromEmitter = new MessageChannel();
    const fromShard = new MessageChannel();
    // Shard → test → emitting worker, held while `holding`; emitting worker → shard straight through.
    const held: unknown[] = [];
    let holding = false;
    fromShard.port2.on('message', (message) => { if (holding) held.push(message); else fromEmitter.port2.postMessage(message); });
    fromEmitter.port2.on('message', (message) => fromShard.port2.postMessage(message));
    const output: Doc[] = [];
    const saved: Checkpoint[] = [];
    const failures: string[] = [];
    const emitter = processor(environment(output, saved, failures, { index: 0, links: { fromShards: [fromEmitter.port1] } }), partitions);
    const shard = processor(environment(output, [], failures, { index: 1, links: { toEmitter: fromShard.port1 } }), partitions);
    await emitter.processor.start();
    await shard.processor.start();
    await emitter.source.read(0);
    await shard.source.read(1);
    await settle();

    // A checkpoint round: the shard's state is taken (its window not handed over yet) ...
    holding = true;
    vi.advanceTimersByTime(50);
    await settle();
    expect(held).toMatchObject([{ type: 'state', round: 1 }]);
    // ... and it reads on: another event for that window, and one a day later.
    partitions.get(1)!.push(event('b', 20, 3000), flush(2));
    await shard.source.read(1);
    // Its tick hands the window over, behind its state on the same channel.
    vi.advanceTimersByTime(150);
    await settle();
    expect(held).toMatchObject([{ type: 'state', round: 1 }, { type: 'share' }]);

    // Stop comes to both (the engine posts it to every worker) while that round waits.
    const stopped = Promise.all([emitter.processor.stop(), shard.processor.stop()]);
    await settle();
    holding = false;
    for (const message of held.splice(0)) fromEmitter.port2.postMessage(message);
    await stopped;
    expect(failures).toEqual([]);

    // Resumed with one worker from the last checkpoint; a far-off event closes what is left.
    partitions.get(0)!.push(flush(4));
    const resumed = processor(environment(output, [], failures), partitions, splitCheckpoint(saved.at(-1), 1)[0]);
    await resumed.processor.start();
    await resumed.source.read(0);
    await resumed.source.read(1);
    await settle();
    await resumed.processor.stop();
    expect(failures).toEqual([]);
    // Every window once: the first minute's two devices, and the one a day later.
    const windows = output.map((d) => ({ _id: d['_id'], count: d['count'], total: d['total'], start: (d['_stream_meta'] as Doc)['window']['start'] }));
    expect(windows.sort((x, y) => String(x._id).localeCompare(String(y._id)))).toEqual([
      { _id: 'a', count: 2, total: 3, start: new Date(base) }, { _id: 'b', count: 2, total: 30, start: new Date(base) },
      { _id: 'flush', count: 1, total: 0, start: new Date(base + 2 * DAY) },
    ]);
    fromEmitter.port2.close();
    fromShard.port2.close();
  });
});
