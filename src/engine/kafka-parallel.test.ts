import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { createEngine } from './index.js';
import type { ConnectionDefinition, Document, ProcessorRunner } from './contract.js';
import { MemoryHost, definition, eventually } from './testing/memory-host.js';
import { kcatAvailable, startMockKafka, type MockKafka } from './testing/kcat-mock.js';
import { countSequence, produceSequence } from './testing/kafka-sequence.js';

// kafkaSourceParallelism: one processor's Kafka partitions (the mock's topics have 4) split
// across workers through the consumer group.
describe.skipIf(!kcatAvailable() && !process.env['CI'])('Kafka source split across workers (kcat mock cluster)', () => {
  let mock: MockKafka;
  let kafka: Kafka;
  const readers: Consumer[] = [];

  beforeAll(async () => {
    mock = await startMockKafka();
    kafka = new Kafka({ brokers: [mock.bootstrapServers], logLevel: logLevel.NOTHING });
  });

  afterAll(async () => {
    for (const reader of readers) await reader.disconnect();
    await mock?.stop();
  });

  const connections = (): Record<string, ConnectionDefinition> => ({ kafka1: { name: 'kafka1', type: 'Kafka', bootstrapServers: mock.bootstrapServers } });

  it('two workers share the partitions, deliver every event, and resume from one checkpoint with one worker or two', async () => {
    const host = new MemoryHost();
    const seen = new Map<number, number>();
    readers.push(await countSequence(kafka, 'split-out', 'split-reader', seen));
    const def = definition([
      { $source: { connectionName: 'kafka1', topic: 'split-in', config: { auto_offset_reset: 'earliest' } } },
      { $addFields: { doubled: { $multiply: ['$seq', 2] }, partition: { $meta: 'stream.source.partition' } } },
      { $emit: { connectionName: 'kafka1', topic: 'split-out' } },
    ], { connections: connections() });
    const everyEventArrived = (to: number) => () => Array.from({ length: to }, (_, seq) => seen.has(seq)).every(Boolean);

    await produceSequence(kafka, 'split-in', 0, 2000);
    const two = createEngine(host, { kafkaSourceParallelism: 2, checkpointIntervalMs: 300 });
    await two.start(def, { resumeFromCheckpoint: true });
    await eventually(everyEventArrived(2000), 60_000);
    const stats = await eventually(() => {
      const s = two.stats(def.id);
      // Each worker posts its stats between batches: wait until both posted their last.
      return s && s.inputMessageCount === 2000 && s.outputMessageCount === 2000 && s.kafkaPartitions?.length === 4
        && s.operatorStats.every((o) => o.inputMessageCount === 2000) ? s : undefined;
    }, 30_000);
    // Partition p is read by worker p mod 2, and both workers read.
    expect(stats.kafkaPartitions!.map((p) => [p.partition, p.worker]).sort()).toEqual([[0, 0], [1, 1], [2, 0], [3, 1]]);
    expect(stats).toMatchObject({ status: 'running', outputMessageCount: 2000 });
    expect(stats.operatorStats.map((o) => o.inputMessageCount)).toEqual([2000, 2000, 2000]);

    // A watch of the output sees both workers' documents.
    const watching = new AbortController();
    const watchedPartitions = new Set<unknown>();
    const watched = (async () => {
      for await (const doc of two.watchOutput(def.id, watching.signal)) watchedPartitions.add(doc['partition']);
    })();
    // Stopped mid-stream: events keep arriving while it is down and while it restarts.
    await produceSequence(kafka, 'split-in', 2000, 3000);
    await eventually(() => watchedPartitions.size === 4, 30_000);
    watching.abort();
    await watched;
    expect([...watchedPartitions].sort()).toEqual([0, 1, 2, 3]);
    await two.stop(def.id);
    await produceSequence(kafka, 'split-in', 3000, 4000);
    const one = createEngine(host, { kafkaSourceParallelism: 1, checkpointIntervalMs: 300 });
    await one.start(def, { resumeFromCheckpoint: true });
    await produceSequence(kafka, 'split-in', 4000, 5000);
    await eventually(everyEventArrived(5000), 60_000);
    // One worker resumed all four partitions; the counts go on from the two workers' sum.
    const resumed = await eventually(() => {
      const s = one.stats(def.id);
      return s && s.inputMessageCount >= 5000 && s.kafkaPartitions?.length === 4 ? s : undefined;
    }, 30_000);
    expect(resumed.kafkaPartitions!.every((p) => p.worker === undefined)).toBe(true);
    await one.stop(def.id);

    // And back to two workers.
    await produceSequence(kafka, 'split-in', 5000, 6000);
    await two.start(def, { resumeFromCheckpoint: true });
    await eventually(everyEventArrived(6000), 60_000);
    await two.stop(def.id);
    // At-least-once with offsets resumed from the checkpoint: nothing before the first stop is read again.
    expect([...seen].filter(([seq, times]) => seq < 2000 && times > 1)).toEqual([]);
    expect(host.failures.size).toBe(0);
    await two.close();
    await one.close();
  }, 180_000);

  it('a tumbling $group split over two workers gives the same windows as one worker, across stops mid-stream with one worker and with two', async () => {
    const base = Date.UTC(2024, 0, 1);
    // Every device in every partition; each partition in time order; one-minute windows.
    const event = (i: number) => ({ partition: i % 4, value: JSON.stringify({ at: new Date(base + i * 1000).toISOString(), device: `d${Math.floor(i / 4) % 5}`, watts: i % 17 }) });
    const produce = async (messages: Array<{ partition: number; value: string }>) => {
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'window-in', messages });
      await producer.disconnect();
    };
    const windowed = (outTopic: string) => definition([
      { $source: { connectionName: 'kafka1', topic: 'window-in', timeField: { $dateFromString: { dateString: '$at' } }, config: { auto_offset_reset: 'earliest' } } },
      {
        // Nothing closes before every partition has seen the flush events (a day's lateness),
        // which open a window of their own that stays open.
        $tumblingWindow: {
          interval: { size: 1, unit: 'minute' }, allowedLateness: { size: 1, unit: 'day' },
          pipeline: [{
            $group: {
              _id: '$device', total: { $sum: '$watts' }, count: { $count: {} }, low: { $min: '$watts' }, high: { $max: '$watts' },
              mean: { $avg: '$watts' }, all: { $push: '$watts' }, distinct: { $addToSet: '$watts' },
            },
          }],
        },
      },
      { $project: { _id: 0, device: '$_id', total: 1, count: 1, low: 1, high: 1, mean: 1, all: 1, distinct: 1, start: { $meta: 'stream.window.start' } } },
      { $emit: { connectionName: 'kafka1', topic: outTopic } },
    ], { connections: connections() });
    const readWindows = async (topic: string) => {
      const docs: Document[] = [];
      const reader = kafka.consumer({ groupId: `reader-${topic}`, maxWaitTimeInMs: 200 });
      await reader.connect();
      await reader.subscribe({ topic, fromBeginning: true });
      await reader.run({ eachMessage: async ({ message }) => { docs.push(JSON.parse(message.value!.toString()) as Document); } });
      readers.push(reader);
      return docs;
    };
    // Order within $push and $addToSet follows arrival, which workers interleave differently.
    const canonical = (docs: Document[]) => docs
      .map((d) => JSON.stringify({ ...d, all: [...(d['all'] as number[])].sort((a, b) => a - b), distinct: [...(d['distinct'] as number[])].sort((a, b) => a - b) }))
      .sort();
    const host = new MemoryHost();
    // A processor that failed reads nothing more: its failure ends the wait, with its reason.
    const consumed = (engine: ProcessorRunner, id: string, count: number) => eventually(() => {
      expect(host.failures).toEqual(new Map());
      return (engine.stats(id)?.inputMessageCount ?? 0) >= count;
    }, 120_000);

    const events = (from: number, to: number) => produce(Array.from({ length: to - from }, (_, i) => event(from + i)));

    await events(0, 300);
    const one = createEngine(host, { checkpointIntervalMs: 300 });
    const two = createEngine(host, { kafkaSourceParallelism: 2, checkpointIntervalMs: 300 });
    const reference = windowed('windows-one');
    const split = windowed('windows-split');
    const fromOne = await readWindows('windows-one');
    const fromSplit = await readWindows('windows-split');
    await one.start(reference, { resumeFromCheckpoint: false });
    await two.start(split, { resumeFromCheckpoint: true });
    // Stopped while events still arrive: windows are open, and what each worker had not yet
    // handed over is in the one checkpoint.
    const arriving = events(300, 400);
    await consumed(two, split.id, 150);
    await two.stop(split.id);
    await arriving;
    await events(400, 450);
    await two.start(split, { resumeFromCheckpoint: true });
    await events(450, 600);
    await consumed(two, split.id, 600);
    // Partition p is read by worker p mod 2.
    expect(two.stats(split.id)!.kafkaPartitions!.map((p) => [p.partition, p.worker]).sort()).toEqual([[0, 0], [1, 1], [2, 0], [3, 1]]);
    const stillArriving = events(600, 700);
    await two.stop(split.id);
    await stillArriving;
    // The rest with one worker, from the two workers' checkpoint, stopped mid-stream too.
    await one.start(split, { resumeFromCheckpoint: true });
    const more = events(700, 800);
    await consumed(one, split.id, 700);
    await one.stop(split.id);
    await more;
    // And back to two workers from one worker's checkpoint.
    await two.start(split, { resumeFromCheckpoint: true });
    await consumed(two, split.id, 800);
    await consumed(one, reference.id, 800);
    await produce([0, 1, 2, 3].map((partition) => ({ partition, value: JSON.stringify({ at: new Date(base + 2 * 86_400_000).toISOString(), device: 'flush' }) })));
    // Five devices in each of the 14 minutes the 800 events span.
    await eventually(() => fromOne.length >= 70 && fromSplit.length >= 70, 60_000);
    expect(fromOne).toHaveLength(70);
    expect(fromSplit).toHaveLength(70);
    // Nothing lost and nothing counted twice across the stops: the same windows as one worker.
    expect(canonical(fromSplit)).toEqual(canonical(fromOne));
    // And the windows are right: d0 in the first minute holds events 0-3, 20-23 and 40-43.
    const first = fromOne.find((d) => d['device'] === 'd0' && (d['start'] as { $date: string }).$date === '2024-01-01T00:00:00Z');
    const watts = [0, 1, 2, 3, 20, 21, 22, 23, 40, 41, 42, 43].map((i) => i % 17);
    expect(first).toMatchObject({ count: 12, total: watts.reduce((a, b) => a + b, 0), low: 0, high: 9, mean: watts.reduce((a, b) => a + b, 0) / 12 });
    expect(host.failures.size).toBe(0);
    await one.close();
    await two.close();
  }, 400_000);
});
