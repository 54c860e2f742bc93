// API benchmarks (issue 2). Every figure is a ratio against a baseline measured in the same
// run on the same machine: a bare node:http server answering a fixed JSON document.
//   - authenticated GET with a bearer token, requests per second (target >= 0.5 of bare)
//   - the same GET with Digest, both legs per request
//   - the same GET against Stoplight Prism mocking the same spec
//   - time to first response and idle memory of a fresh process
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ACCEPT = 'application/vnd.atlas.2023-02-01+json';

const BARE_SERVER = `
const http = require('node:http');
const body = JSON.stringify({ links: [], results: [], totalCount: 0 });
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}).listen(0, '127.0.0.1', function () { console.log('LISTENING ' + this.address().port); });
`;

export function startProcess(command, args, env, readyPattern) {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolveStart, reject) => {
    const onData = (chunk) => {
      output += chunk.toString();
      const m = readyPattern.exec(output);
      if (m) resolveStart({ child, match: m, output: () => output, started });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${command} exited ${code}: ${output.slice(-2000)}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

export function request(url, headers = {}) {
  return new Promise((resolveRequest, reject) => {
    const req = http.request(url, { agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolveRequest({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs `once` from CONCURRENCY loops for `seconds`; returns completed calls. */
async function countCalls(once, seconds) {
  const end = Date.now() + seconds * 1000;
  let count = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (Date.now() < end) {
      await once();
      count++;
    }
  }));
  return count;
}

/**
 * Calls per second of each workload, measured in interleaved one-second slices so that a
 * change in the machine's background load falls on every workload alike.
 */
async function interleavedThroughput(workloads) {
  const counts = Object.fromEntries(Object.keys(workloads).map((name) => [name, 0]));
  for (const once of Object.values(workloads)) for (let i = 0; i < 200; i++) await once(); // warm up
  for (let round = 0; round < SECONDS; round++) {
    for (const [name, once] of Object.entries(workloads)) counts[name] += await countCalls(once, 1);
  }
  return Object.fromEntries(Object.entries(counts).map(([name, n]) => [name, n / SECONDS]));
}

export function digestHeader(url, method, publicKey, privateKey, nonce) {
  const md5 = (t) => createHash('md5').update(t).digest('hex');
  const { pathname, search } = new URL(url);
  const uri = pathname + search;
  const cnonce = randomBytes(8).toString('hex');
  const response = md5(`${md5(`${publicKey}:MMS Public API:${privateKey}`)}:${nonce}:00000001:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return `Digest username="${publicKey}", realm="MMS Public API", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, cnonce="${cnonce}", nc=00000001, qop=auth`;
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

/**
 * Prism is installed on first use into bench/.tools, not as a devDependency: its own
 * dependency tree would otherwise split node-fetch for the MCP server the tests run.
 */
function ensurePrism() {
  const tools = join(root, 'bench/.tools');
  const bin = join(tools, 'node_modules/.bin/prism');
  if (existsSync(bin)) return bin;
  console.log('installing @stoplight/prism-cli@5.14.2 into bench/.tools (first run only)...');
  const result = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', tools, '@stoplight/prism-cli@5.14.2'], { stdio: 'ignore' });
  return result.status === 0 && existsSync(bin) ? bin : undefined;
}

export async function startEmulator() {
  const clientId = `mdb_sa_id_${randomBytes(12).toString('hex')}`;
  const clientSecret = `mdb_sa_sk_${randomBytes(24).toString('base64url')}`;
  const proc = await startProcess(process.execPath, [join(root, 'dist/cli/main.js'), 'serve', '--in-memory', '--port', '0', '--log-level', 'silent'],
    { MONGODB_ATLAS_CLIENT_ID: clientId, MONGODB_ATLAS_CLIENT_SECRET: clientSecret },
    /listening on (\S+)[\s\S]*project:\s+(\w+)[\s\S]*API key:\s+public (\w+)\s+private (\S+)/);
  const [, url, projectId, publicKey, privateKey] = proc.match;
  return { ...proc, url, projectId, publicKey, privateKey, clientId, clientSecret };
}

export async function bearerToken(emulator) {
  const res = await fetch(`${emulator.url}/api/oauth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${emulator.clientId}:${emulator.clientSecret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return (await res.json()).access_token;
}

async function timeToFirstResponse(startFn, urlOf) {
  const proc = await startFn();
  const url = urlOf(proc);
  for (;;) {
    try {
      await request(url);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const ms = Number(process.hrtime.bigint() - proc.started) / 1e6;
  await new Promise((r) => setTimeout(r, 1000));
  const rss = rssMiB(proc.child.pid);
  proc.child.kill();
  return { ms, rss };
}

export async function runApiBench() {
  const results = {};
  const bare = await startProcess(process.execPath, ['-e', BARE_SERVER], {}, /LISTENING (\d+)/);
  const bareUrl = `http://127.0.0.1:${bare.match[1]}/api/atlas/v2/groups/x/streams`;
  const emulator = await startEmulator();
  const streamsUrl = `${emulator.url}/api/atlas/v2/groups/${emulator.projectId}/streams`;
  const token = await bearerToken(emulator);
  const check = await request(streamsUrl, { Accept: ACCEPT, Authorization: `Bearer ${token}` });
  if (check.status !== 200) throw new Error(`bearer GET answered ${check.status}: ${check.body}`);
  const measured = await interleavedThroughput({
    bare: () => request(bareUrl),
    bearer: () => request(streamsUrl, { Accept: ACCEPT, Authorization: `Bearer ${token}` }),
    digest: async () => {
      const first = await request(streamsUrl, { Accept: ACCEPT });
      const nonce = /nonce="([^"]+)"/.exec(first.headers['www-authenticate'])[1];
      const second = await request(streamsUrl, { Accept: ACCEPT, Authorization: digestHeader(streamsUrl, 'GET', emulator.publicKey, emulator.privateKey, nonce) });
      if (second.status !== 200) throw new Error(`digest GET answered ${second.status}`);
    },
  });
  results.bareRps = measured.bare;
  results.bearerRps = measured.bearer;
  results.digestRps = measured.digest;
  bare.child.kill();
  emulator.child.kill();

  const spec = resolve(root, 'spec/atlas-admin-v2-2026-08.yaml');
  const prismBin = ensurePrism();
  if (existsSync(spec) && prismBin) {
    const prism = await startProcess(prismBin, ['mock', spec, '-p', '0', '-h', '127.0.0.1'], {}, /Prism is listening on (http:\/\/\S+)/).catch(() => undefined);
    if (prism) {
      const prismUrl = `${prism.match[1].replace(/\/$/, '')}/api/atlas/v2/groups/32b6e34b3d91647abb20e7b8/streams`;
      const probe = await request(prismUrl, { Accept: ACCEPT, Authorization: `Bearer ${token}` });
      results.prismStatus = probe.status;
      results.prismRps = (await interleavedThroughput({ prism: () => request(prismUrl, { Accept: ACCEPT, Authorization: `Bearer ${token}` }) })).prism;
      prism.child.kill();
    }
  }

  const bareStart = await timeToFirstResponse(() => startProcess(process.execPath, ['-e', BARE_SERVER], {}, /LISTENING (\d+)/),
    (p) => `http://127.0.0.1:${p.match[1]}/`);
  const emulatorStart = await timeToFirstResponse(startEmulator, (p) => `${p.url}/readyz`);
  Object.assign(results, {
    bareFirstResponseMs: bareStart.ms, emulatorFirstResponseMs: emulatorStart.ms,
    bareIdleRssMiB: bareStart.rss, emulatorIdleRssMiB: emulatorStart.rss,
  });

  const f = (n) => n.toFixed(0);
  const r = (a, b) => (a / b).toFixed(2);
  console.log(`API benchmark (${SECONDS} interleaved one-second slices per workload, ${CONCURRENCY} concurrent keep-alive connections)`);
  console.log(`  bare node:http fixed JSON        ${f(results.bareRps)} req/s  (baseline)`);
  console.log(`  emulator GET, bearer             ${f(results.bearerRps)} req/s  ratio ${r(results.bearerRps, results.bareRps)}  (target >= 0.5)`);
  console.log(`  emulator GET, Digest (2 legs)    ${f(results.digestRps)} req/s  ratio ${r(results.digestRps, results.bareRps)}`);
  if (results.prismRps !== undefined) {
    console.log(`  Prism mock of the same spec      ${f(results.prismRps)} req/s  ratio ${r(results.prismRps, results.bareRps)}  (status ${results.prismStatus}; emulator/Prism ${r(results.bearerRps, results.prismRps)})`);
  } else {
    console.log('  Prism mock: skipped (spec or prism not found)');
  }
  console.log(`  time to first response           emulator ${f(results.emulatorFirstResponseMs)} ms, bare ${f(results.bareFirstResponseMs)} ms, ratio ${r(results.emulatorFirstResponseMs, results.bareFirstResponseMs)}`);
  console.log(`  idle memory (RSS)                emulator ${results.emulatorIdleRssMiB.toFixed(1)} MiB, bare ${results.bareIdleRssMiB.toFixed(1)} MiB, ratio ${r(results.emulatorIdleRssMiB, results.bareIdleRssMiB)}`);
  agent.destroy();
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runApiBench().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
