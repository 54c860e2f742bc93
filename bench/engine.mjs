// Engine benchmark (reads the compiled engine in dist/; `npm run bench` builds first).
// In one run: events/s of sample → $match → $project → sink against the same logic written
// by hand; a tumbling window with $group against hand-written incremental accumulators, at
// 1x, 10x and 100x documents per window; source-to-sink latency at a steady rate; and N
// independent processors (each in its own worker thread) against N times one.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createEngine } from '../dist/engine/index.js';
import { Processor } from '../dist/engine/runtime/processor.js';
import { generateSolarReading } from '../dist/engine/sources/sample-solar.js';
import { figure, median } from './lib/stats.mjs';

let MEASURE_MS = 1500;
let WARMUP_MS = 500;
// Engine and hand-written runs alternate and the ratio is the median of the rounds' ratios,
// so a burst of load from another process falls on one round, not on the result.
let ROUNDS = 3;

const STATELESS = [
  { $source: { connectionName: 'sample_stream_solar', config: { seed: 1 } } },
  { $match: { 'obs.watts': { $gt: 100 }, event_type: 0 } },
  { $project: { _id: 0, device_id: 1, watts: '$obs.watts', ratio: { $divide: ['$obs.watts', '$max_watts'] } } },
  { $emit: { connectionName: '__testLog' } },
];

const windowed = (sizeMs) => [
  { $source: { connectionName: 'sample_stream_solar', config: { seed: 1 } } },
  {
    $tumblingWindow: {
      interval: { size: sizeMs, unit: 'ms' }, allowedLateness: { size: 0, unit: 'ms' },
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

/** Tumbling windows of sizeMs, per-device count/avg/max kept incrementally, closed as time passes. */
async function runHandwrittenWindow(sizeMs) {
  const windows = new Map();
  let emitted = 0;
  return measureLoop((seed, index, now) => {
    const doc = generateSolarReading(seed, index, now);
    const time = now.getTime();
    const start = time - (time % sizeMs);
    let groups = windows.get(start);
    if (!groups) windows.set(start, (groups = new Map()));
    let g = groups.get(doc.device_id);
    if (!g) groups.set(doc.device_id, (g = { n: 0, sum: 0, count: 0, max: null }));
    g.n += 1;
    g.sum += doc.obs.watts;
    g.count += 1;
    if (g.max === null || doc.obs.temp > g.max) g.max = doc.obs.temp;
    for (const [s, closing] of windows) {
      if (s + sizeMs > time) break;
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

/** Engine and hand-written runs, alternating; returns each round's engine/hand ratio and the medians. */
async function interleaved(engineRun, handRun) {
  const ratios = [];
  const engine = [];
  const hand = [];
  for (let i = 0; i < ROUNDS; i++) {
    engine.push(await engineRun());
    hand.push(await handRun());
    ratios.push(engine[i] / hand[i]);
  }
  return { ratios, engine: middle(engine), hand: middle(hand) };
}

/**
 * n processors of `pipeline` running at once, each in its own worker thread: events/s summed,
 * events per second of this process's CPU time (all threads), and the cores it got.
 */
async function runProcessors(n, pipeline) {
  const host = { loadCheckpoint: async () => undefined, saveCheckpoint: async () => {}, deleteCheckpoint: async () => {}, markFailed: async () => {} };
  const engine = createEngine(host, { sampleRatePerSecond: 0, checkpointIntervalMs: 3_600_000 });
  const ids = Array.from({ length: n }, (_, i) => `${i.toString(16).padStart(24, '0')}`);
  try {
    for (const id of ids) await engine.start({ ...definition(pipeline), id, name: `bench${id}` }, { resumeFromCheckpoint: false });
    // Workers start and compile first: measure once every one has read something.
    const booted = performance.now() + 120_000;
    while (ids.some((id) => !(engine.stats(id)?.inputMessageCount > 0)) && performance.now() < booted) await sleep(100);
    await sleep(WARMUP_MS);
    const count = () => ids.reduce((sum, id) => sum + (engine.stats(id)?.inputMessageCount ?? 0), 0);
    const before = count();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    // Workers post their counts every 250 ms: a shorter window would count them in steps.
    await sleep(Math.max(MEASURE_MS, 1000));
    const events = count() - before;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const seconds = (performance.now() - started) / 1000;
    return { rate: events / seconds, perCpuSecond: events / cpuSeconds, cores: cpuSeconds / seconds };
  } finally {
    await engine.close();
  }
}

export async function runEngineBench({ quick = false } = {}) {
  if (quick) [MEASURE_MS, WARMUP_MS, ROUNDS] = [300, 100, 1];
  const figures = [];
  const stateless = await interleaved(() => runEngine(STATELESS), runHandwrittenStateless);
  figures.push(figure('engine.stateless', 'sample → $match → $project → sink, per hand-written JS', stateless.ratios, {
    target: 0.5, baseline: `hand-written ${fmt(stateless.hand)} ev/s`, detail: `engine ${fmt(stateless.engine)} ev/s`,
  }));
  // 1x, 10x and 100x documents per window: the window grows, the input rate is the same.
  const sizes = quick ? [100] : [10, 100, 1000];
  const windows = [];
  for (const size of sizes) windows.push(await interleaved(() => runEngine(windowed(size)), () => runHandwrittenWindow(size)));
  const at100 = windows[sizes.indexOf(100)];
  figures.push(figure('engine.tumblingGroup', 'tumbling window (100 ms) + $group, per hand-written JS', at100.ratios, {
    target: 0.3, baseline: `hand-written ${fmt(at100.hand)} ev/s`,
    detail: `engine ${fmt(at100.engine)} ev/s; by window size (docs per window 1x/10x/100x): ${sizes.map((size, i) => `${size} ms ${middle(windows[i].ratios).toFixed(2)}`).join(', ')}`,
  }));
  const latencyRate = 5000;
  const latencies = (await measureLatencyKeepingTs(latencyRate)).sort((a, b) => a - b);
  figures.push({ id: 'engine.latency', label: `source → sink latency at ${fmt(latencyRate)} ev/s (not a ratio)`, detail: `p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (${latencies.length} samples)` });

  const cores = availableParallelism();
  // Only as many processors as cores: more would measure the scheduler, not the engine.
  const loads = [...new Set([1, 2, cores])].filter((n) => n <= cores);
  const perCount = new Map(loads.map((n) => [n, []]));
  const probes = new Map(loads.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of loads) {
      perCount.get(n).push(await runProcessors(n, STATELESS));
      probes.get(n).push(await coresObtained(n));
    }
  }
  const one = perCount.get(1);
  const scaling = (n) => perCount.get(n).map((run, r) => run.rate / (n * one[r].rate));
  const cpuScaling = (n) => perCount.get(n).map((run, r) => run.perCpuSecond / one[r].perCpuSecond);
  const coresNote = loads.map((n) => `${n} busy threads got ${middle(probes.get(n)).toFixed(2)} cores, ${n} processors ${middle(perCount.get(n).map((run) => run.cores)).toFixed(2)}`).join('; ');
  figures.push(figure('engine.cores', `${cores} processors on ${cores} cores, per ${cores} x one (wall clock)`, scaling(cores), {
    target: 0.8, baseline: `one processor ${fmt(middle(one.map((run) => run.rate)))} ev/s`,
    detail: `${loads.map((n) => `${n}: ${fmt(middle(perCount.get(n).map((run) => run.rate)))} ev/s (${middle(scaling(n)).toFixed(2)} of ${n} x one)`).join(', ')}; `
      + `cores the machine gave (a plain busy loop per thread, same moment): ${coresNote}`,
  }));
  figures.push(figure('engine.coresCpu', `${cores} processors: events per CPU-second, per one processor's`, cpuScaling(cores), {
    target: 0.8, baseline: `one processor ${fmt(middle(one.map((run) => run.perCpuSecond)))} events per CPU-second`,
    detail: `what N processors pay per event beyond one (shared work, message passing), whatever cores other processes leave: ${loads.map((n) => `${n}: ${middle(cpuScaling(n)).toFixed(2)}`).join(', ')}`,
  }));
  // Processors running at 1x and 10x: what each event costs as they multiply (threads to
  // schedule, stats and output crossing to the main thread), whatever the cores they share.
  // Not 100x: a worker's start alone takes about 1.3 CPU-seconds (loading the engine), so 100
  // of them would measure mostly their start on a small machine. Quick mode reuses 1x and 2x.
  const counts = quick ? [1, 2] : [1, 10];
  const curve = new Map(counts.map((n) => [n, perCount.get(n)?.slice(0, 2) ?? []]));
  for (let round = 0; round < Math.min(ROUNDS, 2); round++) {
    for (const n of counts) if (curve.get(n).length <= round) curve.get(n).push(await runProcessors(n, STATELESS));
  }
  const most = counts[counts.length - 1];
  const perEvent = (n) => curve.get(n).map((run, r) => run.perCpuSecond / curve.get(1)[r].perCpuSecond);
  figures.push(figure('engine.processorsRunning', `${most} processors running: events per CPU-second, per one processor's`, perEvent(most), {
    baseline: `one processor ${fmt(middle(curve.get(1).map((run) => run.perCpuSecond)))} events per CPU-second`,
    detail: `by processors running: ${counts.map((n) => `${n}: ${median(perEvent(n)).toFixed(2)} (${fmt(median(curve.get(n).map((run) => run.rate)))} ev/s in all)`).join(', ')}`,
  }));
  return figures;
}

/** The cores n threads each spinning a plain loop get from the machine right now: the ceiling of any N-thread figure. */
async function coresObtained(n) {
  const spin = `const { parentPort } = require('node:worker_threads'); const end = Date.now() + ${Math.min(MEASURE_MS, 500)}; while (Date.now() < end); parentPort.postMessage(0);`;
  const before = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
    const worker = new Worker(spin, { eval: true });
    worker.once('message', () => worker.terminate().then(resolve));
    worker.once('error', reject);
  })));
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1000 / (performance.now() - started);
}

const middle = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

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

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
