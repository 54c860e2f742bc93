// A pool of Node load processes (pool-worker.mjs) for scenarios wrk cannot script. Its own
// ceiling is measured against the bare server in the same run and printed beside its figures.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('../pool-worker.mjs', import.meta.url));

/**
 * Runs `scenario` from `processes` processes of `clients` clients each for `seconds` (and at
 * most maxOps ops per process). Returns ops/s over the pool, error count and sorted latencies.
 */
export async function runPool(scenario, { processes = 2, clients, seconds, maxOps = 1_000_000, ...rest }) {
  const outputs = await Promise.all(Array.from({ length: processes }, (_, processIndex) => new Promise((resolveRun, reject) => {
    const job = JSON.stringify({ scenario, processes, processIndex, clients, seconds, maxOps, names: 1, headers: {}, ...rest });
    const child = spawn(process.execPath, [WORKER, job], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.once('exit', (code) => (code === 0 ? resolveRun(JSON.parse(out)) : reject(new Error(`load process failed: ${err}`))));
  })));
  const latencies = outputs.flatMap((o) => o.latencies).sort((a, b) => a - b);
  const ops = outputs.reduce((n, o) => n + o.ops, 0);
  return {
    opsPerSec: outputs.reduce((n, o) => n + o.ops / (o.ms / 1000), 0), ops, errors: outputs.reduce((n, o) => n + o.errors, 0),
    p50: percentile(latencies, 50), p99: percentile(latencies, 99),
  };
}

export function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
