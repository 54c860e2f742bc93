// Runs kafka.mjs in its own process (under tsx) and turns its rounds into a figure.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root } from './lib/processes.mjs';
import { figure } from './lib/stats.mjs';
import { findOrInstall } from './lib/wrk.mjs';

export async function runKafkaBench({ quick }) {
  if (!findOrInstall('kcat')) {
    return [{ id: 'engine.kafka', label: 'Kafka → Kafka, per raw kafkajs loop', detail: 'skipped: kcat (its mock cluster) is not installed and could not be (apt-get install -y kcat)' }];
  }
  const job = JSON.stringify({ messages: quick ? 2000 : 30_000, rounds: quick ? 1 : 3 });
  const rounds = await new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./kafka.mjs', import.meta.url)), job], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.once('exit', (code) => (code === 0 ? resolveRun(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`Kafka bench failed: ${err}`))));
  });
  const mid = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  return [figure('engine.kafka', 'Kafka → Kafka (kcat mock), per raw kafkajs consume-and-produce loop', rounds.map((r) => r.engine / r.raw), {
    target: 0.5, baseline: `raw kafkajs ${fmt(mid(rounds.map((r) => r.raw)))} msg/s`, detail: `engine ${fmt(mid(rounds.map((r) => r.engine)))} msg/s`,
  })];
}
