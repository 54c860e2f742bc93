// Kafka to Kafka through the kcat mock cluster: a processor ($source topic → $emit topic)
// against a raw kafkajs consume-and-produce loop doing the same (parse JSON, produce it
// again), both over the same messages. Runs as its own process under tsx, since the mock
// cluster's starter is TypeScript test support (not built into dist):
//   node --import tsx bench/kafka.mjs '{"messages":2000,"rounds":1}'
// Prints one JSON line: each round's raw and engine messages/s.
import { Kafka, logLevel } from 'kafkajs';
import { createEngine } from '../dist/engine/index.js';
import { startMockKafka } from '../src/engine/testing/kcat-mock.ts';

const { messages, rounds } = JSON.parse(process.argv[2] ?? '{}');
const mock = await startMockKafka();
const kafka = new Kafka({ brokers: [mock.bootstrapServers], logLevel: logLevel.NOTHING });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function fill(topic) {
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < messages; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, messages - i) }, (_, j) => ({ key: `k${i + j}`, value: JSON.stringify({ id: i + j, device: `d${(i + j) % 20}`, watts: (i + j) % 400, at: '2026-01-01T00:00:00Z' }) }));
    await producer.send({ topic, messages: batch });
  }
  await producer.disconnect();
}

/** Messages/s from the first message consumed to the last one produced. */
async function raw(input, output) {
  const consumer = kafka.consumer({ groupId: `raw-${input}`, maxWaitTimeInMs: 100 });
  const producer = kafka.producer();
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: input, fromBeginning: true });
  let first;
  let done = 0;
  let finished;
  const allDone = new Promise((r) => { finished = r; });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      first ??= performance.now();
      const out = batch.messages.map((m) => ({ key: m.key, value: JSON.stringify(JSON.parse(m.value.toString())) }));
      await producer.send({ topic: output, messages: out });
      done += out.length;
      if (done >= messages) finished(performance.now());
    },
  });
  const last = await Promise.race([allDone, sleep(120_000).then(() => undefined)]);
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  if (!last) throw new Error(`raw loop moved ${done} of ${messages} messages in 120 s`);
  return messages / ((last - first) / 1000);
}

async function engineRun(input, output, round) {
  const host = { loadCheckpoint: async () => undefined, saveCheckpoint: async () => {}, deleteCheckpoint: async () => {}, markFailed: async () => {} };
  const engine = createEngine(host, { checkpointIntervalMs: 3_600_000 });
  const id = `${round.toString(16).padStart(24, 'a')}`;
  const connection = { name: 'k', type: 'Kafka', bootstrapServers: mock.bootstrapServers, security: { protocol: 'PLAINTEXT' } };
  await engine.start({
    id, name: `kafka${round}`, groupId: '0'.repeat(24), instanceName: 'bench', tier: 'SP10',
    pipeline: [{ $source: { connectionName: 'k', topic: input, config: { auto_offset_reset: 'earliest' } } }, { $emit: { connectionName: 'k', topic: output } }],
    connections: { k: connection },
  }, { resumeFromCheckpoint: false });
  // Stats arrive from the worker every 250 ms: poll them, and time from the first output seen.
  let first;
  let last;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const out = engine.stats(id)?.outputMessageCount ?? 0;
    if (out > 0) first ??= { at: performance.now(), out };
    if (out >= messages) {
      last = performance.now();
      break;
    }
    await sleep(20);
  }
  await engine.close();
  if (!last) throw new Error(`the processor moved fewer than ${messages} messages in 120 s`);
  return (messages - first.out) / ((last - first.at) / 1000);
}

const results = [];
try {
  for (let round = 0; round < rounds; round++) {
    await fill(`raw-in-${round}`);
    await fill(`engine-in-${round}`);
    results.push({ raw: await raw(`raw-in-${round}`, `raw-out-${round}`), engine: await engineRun(`engine-in-${round}`, `engine-out-${round}`, round) });
  }
} finally {
  await mock.stop();
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
