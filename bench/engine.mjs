// Engine benchmark: run `npm run build` first (it reads the compiled engine in dist/).
//   node bench/engine.mjs
// Prints, in one run: events/s of sample → $match → $project → sink against the same
// logic written by hand; a tumbling window with $group against hand-written incremental
// accumulators; and source-to-sink latency p50/p99 at a steady sample rate.
import { pathToFileURL } from 'node:url';
import { Processor } from '../dist/engine/runtime/processor.js';
import { generateSolarReading } from '../dist/engine/sources/sample-solar.js';

const MEASURE_MS = Number(process.env.ENGINE_BENCH_MS ?? 1500);
const WARMUP_MS = 500;
// Engine and hand-written runs alternate and each keeps its best round, so load from
// other processes on the machine skews the ratio less.
const ROUNDS = Number(process.env.ENGINE_BENCH_ROUNDS ?? 3);

const STATELESS = [
  { $source: { connectionName: 'sample_stream_solar', config: { seed: 1 } } },
  { $match: { 'obs.watts': { $gt: 100 }, event_type: 0 } },
  { $project: { _id: 0, device_id: 1, watts: '$obs.watts', ratio: { $divide: ['$obs.watts', '$max_watts'] } } },
  { $emit: { connectionName: '__testLog' } },
];

const WINDOWED = [
  { $source: { connectionName: 'sample_stream_solar', config: { seed: 1 } } },
  {
    $tumblingWindow: {
      interval: { size: 100, unit: 'ms' }, allowedLateness: { size: 0, unit: 'ms' },
      pipeline: [{ $group: { _id: '$device_id', n: { $count: {} }, avg: { $avg: '$obs.watts' }, max: { $max: '$obs.temp' } } }],
    },
  },
  { $emit: { connectionName: '__testLog' } },
];

function definition(pipeline) {
  return {
    id: '0123456789abcdef01234567', name: 'bench', groupId: '0'.repeat(24), instanceName: 'bench', tier: 'SP10',
    pipeline, connections: { sample_stream_solar: { name: 'sample_stream_solar', type: 'Sample' } },
  };
}

/** Runs a pipeline in this thread (no worker hop) and returns input events per second. */
async function runEngine(pipeline, { ratePerSecond = 0, onOutput = () => {} } = {}) {
  let failure;
  const processor = new Processor(definition(pipeline), {
    settings: { sampleRatePerSecond: ratePerSecond, checkpointIntervalMs: 3_600_000 },
    log: { info() {}, warn() {}, error() {} },
    saveCheckpoint: async () => {},
    publishOutput: onOutput,
    wantsOutput: () => false,
    failed: (message) => { failure = message; },
  }, undefined);
  processor.compile();
  await processor.start();
  await sleep(WARMUP_MS);
  const before = processor.stats().inputMessageCount;
  const started = performance.now();
  await sleep(MEASURE_MS);
  const count = processor.stats().inputMessageCount - before;
  const seconds = (performance.now() - started) / 1000;
  await processor.stop();
  if (failure) throw new Error(failure);
  return count / seconds;
}

/** The stateless pipeline by hand: same generator, same stamping, same filter and projection. */
async function runHandwrittenStateless() {
  let out = 0;
  return measureLoop((seed, index, now) => {
    const doc = generateSolarReading(seed, index, now);
    doc._ts = now;
    doc._stream_meta = { source: { type: 'generated' } };
    if (doc.obs.watts > 100 && doc.event_type === 0) {
      const projected = { device_id: doc.device_id, watts: doc.obs.watts, ratio: doc.obs.watts / doc.max_watts };
      if (projected.watts >= 0) out += 1;
    }
  });
}

/** Tumbling 100 ms windows, per-device count/avg/max kept incrementally, closed as time passes. */
async function runHandwrittenWindow() {
  const windows = new Map();
  let emitted = 0;
  return measureLoop((seed, index, now) => {
    const doc = generateSolarReading(seed, index, now);
    const time = now.getTime();
    const start = time - (time % 100);
    let groups = windows.get(start);
    if (!groups) windows.set(start, (groups = new Map()));
    let g = groups.get(doc.device_id);
    if (!g) groups.set(doc.device_id, (g = { n: 0, sum: 0, count: 0, max: null }));
    g.n += 1;
    g.sum += doc.obs.watts;
    g.count += 1;
    if (g.max === null || doc.obs.temp > g.max) g.max = doc.obs.temp;
    for (const [s, closing] of windows) {
      if (s + 100 > time) break;
      for (const [id, a] of closing) emitted += id && a.count ? 1 : 0;
      windows.delete(s);
    }
  });
}

/** Generates in batches of 1000 like the sample source, yielding to the event loop between batches. */
async function measureLoop(handle) {
  let index = 0;
  const runFor = async (ms) => {
    const deadline = performance.now() + ms;
    let count = 0;
    while (performance.now() < deadline) {
      const now = new Date();
      for (let i = 0; i < 1000; i++) handle(1, index++, now);
      count += 1000;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return count;
  };
  await runFor(WARMUP_MS);
  const started = performance.now();
  const count = await runFor(MEASURE_MS);
  return count / ((performance.now() - started) / 1000);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function bestOfRounds(engineRun, handRun) {
  let engine = 0;
  let hand = 0;
  for (let i = 0; i < ROUNDS; i++) {
    engine = Math.max(engine, await engineRun());
    hand = Math.max(hand, await handRun());
  }
  return [engine, hand];
}

export async function runEngineBench() {
  const [engineStateless, handStateless] = await bestOfRounds(() => runEngine(STATELESS), runHandwrittenStateless);
  const [engineWindow, handWindow] = await bestOfRounds(() => runEngine(WINDOWED), runHandwrittenWindow);
  const latencyRate = 5000;
  const latencies = (await measureLatencyKeepingTs(latencyRate)).sort((a, b) => a - b);
  const figures = {
    stateless: { engineEventsPerSec: Math.round(engineStateless), handwrittenEventsPerSec: Math.round(handStateless), ratio: round(engineStateless / handStateless), target: 0.5 },
    tumblingGroup: { engineEventsPerSec: Math.round(engineWindow), handwrittenEventsPerSec: Math.round(handWindow), ratio: round(engineWindow / handWindow), target: 0.3 },
    latency: { ratePerSecond: latencyRate, samples: latencies.length, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) },
  };
  console.log(`engine bench (single thread, in-process processor, best of ${ROUNDS} rounds of ${MEASURE_MS} ms)`);
  console.log(`  sample → $match → $project → sink: engine ${fmt(figures.stateless.engineEventsPerSec)} ev/s, hand-written ${fmt(figures.stateless.handwrittenEventsPerSec)} ev/s, ratio ${figures.stateless.ratio} (target ≥ 0.5)`);
  console.log(`  tumbling window + $group:          engine ${fmt(figures.tumblingGroup.engineEventsPerSec)} ev/s, hand-written ${fmt(figures.tumblingGroup.handwrittenEventsPerSec)} ev/s, ratio ${figures.tumblingGroup.ratio} (target ≥ 0.3)`);
  console.log(`  source → sink latency at ${latencyRate} ev/s: p50 ${figures.latency.p50Ms} ms, p99 ${figures.latency.p99Ms} ms (${figures.latency.samples} samples)`);
  return figures;
}

async function measureLatencyKeepingTs(ratePerSecond) {
  const pipeline = [STATELESS[0], STATELESS[1], { $project: { _id: 0, device_id: 1, watts: '$obs.watts', _ts: 1 } }, STATELESS[3]];
  const latencies = [];
  await runEngine(pipeline, {
    ratePerSecond,
    onOutput: (docs) => {
      const now = Date.now();
      for (const doc of docs) latencies.push(now - doc._ts.getTime());
    },
  });
  return latencies;
}

const round = (x) => Math.round(x * 100) / 100;
const fmt = (n) => n.toLocaleString('en-US');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runEngineBench();
}
