// Runs kafka.mjs and kafka-parallel.mjs, each in its own process (under tsx), and turns their
// rounds into figures.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root } from './lib/processes.mjs';
import { figure, fmt } from './lib/stats.mjs';
import { findOrInstall } from './lib/wrk.mjs';

/** The rounds a measuring script prints as its last line. */
function runUnderTsx(script, job) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), JSON.stringify(job)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.once('exit', (code) => (code === 0 ? resolveRun(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`${script} failed: ${err}`))));
  });
}

export async function runKafkaBench({ quick }) {
  if (!findOrInstall('kcat')) {
    return [{ id: 'engine.kafka', label: 'Kafka → Kafka, per raw kafkajs loop', detail: 'skipped: kcat (its mock cluster) is not installed and could not be (apt-get install -y kcat)' }];
  }
  const rounds = await runUnderTsx('./kafka.mjs', { messages: quick ? 2000 : 30_000, rounds: quick ? 1 : 3 });
  const mid = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  // A split run the mock broker brings down (a processor FAILED, its reason given) is a figure
  // missing, reported as such, not the end of the whole bench.
  const parallel = await runUnderTsx('./kafka-parallel.mjs', { messages: quick ? 4000 : 30_000, windowMessages: quick ? 4000 : 120_000, rounds: quick ? 1 : 3 }).catch((error) => error);
  const split = (pipeline, label) => {
    const id = `engine.kafka.parallel.${pipeline}`;
    const title = `one hot Kafka processor (${label}), 2 workers per 1 (kafkaSourceParallelism, 4 partitions)`;
    if (parallel instanceof Error) return { id, label: title, met: false, detail: `NO FIGURE: ${/Error: (.*)/.exec(parallel.message)?.[1]?.slice(0, 600) ?? parallel.message.slice(0, 600)}` };
    const runs = parallel.map((round) => round[pipeline]);
    return figure(id, title, runs.map((r) => r.two.perSecond / r.one.perSecond), {
      baseline: `1 worker ${fmt(mid(runs.map((r) => r.one.perSecond)))} events/s`,
      detail: `2 workers ${fmt(mid(runs.map((r) => r.two.perSecond)))} events/s; events per CPU-second ${fmt(mid(runs.map((r) => r.one.perCpuSecond)))} with 1, ${fmt(mid(runs.map((r) => r.two.perCpuSecond)))} with 2`
        // The longest path (Linux only): what 2 workers give where each has a core of its own.
        + (runs.every((r) => r.one.perBusiestWorkerCpuSecond && r.two.perBusiestWorkerCpuSecond)
          ? `; per CPU-second of the busiest worker, 2 per 1: ${mid(runs.map((r) => r.two.perBusiestWorkerCpuSecond / r.one.perBusiestWorkerCpuSecond)).toFixed(2)}` : ''),
    });
  };
  return [
    figure('engine.kafka', 'Kafka → Kafka (kcat mock), per raw kafkajs consume-and-produce loop', rounds.map((r) => r.engine / r.raw), {
      target: 0.5, baseline: `raw kafkajs ${fmt(mid(rounds.map((r) => r.raw)))} msg/s`, detail: `engine ${fmt(mid(rounds.map((r) => r.engine)))} msg/s`,
    }),
    split('stateless', 'stateless'),
    split('window', 'tumbling $group'),
  ];
}
