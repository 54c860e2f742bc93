// One hot Kafka processor with kafkaSourceParallelism 1 and then 2, in the same rounds,
// through the kcat mock cluster (topics have 4 partitions): a stateless pipeline that does a
// little arithmetic per event, and a tumbling-window $group. Each figure is events/s from the
// moment every partition has been read from (the consumer group has settled) to the last
// event read, events per CPU-second of this process (all its threads: the machine may be
// shared, so CPU time says more than wall time), and (Linux) events per CPU-second of the
// busiest worker thread: the work on the longest path, which a second core can shorten only
// when the work is split evenly (with a window, worker 0 combines the windows and every worker
// runs the sink for its share of the output). The timed span starts and ends on the workers'
// stats, which they send every 250 ms, so a run must last seconds for that not to matter: the
// window pipeline, some 15 times faster per event, reads windowMessages (default: messages).
// Runs as its own process under tsx:
//   node --import tsx bench/kafka-parallel.mjs '{"messages":30000,"windowMessages":120000,"rounds":3}'
// Prints one JSON line: per round and pipeline, events/s and events per CPU-second for 1 and 2 workers.
// With "engines" (built engine/index.js files, e.g. a base commit's dist), every pipeline runs on
// each build in alternating order within each round, and its figures are given by build;
// "pipelines" (e.g. ["window"]) runs only those.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { startMockKafka } from '../src/engine/testing/kcat-mock.ts';

const { messages, windowMessages = messages, rounds, pipelines, engines = ['../dist/engine/index.js'] } = JSON.parse(process.argv[2] ?? '{}');
const builds = await Promise.all(engines.map(async (path) => ({ path, createEngine: (await import(new URL(path, import.meta.url).href)).createEngine })));
const mock = await startMockKafka();
const kafka = new Kafka({ brokers: [mock.bootstrapServers], logLevel: logLevel.NOTHING });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const base = Date.UTC(2026, 0, 1);
const STALL_MS = 3000;

/** CPU milliseconds of each thread of this process (Linux: /proc), by thread id; empty elsewhere. */
function threadCpuMs() {
  if (!existsSync('/proc/self/task')) return new Map();
  const ticksMs = 10; // USER_HZ is 100 on Linux
  return new Map(readdirSync('/proc/self/task').map((tid) => {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    return [tid, (Number(fields[11]) + Number(fields[12])) * ticksMs];
  }));
}

async function fill(topic, count) {
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < count; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - i) }, (_, j) => {
      const n = i + j;
      return { partition: n % 4, value: JSON.stringify({ id: n, device: `d${n % 50}`, watts: n % 400, at: new Date(base + n * 10).toISOString() }) };
    });
    await producer.send({ topic, messages: batch });
  }
  await producer.disconnect();
}

const PIPELINES = {
  stateless: [
    { $addFields: { load: { $reduce: { input: { $range: [0, 200] }, initialValue: 0, in: { $add: ['$$value', { $multiply: ['$$this', '$watts'] }] } } } } },
    { $match: { load: { $gte: 0 } } },
    { $project: { id: 1, device: 1, load: 1, label: { $concat: ['device-', '$device'] } } },
  ],
  window: [
    {
      $tumblingWindow: {
        interval: { size: 1, unit: 'second' }, allowedLateness: { size: 0, unit: 'second' },
        pipeline: [{ $group: { _id: '$device', total: { $sum: '$watts' }, high: { $max: '$watts' }, mean: { $avg: '$watts' } } }],
      },
    },
  ],
};

/** events/s and events per CPU-second for one processor reading `input`. */
async function engineRun({ createEngine }, build, input, pipeline, parallelism, round, messages) {
  let failure;
  const host = { loadCheckpoint: async () => undefined, saveCheckpoint: async () => {}, deleteCheckpoint: async () => {}, markFailed: async (_id, message) => { failure = message; } };
  const engine = createEngine(host, { checkpointIntervalMs: 3_600_000, kafkaSourceParallelism: parallelism });
  // Threads the engine's workers start are the ones not here yet.
  const before = threadCpuMs();
  const id = `${(round * 100 + build * 10 + parallelism).toString(16).padStart(24, 'b')}`;
  const connection = { name: 'k', type: 'Kafka', bootstrapServers: mock.bootstrapServers, security: { protocol: 'PLAINTEXT' } };
  const timeField = { $dateFromString: { dateString: '$at' } };
  await engine.start({
    id, name: `hot${round}-${build}-${parallelism}`, groupId: '0'.repeat(24), instanceName: 'bench', tier: 'SP10',
    pipeline: [
      { $source: { connectionName: 'k', topic: input, timeField, config: { auto_offset_reset: 'earliest', group_id: `hot-${input}-${build}-${parallelism}` } } },
      ...PIPELINES[pipeline],
      { $emit: { connectionName: 'k', topic: `${input}-out-${build}-${parallelism}` } },
    ],
    connections: { k: connection },
  }, { resumeFromCheckpoint: false });
  let from;
  // The mock broker holds the group 9 s when a member joins it again (a refused SyncGroup, a
  // session it forgot) even mid-run: spans with no event read for STALL_MS are left out of
  // events/s (and given as stalledMs), as the scale-out bench does.
  let progress = { at: 0, seen: -1 };
  let stalledMs = 0;
  let last;
  let stats;
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline && failure === undefined) {
    stats = engine.stats(id);
    const seen = stats?.inputMessageCount ?? 0;
    // Timed once every partition has been read from: the group has settled.
    if ((stats?.kafkaPartitions?.length ?? 0) === 4) from ??= { at: performance.now(), cpu: process.cpuUsage(), seen, threads: threadCpuMs() };
    if (from && seen > progress.seen) {
      const now = performance.now();
      if (progress.seen >= 0 && now - progress.at > STALL_MS) stalledMs += now - progress.at;
      progress = { at: now, seen };
    }
    if (seen >= messages) {
      last = { at: performance.now(), cpu: process.cpuUsage(from?.cpu), threads: threadCpuMs() };
      break;
    }
    await sleep(20);
  }
  await engine.close();
  if (!last || !from) throw new Error(`${pipeline} with ${parallelism} workers read ${stats?.inputMessageCount} of ${messages} messages${failure ? "" : " in 300 s"} (partitions: ${JSON.stringify(stats?.kafkaPartitions)}, status ${stats?.status}${failure ? `, failed: ${failure}` : ''})`);
  const events = messages - from.seen;
  const workerMs = [...last.threads].filter(([tid]) => !before.has(tid)).map(([tid, ms]) => ms - (from.threads.get(tid) ?? 0));
  return {
    perSecond: events / ((last.at - from.at - stalledMs) / 1000), ...(stalledMs > 0 ? { stalledMs } : {}), perCpuSecond: events / ((last.cpu.user + last.cpu.system) / 1e6),
    ...(workerMs.length > 0 ? { perBusiestWorkerCpuSecond: events / (Math.max(...workerMs) / 1000) } : {}),
  };
}

const results = [];
try {
  for (let round = 0; round < rounds; round++) {
    const row = {};
    for (const pipeline of pipelines ?? Object.keys(PIPELINES)) {
      const input = `hot-${pipeline}-${round}`;
      const count = pipeline === 'window' ? windowMessages : messages;
      await fill(input, count);
      // Alternating which goes first, so neither always meets a warmer broker.
      const order = round % 2 === 0 ? [1, 2] : [2, 1];
      const runs = builds.map(() => ({}));
      for (const parallelism of order) {
        for (const b of round % 2 === 0 ? builds.keys() : [...builds.keys()].reverse()) runs[b][parallelism] = await engineRun(builds[b], b, input, pipeline, parallelism, round, count);
      }
      const pair = (r) => ({ one: r[1], two: r[2] });
      row[pipeline] = builds.length === 1 ? pair(runs[0]) : Object.fromEntries(builds.map(({ path }, b) => [path, pair(runs[b])]));
    }
    results.push(row);
  }
} finally {
  await mock.stop();
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
