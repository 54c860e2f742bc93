// Does checkpointing large window state stall the API? Run `npm run build` first.
//   node bench/checkpoint-stall.mjs
// Starts the server (dist/) in its own process on a temporary data directory; this process
// sends GETs one after another and records their latency, first with no processor running,
// then while a processor holds tens of MB of window state and checkpoints it every 5 s.
// Prints p50/p99 of both runs and the p99 ratio (1.0 = checkpoints cost the API nothing).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestHeader, request } from './lib/http.mjs';
import { startProcess } from './lib/processes.mjs';

const MEASURE_MS = Number(process.env.STALL_BENCH_MS ?? 20_000);
const STATE_BYTES = Number(process.env.STALL_BENCH_STATE_BYTES ?? 30 * 1024 * 1024);
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const STREAMS = 'application/vnd.atlas.2023-02-01+json';
const PROCESSORS = 'application/vnd.atlas.2024-05-30+json';

/**
 * 2000 documents a second, each carrying 4 KB into a $push: the window holds 30-60 MB. Its
 * output is only counts, so what is measured is the checkpoints, not relaying large output
 * (STALL_BENCH_BIG_OUTPUT=1 emits the collected documents too, a few MB a window).
 */
const BIG_OUTPUT = process.env.STALL_BENCH_BIG_OUTPUT === '1';
const PIPELINE = [
  { $source: { connectionName: 'sample_stream_solar' } },
  { $addFields: { pad: { $literal: 'x'.repeat(4000) } } },
  {
    $tumblingWindow: {
      interval: { size: 4, unit: 'second' },
      pipeline: [{ $group: { _id: '$device_id', docs: { $push: '$$ROOT' } } }, ...(BIG_OUTPUT ? [] : [{ $project: { n: { $size: '$docs' } } }])],
    },
  },
  { $emit: { connectionName: '__testLog' } },
];

async function startServer(dataDir) {
  const { child, match, stop } = await startProcess(process.execPath,
    [CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn', '--sample-rate', '2000'], {},
    /listening on (\S+)[\s\S]*project:\s+(\w+)[\s\S]*API key:\s+public (\w+)\s+private (\S+)/);
  return { child, stop, url: match[1], projectId: match[2], publicKey: match[3], privateKey: match[4] };
}

/** One Digest call (both legs). GETs go through api.mjs's keep-alive request(); the rest through fetch. */
async function call(server, path, { method = 'GET', accept = PROCESSORS, body } = {}) {
  const url = `${server.url}${path}`;
  const send = async (authorization) => {
    const headers = { Accept: accept, ...(authorization ? { Authorization: authorization } : {}) };
    if (method === 'GET') return request(url, headers);
    const res = await fetch(url, { method, headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  };
  const challenge = await send();
  const nonce = /nonce="([^"]+)"/.exec(challenge.headers['www-authenticate'] ?? '')?.[1];
  const res = nonce ? await send(digestHeader(url, method, server.publicKey, server.privateKey, nonce)) : challenge;
  return { status: res.status, json: res.body ? JSON.parse(res.body) : undefined, text: res.body };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measureGets(server, path) {
  const latencies = [];
  const until = Date.now() + MEASURE_MS;
  while (Date.now() < until) {
    const started = performance.now();
    const res = await call(server, path);
    latencies.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.text}`);
  }
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) };
}

export async function runCheckpointStallBench() {
  const dataDir = mkdtempSync(join(tmpdir(), 'ase-stall-bench-'));
  const server = await startServer(dataDir);
  try {
    const streams = `/api/atlas/v2/groups/${server.projectId}/streams`;
    const api = (path, options) => call(server, `${streams}${path}`, options);
    await api('', { method: 'POST', accept: STREAMS, body: { name: 'bench', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, sampleConnections: { solar: true } } });
    await api('/bench/processor', { method: 'POST', body: { name: 'state', pipeline: PIPELINE } });
    const path = `${streams}/bench/processor/state`;

    const idle = await measureGets(server, path);
    await api('/bench/processor/state:start', { method: 'POST' });
    let stateSize = 0;
    while (stateSize < STATE_BYTES) {
      await new Promise((r) => setTimeout(r, 500));
      const got = await api('/bench/processor/state');
      if (got.json.state !== 'STARTED') throw new Error(`the processor is ${got.json.state}: ${got.json.stats?.errorMsg}`);
      stateSize = got.json.stats.stateSize;
    }
    const busy = await measureGets(server, path);
    const after = (await api('/bench/processor/state')).json.stats;
    const row = (name, r) => `  ${name.padEnd(34)} ${String(r.count).padStart(6)} GETs  p50 ${r.p50.toFixed(1).padStart(7)} ms  p99 ${r.p99.toFixed(1).padStart(7)} ms  max ${r.max.toFixed(1).padStart(7)} ms`;
    console.log(`checkpoint stall${BIG_OUTPUT ? ' with large output' : ''} (${MEASURE_MS / 1000} s each; window state reached ${(STATE_BYTES / 1048576).toFixed(0)} MB, ${(after.stateSize / 1048576).toFixed(1)} MB at the end)`);
    console.log(row('no processor running', idle));
    console.log(row('processor checkpointing its state', busy));
    console.log(`  p99 ratio (checkpointing / idle): ${(busy.p99 / idle.p99).toFixed(2)}`);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await runCheckpointStallBench();
  process.exit(0);
}
