import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { createEngine } from './index.js';
import type { ConnectionDefinition } from './contract.js';
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
      { $addFields: { doubled: { $multiply: ['$seq', 2] } } },
      { $emit: { connectionName: 'kafka1', topic: 'split-out' } },
    ], { connections: connections() });
    const everyEventArrived = (to: number) => () => Array.from({ length: to }, (_, seq) => seen.has(seq)).every(Boolean);

    await produceSequence(kafka, 'split-in', 0, 2000);
    const two = createEngine(host, { kafkaSourceParallelism: 2, checkpointIntervalMs: 300 });
    await two.start(def, { resumeFromCheckpoint: true });
    await eventually(everyEventArrived(2000), 60_000);
    const stats = await eventually(() => {
      const s = two.stats(def.id);
      return s && s.inputMessageCount === 2000 && s.kafkaPartitions?.length === 4 ? s : undefined;
    }, 30_000);
    // Partition p is read by worker p mod 2, and both workers read.
    expect(stats.kafkaPartitions!.map((p) => [p.partition, p.worker]).sort()).toEqual([[0, 0], [1, 1], [2, 0], [3, 1]]);
    expect(stats).toMatchObject({ status: 'running', outputMessageCount: 2000 });
    expect(stats.operatorStats.map((o) => o.inputMessageCount)).toEqual([2000, 2000, 2000]);

    // Stopped mid-stream: events keep arriving while it is down and while it restarts.
    await produceSequence(kafka, 'split-in', 2000, 3000);
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
});
