// The processes a benchmark measures: each server runs in its own process, so the load
// generator (another process again) never shares an event loop with what it measures.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The baseline: bare node:http answering a fixed JSON document, nothing else. */
const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ links: [], results: [], totalCount: 0 });
http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}).listen(0, '127.0.0.1', function () { console.log('LISTENING ' + this.address().port); });
`;

/** Spawns a command and resolves once its output matches readyPattern. */
export function startProcess(command, args, env, readyPattern) {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolveStart, reject) => {
    const onData = (chunk) => {
      output += chunk.toString();
      if (output.length > 100_000) output = output.slice(-50_000);
      const m = readyPattern.exec(output);
      if (m) {
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolveStart({ child, match: m, started, stop: () => stopChild(child) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited ${code}: ${output.slice(-2000)}`)));
  });
}

/**
 * SIGTERM, and waits for the exit: a clean stop, so that --cpu-prof (BENCH_CPU_PROF_DIR) writes
 * its profile. A child still running after graceMs is killed.
 */
export function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

export async function startBare() {
  const proc = await startProcess(process.execPath, ['-e', BARE_SERVER], {}, /LISTENING (\d+)/);
  return { ...proc, url: `http://127.0.0.1:${proc.match[1]}` };
}

/** The built emulator (dist/), in memory unless a data directory is given; `env` adds to its environment. */
// One set of credentials per bench run, so a restarted emulator on the same data keeps them.
const clientId = `mdb_sa_id_${randomBytes(12).toString('hex')}`;
const clientSecret = `mdb_sa_sk_${randomBytes(24).toString('base64url')}`;

export async function startEmulator({ dataDir, env = {} } = {}) {
  const storage = dataDir ? ['--data-dir', dataDir] : ['--in-memory'];
  // BENCH_CPU_PROF_DIR: each emulator writes a V8 CPU profile there when it stops, to see where a figure's time goes;
  // BENCH_CPU_PROF_INTERVAL: its sampling interval in microseconds (1000 by default; 100 shows a 10 ms stall's parts).
  const interval = process.env.BENCH_CPU_PROF_INTERVAL ? ['--cpu-prof-interval', process.env.BENCH_CPU_PROF_INTERVAL] : [];
  const profiling = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF_DIR, ...interval] : [];
  const proc = await startProcess(process.execPath, [...profiling, join(root, 'dist/cli/main.js'), 'serve', ...storage, '--port', '0', '--log-level', 'silent'],
    { MONGODB_ATLAS_CLIENT_ID: clientId, MONGODB_ATLAS_CLIENT_SECRET: clientSecret, MONGODB_ATLAS_PUBLIC_KEY: 'benchpub', MONGODB_ATLAS_PRIVATE_KEY: 'bench-private-key-0000-0000', ...env },
    /listening on (\S+)[\s\S]*project:\s+(\w+)/);
  const [, url, projectId] = proc.match;
  return { ...proc, url, projectId, publicKey: 'benchpub', privateKey: 'bench-private-key-0000-0000', clientId, clientSecret };
}

export async function bearerToken(emulator) {
  const res = await fetch(`${emulator.url}/api/oauth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${emulator.clientId}:${emulator.clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  if (!res.ok) throw new Error(`token request answered ${res.status}`);
  return (await res.json()).access_token;
}

export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system, ms) a process has used so far: per-request cost that load from other processes barely moves. */
export function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
