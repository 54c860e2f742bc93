// Soak: a bounded run (SOAK_SECONDS, default 30) of ordinary traffic against a server in
// this process (so its heap can be read), with a data directory on disk: connections
// created, read and deleted, processors created, started, stopped and deleted, lists read.
// Prints RSS, heap and open file descriptors after warm-up and at the end; growth in any of
// them across a longer run is a leak. Run after `npm run build`:
//   node bench/soak.mjs                    (SOAK_SECONDS=30 SOAK_CLIENTS=4)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 4);
const WARMUP_SECONDS = Math.min(5, SECONDS / 5);

/** Heap figures mean something only after a full collection: run again with --expose-gc. */
function rerunWithGc() {
  const result = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], { stdio: 'inherit', env: process.env });
  return result.status ?? 1;
}

function figures() {
  global.gc();
  const m = process.memoryUsage();
  const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
  return { rss: mib(m.rss), heapUsed: mib(m.heapUsed), external: mib(m.external), fds: readdirSync('/proc/self/fd').length };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

function call(url, method, token, body, accept = 'application/vnd.atlas.2024-05-30+json') {
  return new Promise((resolveCall, reject) => {
    const headers = { Accept: accept, Authorization: `Bearer ${token}` };
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (text !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveCall({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function client(id, base, token, until, counts) {
  const expect = async (promise, ...ok) => {
    const res = await promise;
    counts.requests++;
    if (!ok.includes(res.status)) counts.unexpected[`${res.status}`] = (counts.unexpected[`${res.status}`] ?? 0) + 1;
    return res;
  };
  for (let n = 0; Date.now() < until; n++) {
    const connection = `c${id}-${n}`;
    await expect(call(`${base}/connections`, 'POST', token, { name: connection, type: 'Https', url: 'https://127.0.0.1:9/x', headers: { a: 'b' } }), 200);
    await expect(call(`${base}/connections/${connection}`, 'GET', token), 200);
    await expect(call(`${base}/connections?itemsPerPage=100`, 'GET', token), 200);
    await expect(call(`${base}/connections/${connection}`, 'DELETE', token), 202);
    // Processors start worker threads: one client cycles them, the others stay on the API.
    if (id === 0 && n % 10 === 0) {
      const processor = `p${id}-${n}`;
      await expect(call(`${base}/processor`, 'POST', token, { name: processor, pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] }), 200);
      await expect(call(`${base}/processor/${processor}:start`, 'POST', token), 200);
      await expect(call(`${base}/processor/${processor}`, 'GET', token), 200);
      await expect(call(`${base}/processor/${processor}:stop`, 'POST', token), 200);
      await expect(call(`${base}/processor/${processor}`, 'DELETE', token), 204);
    }
  }
}

export async function runSoakBench() {
  if (typeof global.gc !== 'function') return rerunWithGc();
  const { startApp } = await import(join(root, 'dist/app.js'));
  const dataDir = mkdtempSync(join(tmpdir(), 'ase-soak-'));
  const clientId = `mdb_sa_id_${'5'.repeat(24)}`;
  const clientSecret = `mdb_sa_sk_${'s'.repeat(40)}`;
  const app = await startApp({ port: 0, host: '127.0.0.1', dataDir, inMemory: false, logLevel: 'silent', enforceRateLimits: false, sampleRatePerSecond: 100,
    env: { MONGODB_ATLAS_CLIENT_ID: clientId, MONGODB_ATLAS_CLIENT_SECRET: clientSecret } });
  try {
    const tokenRes = await fetch(`${app.url}/api/oauth/token`, { method: 'POST', body: 'grant_type=client_credentials',
      headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' } });
    const token = (await tokenRes.json()).access_token;
    const streams = `${app.url}/api/atlas/v2/groups/${app.bootstrap.projectId}/streams`;
    const made = await call(`${streams}:withSampleConnections`, 'POST', token, { name: 'soak', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } }, 'application/vnd.atlas.2024-08-05+json');
    if (made.status !== 200) throw new Error(`creating the instance answered ${made.status} ${made.text}`);
    const counts = { requests: 0, unexpected: {} };
    const started = Date.now();
    const until = started + SECONDS * 1000;
    const clients = Array.from({ length: CLIENTS }, (_, id) => client(id, `${streams}/soak`, token, until, counts));
    await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
    const first = figures();
    await Promise.all(clients);
    const last = figures();
    console.log(`soak: ${SECONDS} s, ${CLIENTS} clients, ${counts.requests} requests (${Math.round(counts.requests / SECONDS)}/s)` +
      `${Object.keys(counts.unexpected).length ? `, unexpected statuses ${JSON.stringify(counts.unexpected)}` : ''}`);
    console.log(`soak: after ${WARMUP_SECONDS} s warm-up  rss ${first.rss}  heapUsed ${first.heapUsed}  external ${first.external}  open fds ${first.fds}`);
    console.log(`soak: at the end          rss ${last.rss}  heapUsed ${last.heapUsed}  external ${last.external}  open fds ${last.fds}`);
  } finally {
    agent.destroy();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(await runSoakBench());
