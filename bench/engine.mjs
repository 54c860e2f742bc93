// Engine benchmark (reads the compiled engine in dist/; `npm run bench` builds first).
// In one run: events/s of sample → $match → $project → sink against the same logic written
// by hand; a tumbling window with $group against hand-written incremental accumulators, at
// 1x, 10x and 100x documents per window; source-to-sink latency at a steady rate; and N
// independent processors (each in its own worker thread) against N times one, for N = 1, 2,
// all cores, 10 and 100.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createEngine } from '../dist/engine/index.js';
import { Processor } from '../dist/engine/runtime/processor.js';
import { generateSolarReading } from '../dist/engine/sources/sample-solar.js';
import { garbageCollector } from '../dist/observability/idle-memory.js';
import { figure, fmt, median } from './lib/stats.mjs';

let MEASURE_MS = 1500;
let WARMUP_MS = 500;
/** Events each of N processors has taken before they are measured (see runProcessors). */
let WARM_EVENTS = 1_000_000;
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
  return { ratios, engine: median(engine), hand: median(hand) };
}

/**
 * n processors of `pipeline` running at once, each in its own worker thread, measured over
 * `windows` consecutive windows: per window events/s summed, events per second of this
 * process's CPU time (all threads), the cores it got and the main thread's CPU time per
 * million events; and the memory each processor added.
 */
async function runProcessors(n, pipeline, windows = 1) {
  const failures = [];
  const host = { loadCheckpoint: async () => undefined, saveCheckpoint: async () => {}, deleteCheckpoint: async () => {}, markFailed: async (id, message) => { failures.push(message); } };
  // The watchdog's 30 s is lifted: at 100 processors on a loaded 2-core machine it has
  // terminated workers that were only waiting for a core (see src/engine/README.md).
  const engine = createEngine(host, { sampleRatePerSecond: 0, checkpointIntervalMs: 3_600_000, documentTimeoutMs: 600_000 });
  const ids = Array.from({ length: n }, (_, i) => `${i.toString(16).padStart(24, '0')}`);
  // What each processor adds is RSS after minus before: garbage earlier runs left, collected in
  // between, would make it negative (it once read -172 MB), so a full collection comes first.
  garbageCollector()();
  const rssBefore = process.memoryUsage().rss;
  try {
    // Started together: one after the other, each start would compete with the ones already running.
    const starting = performance.now();
    await Promise.all(ids.map((id) => engine.start({ ...definition(pipeline), id, name: `bench${id}` }, { resumeFromCheckpoint: false })));
    const booted = performance.now() + 600_000;
    while (ids.some((id) => !(engine.stats(id)?.inputMessageCount > 0)) && performance.now() < booted) await sleep(50);
    const startSeconds = (performance.now() - starting) / 1000;
    // Each worker warms up its own copy of the engine's code (V8 optimizes per isolate): with
    // N processors sharing the cores that takes N times longer than for one, and measuring
    // before it ends would count the warm-up, not the processors. Measure once every one has
    // done as much work as one processor does in its first seconds.
    while (ids.some((id) => !(engine.stats(id)?.inputMessageCount >= WARM_EVENTS)) && performance.now() < booted) await sleep(50);
    await sleep(WARMUP_MS);
    const measured = [];
    try {
      for (let w = 0; w < windows; w++) measured.push(await measureWindow(engine, ids));
    } finally {
      if (failures.length > 0) throw new Error(`${failures.length} of ${n} processors failed, the first: ${failures[0]}`);
    }
    return { windows: measured, startSeconds, mbPerProcessor: (process.memoryUsage().rss - rssBefore) / 1e6 / n };
  } finally {
    await engine.close();
  }
}

async function measureWindow(engine, ids) {
  const first = await freshCounts(engine, ids);
  const cpuBefore = process.cpuUsage();
  const mainBefore = mainThreadCpuNs();
  const started = performance.now();
  await sleep(MEASURE_MS);
  // CPU over the sleep only: polling for fresh counts is the bench's work, not the engine's.
  const cpu = process.cpuUsage(cpuBefore);
  const mainNs = mainThreadCpuNs() - mainBefore;
  const seconds = (performance.now() - started) / 1000;
  const last = await freshCounts(engine, ids);
  const rate = ids.reduce((sum, id) => sum + (last.get(id).count - first.get(id).count) / ((last.get(id).at - first.get(id).at) / 1000), 0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const events = rate * seconds;
  return { rate, perCpuSecond: events / cpuSeconds, cores: cpuSeconds / seconds, mainMsPerMillion: Number.isFinite(mainNs) ? mainNs / 1e6 / (events / 1e6) : NaN };
}

/**
 * Each processor's input count just as its worker posts it, and when: workers post their
 * stats every 250 ms, so a count read at any other moment is up to 250 ms old, a sixth of a
 * 1.5 s window. Polls until every processor's count has moved.
 */
async function freshCounts(engine, ids) {
  const seen = new Map(ids.map((id) => [id, engine.stats(id)?.inputMessageCount ?? 0]));
  const fresh = new Map();
  const deadline = performance.now() + 30_000;
  while (fresh.size < ids.length && performance.now() < deadline) {
    await sleep(2);
    const at = performance.now();
    for (const id of ids) {
      const count = engine.stats(id)?.inputMessageCount ?? 0;
      if (!fresh.has(id) && count !== seen.get(id)) fresh.set(id, { count, at });
    }
  }
  if (fresh.size < ids.length) throw new Error(`${ids.length - fresh.size} of ${ids.length} processors stopped counting (failed: ${ids.filter((id) => !engine.isRunning(id)).length})`);
  return fresh;
}

/** CPU time of this process's main thread in ns (Linux's schedstat; NaN elsewhere). */
function mainThreadCpuNs() {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

export async function runEngineBench({ quick = false } = {}) {
  if (quick) [MEASURE_MS, WARMUP_MS, ROUNDS, WARM_EVENTS] = [300, 100, 1, 1];
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
    detail: `engine ${fmt(at100.engine)} ev/s; by window size (docs per window 1x/10x/100x): ${sizes.map((size, i) => `${size} ms ${median(windows[i].ratios).toFixed(2)}`).join(', ')}`,
  }));
  const latencyRate = 5000;
  const latencies = (await measureLatencyKeepingTs(latencyRate)).sort((a, b) => a - b);
  figures.push({ id: 'engine.latency', label: `source → sink latency at ${fmt(latencyRate)} ev/s (not a ratio)`, detail: `p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms (${latencies.length} samples)` });

  figures.push(...await processorsRunning(quick));
  return figures;
}

/**
 * N independent processors against one, in the same run: 1, 2 and all cores interleaved
 * round by round (wall clock and events per CPU-second), then 10 and 100 processors running
 * (what each event costs as they multiply: threads to schedule, stats crossing to the main
 * thread, memory), whatever the cores other processes leave.
 */
async function processorsRunning(quick) {
  const figures = [];
  const cores = availableParallelism();
  const loads = [...new Set([1, 2, cores])];
  // Many more processors than cores: 10 interleaved with the others, 100 once (starting 100
  // workers takes a minute of CPU) over ROUNDS consecutive windows. Not in quick mode.
  const many = quick ? [] : [10];
  const most = quick ? [] : [100];
  const runs = new Map([...loads, ...many, ...most].map((n) => [n, []]));
  const probes = new Map(loads.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of loads) {
      runs.get(n).push(await runProcessors(n, STATELESS));
      probes.get(n).push(await coresObtained(n));
    }
    for (const n of many) runs.get(n).push(await runProcessors(n, STATELESS));
  }
  // A run at 100 that cannot finish (workers starved of a core past freshCounts' wait) is a
  // figure missing, reported as such, not the end of the whole bench.
  const missing = new Map();
  for (const n of most) {
    try {
      runs.get(n).push(await runProcessors(n, STATELESS, ROUNDS));
    } catch (error) {
      runs.delete(n);
      missing.set(n, error.message);
    }
  }
  const windows = (n) => runs.get(n).flatMap((run) => run.windows);
  const one = windows(1);
  const oneRate = median(one.map((w) => w.rate));
  const onePerCpu = median(one.map((w) => w.perCpuSecond));
  // Interleaved loads compare with the same round's one; 100 (a single run) with one's median.
  const interleavedWithOne = new Set([...loads, ...many]);
  const against = (n, pick) => windows(n).map((w, r) => pick(w) / (interleavedWithOne.has(n) ? pick(one[r]) : median(one.map(pick))));
  const scaling = (n) => against(n, (w) => w.rate).map((ratio) => ratio / n);
  const cpuScaling = (n) => against(n, (w) => w.perCpuSecond);
  const coresNote = loads.map((n) => `${n} busy threads got ${median(probes.get(n)).toFixed(2)} cores, ${n} processors ${median(windows(n).map((w) => w.cores)).toFixed(2)}`).join('; ');
  figures.push(figure('engine.cores', `${cores} processors on ${cores} cores, per ${cores} x one (wall clock)`, scaling(cores), {
    target: 0.8, baseline: `one processor ${fmt(oneRate)} ev/s`,
    detail: `${loads.map((n) => `${n}: ${fmt(median(windows(n).map((w) => w.rate)))} ev/s (${median(scaling(n)).toFixed(2)} of ${n} x one)`).join(', ')}; `
      + `cores the machine gave (a plain busy loop per thread, same moment): ${coresNote}`,
  }));
  figures.push(figure('engine.coresCpu', `${cores} processors: events per CPU-second, per one processor's`, cpuScaling(cores), {
    target: 0.8, baseline: `one processor ${fmt(onePerCpu)} events per CPU-second`,
    detail: `what N processors pay per event beyond one (shared work, message passing), whatever cores other processes leave: ${loads.map((n) => `${n}: ${median(cpuScaling(n)).toFixed(2)}`).join(', ')}`,
  }));
  for (const [n, reason] of missing) {
    figures.push({ id: `engine.processors${n}`, label: `${n} processors running: events per CPU-second, per one processor's`, met: false, detail: `NO FIGURE: ${reason}` });
  }
  for (const n of [...many, ...most].filter((n) => runs.has(n))) {
    figures.push(figure(`engine.processors${n}`, `${n} processors running: events per CPU-second, per one processor's`, cpuScaling(n), {
      baseline: `one processor ${fmt(onePerCpu)} events per CPU-second`,
      detail: `${fmt(median(windows(n).map((w) => w.perCpuSecond)))} events per CPU-second; ${describeLoad(n, runs.get(n), windows(n))}`,
    }));
  }
  figures.push({
    id: 'engine.processorsCurve', label: 'processors running (not a ratio): events/s in all (per one), per processor, memory per processor, main thread CPU',
    detail: [...runs.keys()].map((n) => `${n}: ${fmt(median(windows(n).map((w) => w.rate)))} ev/s (${median(windows(n).map((w) => w.rate / oneRate)).toFixed(2)} of one), ${describeLoad(n, runs.get(n), windows(n))}`).join('; '),
  });
  return figures;
}

function describeLoad(n, runs, windows) {
  return `${fmt(median(windows.map((w) => w.rate / n)))} ev/s each, ${median(runs.map((run) => run.mbPerProcessor)).toFixed(0)} MB each, `
    + `main thread ${median(windows.map((w) => w.mainMsPerMillion)).toFixed(1)} ms per million events, started in ${median(runs.map((run) => run.startSeconds)).toFixed(1)} s`;
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
