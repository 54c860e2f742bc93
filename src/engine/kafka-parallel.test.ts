import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { createEngine } from './index.js';
import type { ConnectionDefinition, Document, ProcessorDefinition, ProcessorRunner } from './contract.js';
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
  /** A processor on one worker (the reference) and the same on two, each emitting to its own topic, read as it arrives. */
  const oneAndTwo = async (host: MemoryHost, windowed: (outTopic: string) => ProcessorDefinition, prefix: string, checkpointIntervalMs: number) => ({
    one: createEngine(host, { checkpointIntervalMs }),
    two: createEngine(host, { kafkaSourceParallelism: 2, checkpointIntervalMs }),
    reference: windowed(`${prefix}-one`),
    split: windowed(`${prefix}-split`),
    fromOne: await readWindows(`${prefix}-one`),
    fromSplit: await readWindows(`${prefix}-split`),
  });
  /** Every document that reaches `topic`, as it arrives. */
  const readWindows = async (topic: string) => {
    const docs: Document[] = [];
    const reader = kafka.consumer({ groupId: `reader-${topic}`, maxWaitTimeInMs: 200 });
    await reader.connect();
    await reader.subscribe({ topic, fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => { docs.push(JSON.parse(message.value!.toString()) as Document); } });
    readers.push(reader);
    return docs;
  };

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
              // A date, and a BSON type a structured clone would not keep (the shares holding it go as Extended JSON).
              earliest: { $min: { $dateFromString: { dateString: '$at' } } },
              topId: { $max: { $toObjectId: { $concat: ['00000000000000000000000', { $toString: { $mod: ['$watts', 10] } }] } } },
              // The same in every partition: whichever worker's comes first or last.
              firstDevice: { $first: '$device' }, lastDevice: { $last: '$device' }, merged: { $mergeObjects: { device: '$device' } },
            },
          }],
        },
      },
      {
        $project: {
          _id: 0, device: '$_id', total: 1, count: 1, low: 1, high: 1, mean: 1, all: 1, distinct: 1, earliest: 1, topId: 1, firstDevice: 1, lastDevice: 1, merged: 1,
          start: { $meta: 'stream.window.start' },
        },
      },
      { $emit: { connectionName: 'kafka1', topic: outTopic } },
    ], { connections: connections() });
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
    const { one, two, reference, split, fromOne, fromSplit } = await oneAndTwo(host, windowed, 'windows', 300);
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
    expect(first).toMatchObject({
      count: 12, total: watts.reduce((a, b) => a + b, 0), low: 0, high: 9, mean: watts.reduce((a, b) => a + b, 0) / 12,
      earliest: { $date: '2024-01-01T00:00:00Z' }, topId: { $oid: '000000000000000000000009' }, firstDevice: 'd0', lastDevice: 'd0', merged: { device: 'd0' },
    });
    expect(host.failures.size).toBe(0);
    await one.close();
    await two.close();
  }, 400_000);

  it('a split tumbling window stopped and resumed twice while windows close and checkpoint rounds run emits every window once, with the counts of one worker', async () => {
    // Event seq is at base + seq/4 s in partition seq mod 4: each one-second window holds
    // seq 4k..4k+3, one from every partition, so every window is merged from both workers.
    const base = Date.UTC(2024, 0, 1);
    const event = (seq: number) => ({ partition: seq % 4, value: JSON.stringify({ at: new Date(base + seq * 250).toISOString(), device: `d${seq % 3}`, seq }) });
    const windowed = (outTopic: string) => definition([
      { $source: { connectionName: 'kafka1', topic: 'closing-in', timeField: { $dateFromString: { dateString: '$at' } }, config: { auto_offset_reset: 'earliest' } } },
      {
        // The lateness covers how far one worker's partitions may run ahead of the other's
        // while it joins the group after a start (the watermark ignores partitions not read
        // yet); well past it, windows close while events arrive.
        $tumblingWindow: {
          interval: { size: 1, unit: 'second' }, allowedLateness: { size: 1, unit: 'minute' },
          pipeline: [{ $group: { _id: '$device', count: { $count: {} }, total: { $sum: '$seq' }, seqs: { $push: '$seq' } } }],
        },
      },
      { $project: { _id: 0, device: '$_id', count: 1, total: 1, seqs: 1 } },
      { $emit: { connectionName: 'kafka1', topic: outTopic } },
    ], { connections: connections() });
    const canonical = (docs: Document[]) => docs.map((d) => `${d['device']} count ${d['count']} total ${d['total']} seqs ${[...(d['seqs'] as number[])].sort((a, b) => a - b).join(',')}`).sort();
    /** How `docs` differ from `reference` (canonical, each once). */
    const differences = (docs: Document[], reference: string[]) => {
      const times = new Map<string, number>();
      for (const doc of canonical(docs)) times.set(doc, (times.get(doc) ?? 0) + 1);
      const wanted = new Set(reference);
      return {
        twice: [...times].filter(([, n]) => n > 1).map(([doc]) => doc),
        unexpected: [...times.keys()].filter((doc) => !wanted.has(doc)),
        missing: reference.filter((doc) => !times.has(doc)),
      };
    };
    const none = { twice: [], unexpected: [], missing: [] };
    // What any correct run emits for events 0..produced-1: per window and device, its events.
    const expected = (produced: number) => {
      const docs: Document[] = [];
      for (let start = 0; start < produced; start += 4) {
        for (let device = 0; device < 3; device++) {
          const seqs = [start, start + 1, start + 2, start + 3].filter((seq) => seq % 3 === device);
          docs.push({ device: `d${device}`, count: seqs.length, total: seqs.reduce((a, b) => a + b, 0), seqs });
        }
      }
      return canonical(docs);
    };

    // Events keep arriving, four at a time, while `producing`.
    const producer = kafka.producer();
    await producer.connect();
    let produced = 0;
    let producing = false;
    let finished = false;
    const send = async (count: number) => {
      const messages = Array.from({ length: count }, (_, i) => event(produced + i));
      produced += count;
      await producer.send({ topic: 'closing-in', messages });
    };
    const traffic = (async () => {
      while (!finished) {
        if (producing) await send(4);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const host = new MemoryHost();
    const noFailure = () => expect(host.failures).toEqual(new Map());
    // Short checkpoint interval: a round is under way at most moments, also when stop comes.
    const { one, two, reference, split, fromOne, fromSplit } = await oneAndTwo(host, windowed, 'closing', 50);
    // Both workers have read every event so far: each has joined the group and reports its
    // partitions' event time, so neither runs ahead of the other past the lateness.
    const caughtUp = () => eventually(() => {
      noFailure();
      const partitions = two.stats(split.id)?.kafkaPartitions ?? [];
      return partitions.length === 4 && partitions.every((p) => p.currentOffset === produced / 4);
    }, 120_000);
    const windowsClosed = (count: number) => eventually(() => { noFailure(); return fromSplit.length >= count; }, 120_000);

    await send(40);
    await one.start(reference, { resumeFromCheckpoint: false });
    await two.start(split, { resumeFromCheckpoint: true });
    await caughtUp();
    producing = true;
    await windowsClosed(30);
    for (let stop = 0; stop < 2; stop++) {
      // Stopped while windows close (about ten a second) and events arrive, also during the stop's first second.
      await windowsClosed(fromSplit.length + 30);
      const stopped = two.stop(split.id);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      producing = false;
      await stopped;
      await two.start(split, { resumeFromCheckpoint: true });
      await caughtUp();
      producing = true;
    }
    await windowsClosed(fromSplit.length + 30);
    producing = false;
    finished = true;
    await traffic;
    // Far-off events in every partition close all the windows.
    await producer.send({ topic: 'closing-in', messages: [0, 1, 2, 3].map((partition) => ({ partition, value: JSON.stringify({ at: new Date(base + 86_400_000).toISOString(), device: 'flush', seq: -1 }) })) });
    await producer.disconnect();
    const all = expected(produced);
    await eventually(() => { noFailure(); return fromOne.length >= all.length && fromSplit.length >= all.length; }, 120_000);
    // Anything emitted twice would have come before the last windows.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(differences(fromOne, all)).toEqual(none);
    // Nothing emitted twice, nothing missing, every count right across the stops.
    expect(differences(fromSplit, canonical(fromOne))).toEqual(none);
    expect(host.failures.size).toBe(0);
    await one.close();
    // Stopping again would only wait for the group once more: the workers are ended.
    await two.drop(split.id);
  }, 240_000);
});
