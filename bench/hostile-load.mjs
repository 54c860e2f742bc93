// Hostile load (issue 8 item 10): how long an ordinary client's GET takes while other
// clients send the largest bodies the server accepts, oversized ones, and deep JSON.
// Prints p50/p99/max of the GET alone, then under each kind of hostile traffic with its p99 and
// max as ratios to the GET alone in the same run, and the server's longest event loop stall in
// each phase (its /metrics, whose maximum restarts at every scrape) against the phase alone. Every loop is bounded by HOSTILE_SECONDS per
// phase. The server keeps its data in a directory (the default SQLite store, large pipelines
// beside it), not in memory. Run after `npm run build`:
//   node bench/hostile-load.mjs            (HOSTILE_SECONDS=5 HOSTILE_CLIENTS=2 by default)
//   node bench/hostile-load.mjs operations (only each operation alone, 16 MB beside small, over HTTP then
//   the wire endpoint; HOSTILE_OPERATION_ROUNDS=3)
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { BSON } from 'mongodb';
import { wireClient } from './lib/fixtures.mjs';
import { bearerToken, startEmulator } from './lib/processes.mjs';

const SECONDS = Number(process.env.HOSTILE_SECONDS ?? 5);
const HOSTILE_CLIENTS = Number(process.env.HOSTILE_CLIENTS ?? 2);
const MAX_BODY = 17 * 1024 * 1024;
const ACCEPT = 'application/vnd.atlas.2024-05-30+json';

const DB_USER = 'hostile-wire';
const DB_PASSWORD = 'hostile-wire-pa55word';

const quiet = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(url, { method = 'GET', headers = {}, body, agent }) {
  return new Promise((resolve) => {
    const req = http.request(url, { method, headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN;
}

/** The ordinary client: one GET after another for the phase, each timed. */
async function timedGets(url, token, until) {
  const times = [];
  while (Date.now() < until) {
    const started = process.hrtime.bigint();
    const status = await send(url, { headers: { Accept: ACCEPT, Authorization: `Bearer ${token}` }, agent: quiet });
    if (status !== 200) throw new Error(`the ordinary GET answered ${status}`);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

/**
 * A body of exactly the largest accepted size: a valid pipeline. `refused`: with an unknown
 * attribute at its very end, refused only after parsing; otherwise it is stored and echoed.
 */
function maximalBody(refused = true) {
  const head = '{"name":"hostile","pipeline":[{"$source":{"connectionName":"sample_stream_solar"}},{"$match":{"k":{"$in":[';
  const tail = `]}}},{"$emit":{"connectionName":"__testLog"}}]${refused ? ',"refusedAtTheEnd":1' : ''}}`;
  const item = '"abcdefghijklmnopqrstuvwxyz0123456789",';
  const count = Math.floor((MAX_BODY - head.length - tail.length - 4) / item.length);
  return `${head}${item.repeat(count)}"z"${tail}`;
}

/**
 * Hostile clients run in processes of their own, so that building and writing 17 MiB bodies
 * does not slow the measuring client down instead of the server.
 */
async function attackers(kind, server, token) {
  const children = Array.from({ length: kind ? HOSTILE_CLIENTS : 0 }, () =>
    fork(fileURLToPath(import.meta.url), ['attack', kind, server.url, server.projectId, token], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  // Each builds its body first and says so: the phase is timed from when all are ready.
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
  return {
    go: (until) => children.map((child) => new Promise((resolve) => {
      child.once('message', (summary) => resolve(summary));
      child.once('exit', () => resolve({ requests: 0, statuses: {} }));
      child.send({ until });
    })),
  };
}

const fmt = (v) => v.toFixed(1).padStart(7);

/** The server's longest event loop delay since the last scrape, in ms (prom-client's default metric). */
async function loopStallMs(server) {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^atlas_streams_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)[1]) * 1000;
}
const baseline = {};

async function phase(name, server, token, kind) {
  const ready = await attackers(kind, server, token);
  await loopStallMs(server);
  const until = Date.now() + SECONDS * 1000;
  const running = ready.go(until);
  const times = await timedGets(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams`, token, until);
  const summaries = await Promise.all(running);
  const stall = await loopStallMs(server);
  const requests = summaries.reduce((n, s) => n + s.requests, 0);
  const statuses = {};
  for (const s of summaries) for (const [k, v] of Object.entries(s.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const p99 = percentile(times, 0.99);
  const max = times.at(-1);
  if (!kind) Object.assign(baseline, { p99, max, stall });
  const ratios = kind ? `  (x alone: p99 ${(p99 / baseline.p99).toFixed(1)}, max ${(max / baseline.max).toFixed(1)}, stall ${(stall / baseline.stall).toFixed(1)})` : '';
  console.log(`${name.padEnd(46)} GET p50 ${fmt(percentile(times, 0.5))} ms  p99 ${fmt(p99)} ms  max ${fmt(max)} ms  server loop stall ${fmt(stall)} ms${ratios}  ` +
    `(${times.length} GETs${kind ? `; ${requests} hostile requests, statuses ${JSON.stringify(statuses)}` : ''})`);
}

const OPERATION_ROUNDS = Number(process.env.HOSTILE_OPERATION_ROUNDS ?? 3);

/**
 * Each operation on one processor alone, nothing else running: the server's longest event loop
 * stall during it (and the background work it starts, such as a start's hand-over or the
 * deletion of a replaced pipeline), with a maximal pipeline and, as the baseline, with a small
 * one, in the same run. The largest over OPERATION_ROUNDS rounds.
 */
async function operationStalls(server, token) {
  const workspace = `${server.url}/api/atlas/v2/groups/${server.projectId}/streams/hostile`;
  const headers = { Authorization: `Bearer ${token}`, Accept: ACCEPT, 'Content-Type': 'application/json' };
  const smallBody = JSON.stringify({ name: 'alone', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $match: { k: 1 } }, { $emit: { connectionName: '__testLog' } }] });
  const largeBody = maximalBody(false).replace('"name":"hostile"', '"name":"alone"');
  const operations = (body) => [
    ['create', 'POST', '/processor', body],
    ['get', 'GET', '/processor/alone'],
    ['get ?pretty=true', 'GET', '/processor/alone?pretty=true'],
    ['list', 'GET', '/processors'],
    ['modify (PATCH, new pipeline)', 'PATCH', '/processor/alone', body],
    ['modify ?pretty=true', 'PATCH', '/processor/alone?pretty=true', body],
    ['start', 'POST', '/processor/alone:start'],
    ['stop', 'POST', '/processor/alone:stop'],
    ['delete', 'DELETE', '/processor/alone'],
  ];
  const worst = async (body) => {
    const stalls = new Map();
    for (let round = 0; round < OPERATION_ROUNDS; round++) {
      for (const [name, method, path, payload] of operations(body)) {
        await loopStallMs(server);
        const status = await send(`${workspace}${path}`, { method, headers, body: payload });
        if (status >= 300) throw new Error(`${name} answered ${status}`);
        // The work an operation leaves running after its answer counts too.
        await new Promise((resolve) => setTimeout(resolve, 300));
        stalls.set(name, Math.max(stalls.get(name) ?? 0, await loopStallMs(server)));
      }
    }
    return stalls;
  };
  const small = await worst(smallBody);
  const large = await worst(largeBody);
  printStalls(`${(Buffer.byteLength(largeBody) / 1048576).toFixed(2)} MiB pipeline`, large, small);
  await wireOperationStalls(server, token, JSON.parse(smallBody).pipeline, JSON.parse(largeBody).pipeline);
}

function printStalls(what, large, small) {
  console.log(`one operation alone, longest server loop stall over ${OPERATION_ROUNDS} rounds: ${what} (small pipeline)`);
  for (const [name, stall] of large) {
    console.log(`  ${name.padEnd(44)} ${fmt(stall)} ms  (small ${fmt(small.get(name))} ms, x${(stall / small.get(name)).toFixed(1)})`);
  }
}

/** The largest of `pipeline`'s leading items that fits a BSON command (16 MiB): its $match list shortened. */
function fittingWirePipeline(pipeline) {
  const list = pipeline[1].$match.k.$in;
  const bytes = BSON.calculateObjectSize({ pipeline });
  const kept = Math.floor(list.length * (15.5 * 1048576) / bytes);
  return [pipeline[0], { $match: { k: { $in: list.slice(0, kept) } } }, pipeline[2]];
}

/** The same over the wire endpoint (mongosh's commands), as a database user. */
async function wireOperationStalls(server, token, smallPipeline, maximalPipeline) {
  const { client } = await wireClient(server, token, 'hostile', { username: DB_USER, password: DB_PASSWORD });
  const db = client.db('admin');
  const largePipeline = fittingWirePipeline(maximalPipeline);
  const operations = (pipeline) => [
    ['wire createStreamProcessor', { createStreamProcessor: 'aloneWire', pipeline }],
    ['wire listStreamProcessors', { listStreamProcessors: 1, filter: { name: 'aloneWire' } }],
    ['wire modifyStreamProcessor', { modifyStreamProcessor: 'aloneWire', pipeline }],
    ['wire dropStreamProcessor', { dropStreamProcessor: 'aloneWire' }],
  ];
  const worst = async (pipeline) => {
    const stalls = new Map();
    for (let round = 0; round < OPERATION_ROUNDS; round++) {
      for (const [name, command] of operations(pipeline)) {
        await loopStallMs(server);
        await db.command(command);
        await new Promise((resolve) => setTimeout(resolve, 300));
        stalls.set(name, Math.max(stalls.get(name) ?? 0, await loopStallMs(server)));
      }
    }
    return stalls;
  };
  try {
    const small = await worst(smallPipeline);
    const large = await worst(largePipeline);
    printStalls(`${(BSON.calculateObjectSize({ pipeline: largePipeline }) / 1048576).toFixed(2)} MiB BSON pipeline`, large, small);
  } finally {
    await client.close();
  }
}

/** One hostile client (a child process): sends its kind of request until the phase ends. */
async function attack(kind, url, projectId, token) {
  const auth = { Authorization: `Bearer ${token}`, Accept: ACCEPT, 'Content-Type': 'application/json' };
  const processors = `${url}/api/atlas/v2/groups/${projectId}/streams/hostile/processor`;
  const big = maximalBody();
  const stored = `${url}/api/atlas/v2/groups/${projectId}/streams/hostile/processor/stored`;
  const deep = `{"name":"deep","pipeline":[${'['.repeat(1_000_000)}`;
  const kindBody = kind === 'stored' ? maximalBody(false).replace('"name":"hostile"', '"name":"stored"') : undefined;
  const requests = {
    anonymous: (agent) => send(processors, { method: 'POST', headers: { Accept: ACCEPT, 'Content-Type': 'application/json' }, body: big, agent }),
    maximal: (agent) => send(processors, { method: 'POST', headers: auth, body: big, agent }),
    stored: (agent) => send(stored, { method: 'PATCH', headers: auth, body: kindBody, agent }),
    fetched: (agent) => send(stored, { headers: auth, agent }),
    oversized: (agent) => send(processors, { method: 'POST', headers: { ...auth, 'Content-Length': String(MAX_BODY + 1) }, agent }),
    deep: (agent) => send(processors, { method: 'POST', headers: auth, body: deep, agent }),
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses = {};
  let count = 0;
  process.send('ready');
  const { until } = await new Promise((resolve) => process.once('message', resolve));
  while (Date.now() < until) {
    const status = await requests[kind](agent);
    statuses[status] = (statuses[status] ?? 0) + 1;
    count++;
  }
  process.send({ requests: count, statuses }, () => process.exit(0));
}

/** `onlyOperations`: the one-operation-alone phase only (`node bench/hostile-load.mjs operations`). */
export async function runHostileLoadBench({ onlyOperations = false } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'ase-hostile-'));
  const server = await startEmulator({ dataDir, env: { MONGODB_ATLAS_DB_USERNAME: DB_USER, MONGODB_ATLAS_DB_PASSWORD: DB_PASSWORD } });
  try {
    const token = await bearerToken(server);
    const auth = { Authorization: `Bearer ${token}`, Accept: ACCEPT, 'Content-Type': 'application/json' };
    const created = await send(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams:withSampleConnections`, {
      method: 'POST', headers: { ...auth, Accept: 'application/vnd.atlas.2024-08-05+json' },
      body: JSON.stringify({ name: 'hostile', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } }),
    });
    if (created !== 200) throw new Error(`creating the instance answered ${created}`);
    const processor = await send(`${server.url}/api/atlas/v2/groups/${server.projectId}/streams/hostile/processor`, {
      method: 'POST', headers: auth, body: JSON.stringify({ name: 'stored', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] }),
    });
    if (processor !== 200) throw new Error(`creating the processor answered ${processor}`);
    if (onlyOperations) return await operationStalls(server, token);
    console.log(`hostile load: ${SECONDS} s per phase, ${HOSTILE_CLIENTS} hostile client processes, maximal body ${(Buffer.byteLength(maximalBody()) / 1048576).toFixed(2)} MiB`);
    await phase('alone', server, token);
    await phase('+ maximal bodies, no credentials', server, token, 'anonymous');
    await phase('+ maximal bodies, authenticated (parsed)', server, token, 'maximal');
    await phase('+ maximal valid pipelines, stored and echoed', server, token, 'stored');
    await phase('+ the maximal pipeline stored, fetched', server, token, 'fetched');
    await phase('+ oversized bodies (Content-Length > limit)', server, token, 'oversized');
    await phase('+ 1,000,000 levels of nesting, authenticated', server, token, 'deep');
    await operationStalls(server, token);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'attack') {
  const [, , , kind, url, projectId, token] = process.argv;
  await attack(kind, url, projectId, token);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  await runHostileLoadBench({ onlyOperations: process.argv[2] === 'operations' });
  process.exit(0);
}
