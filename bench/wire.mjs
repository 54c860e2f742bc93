// Wire endpoint benchmark (issue 10), separate from the API bench. Run `npm run build` first.
//   node bench/wire.mjs
// Prints, in one run on one machine:
//   - sp.process round trip over a 10,000-document `documents` source (processStreamProcessor,
//     then getMore until cursorId 0), docs/s, against the same pipeline created and started
//     through the Admin API and read from its output route until the last document appears;
//   - handshake + SCRAM-SHA-256 authentication + ping of a new connection (the Node driver),
//     against connect + one round trip to a bare `net` echo server.
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = Number(process.env.WIRE_BENCH_DOCS ?? 10_000);
const ROUNDS = Number(process.env.WIRE_BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.WIRE_BENCH_CONNECTIONS ?? 30);
const USER = 'bench';
const PASSWORD = 'bench-pa55word';
const ACCEPT = 'application/vnd.atlas.2025-03-12+json';

function startServer() {
  const child = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'serve', '--in-memory', '--port', '0', '--wire-port-base', '0',
    '--log-level', 'warn', '--sample-rate', '0'], {
    env: { ...process.env, MONGODB_ATLAS_DB_USERNAME: USER, MONGODB_ATLAS_DB_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  return new Promise((resolveStart, reject) => {
    child.stdout.on('data', (chunk) => {
      text += chunk.toString();
      const m = /listening on (\S+)[\s\S]*project:\s+(\w+)\s+API key:\s+public (\w+)\s+private (\S+)/.exec(text);
      if (m) resolveStart({ child, url: m[1], projectId: m[2], user: `${m[3]}:${m[4]}` });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${text}`)));
  });
}

function curl(server, method, path, body, extra = []) {
  const args = ['-s', '--digest', '--user', server.user, '-H', `Accept: ${ACCEPT}`, '-X', method, ...extra];
  // The body goes through standard input: 10,000 documents do not fit in an argument list.
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', '@-');
  return new Promise((resolveCall, reject) => {
    const child = execFile('curl', [...args, `${server.url}${path}`], { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => (error ? reject(error) : resolveCall(stdout ? JSON.parse(stdout) : {})));
    child.stdin.end(body === undefined ? '' : JSON.stringify(body));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const documents = Array.from({ length: DOCS }, (_, i) => ({ n: i, device: `d${i % 10}`, watts: i % 300 }));
const stages = [{ $match: { watts: { $gte: 0 } } }, { $addFields: { kw: { $divide: ['$watts', 1000] } } }];

async function wireRun(admin) {
  const started = performance.now();
  const { name, cursorId } = await admin.command({ processStreamProcessor: [{ $source: { documents } }, ...stages] });
  let id = cursorId;
  let received = 0;
  const marks = [performance.now() - started];
  while (id !== 0) {
    const batch = await admin.command({ getMoreSampleStreamProcessor: name, cursorId: id });
    received += batch.messages.length;
    id = batch.cursorId;
    if (process.env.WIRE_BENCH_TRACE) marks.push(`${Math.round(performance.now() - started)}:${batch.messages.length}`);
  }
  if (process.env.WIRE_BENCH_TRACE) console.log(marks.join(' '));
  const seconds = (performance.now() - started) / 1000;
  await admin.command({ dropStreamProcessor: name });
  if (received !== DOCS) throw new Error(`sp.process delivered ${received} of ${DOCS}`);
  return DOCS / seconds;
}

async function apiRun(server, round) {
  const base = `/api/atlas/v2/groups/${server.projectId}/streams/bench`;
  const name = `api${round}`;
  const started = performance.now();
  await curl(server, 'POST', `${base}/processor`, { name, pipeline: [{ $source: { documents } }, ...stages, { $emit: { connectionName: '__testLog' } }] });
  await curl(server, 'POST', `${base}/processor/${name}:start`);
  // Its output, read as the README shows it, until the last document comes out. (The route
  // keeps only the latest 1,000 documents for a late reader, so it may carry fewer than all.)
  const reader = spawn('curl', ['-s', '-N', '--digest', '--user', server.user, `${server.url}/emulator/v1/groups/${server.projectId}/streams/bench/processor/${name}/output`]);
  let lines = 0;
  let tail = '';
  await new Promise((resolveLast) => {
    reader.stdout.on('data', (chunk) => {
      for (const byte of chunk) if (byte === 10) lines += 1;
      const text = tail + chunk.toString();
      if (text.includes(`"n":${DOCS - 1},`)) resolveLast();
      tail = text.slice(-200);
    });
  });
  const seconds = (performance.now() - started) / 1000;
  reader.kill();
  await curl(server, 'DELETE', `${base}/processor/${name}`);
  return { rate: DOCS / seconds, lines };
}

async function connectTimes(uri) {
  const times = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const started = performance.now();
    const client = new MongoClient(uri, { auth: { username: USER, password: PASSWORD }, authSource: 'admin', authMechanism: 'SCRAM-SHA-256', directConnection: true, maxPoolSize: 1 });
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    times.push(performance.now() - started);
    await client.close();
  }
  return median(times);
}

async function echoTimes() {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const times = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const started = performance.now();
    await new Promise((resolveEcho, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write('x'));
      socket.once('data', () => { times.push(performance.now() - started); socket.destroy(); resolveEcho(); });
      socket.once('error', reject);
    });
  }
  server.close();
  return median(times);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function runWireBench() {
  const server = await startServer();
  try {
    await curl(server, 'POST', `/api/atlas/v2/groups/${server.projectId}/streams`, { name: 'bench', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } });
    const { connectionString } = await curl(server, 'GET', `/emulator/v1/groups/${server.projectId}/streams/bench`);
    const client = new MongoClient(connectionString, { auth: { username: USER, password: PASSWORD }, authSource: 'admin', directConnection: true });
    await client.connect();
    const admin = client.db('admin');
    // Rounds alternate and each side keeps its best, so load from other processes skews the ratio less.
    let wire = 0;
    let api = { rate: 0, lines: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      wire = Math.max(wire, await wireRun(admin));
      const a = await apiRun(server, round);
      if (a.rate > api.rate) api = a;
    }
    await client.close();
    console.log(`sp.process over the wire, ${DOCS} documents: ${Math.round(wire)} docs/s, ${(wire / api.rate).toFixed(2)} of the Admin API path (${Math.round(api.rate)} docs/s from create until its output route shows the last document, having carried ${api.lines})`);
    const wireMs = await connectTimes(connectionString);
    const echoMs = await echoTimes();
    console.log(`new connection, handshake + SCRAM-SHA-256 + ping: median ${wireMs.toFixed(1)} ms, ${(wireMs / echoMs).toFixed(1)}x a bare net echo round trip (${echoMs.toFixed(2)} ms)`);
  } finally {
    server.child.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runWireBench();
  process.exit(0);
}
