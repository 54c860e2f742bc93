// Wire endpoint benchmark (issues 10 and 12), part of `npm run bench` (`npm run bench:wire` runs
// only this part). The client is the official `mongodb` driver in this process; the emulator
// runs in its own. Three figures, each a ratio to a baseline measured in the same run, the
// median of interleaved rounds with its spread:
//   - sp.process round trip (processStreamProcessor over a `documents` source, then getMore
//     until cursorId 0), docs/s, against the same interactive run through HTTP;
//   - sample round trip: one getMoreSampleStreamProcessor of a running processor's sample
//     (sp.X.sample()), median and p99 latency, against `ping` on the same connection;
//   - a new connection (handshake, SCRAM-SHA-256, ping) against connect + one round trip to a
//     bare `net` echo server.
// None has a target: issue 12 asks for these round trips to be measured, not for a bound, and
// each ratio is still checked against bench/previous.json for a regression beyond its spread.
import net from 'node:net';
import { MongoClient } from 'mongodb';
import { makeInstance, wireClient } from './lib/fixtures.mjs';
import { percentile } from './lib/pool.mjs';
import { bearerToken, sleep, startEmulator, stopChild } from './lib/processes.mjs';
import { figure, fmt, median } from './lib/stats.mjs';

const USER = 'bench';
const PASSWORD = 'bench-pa55word';
const WORKSPACE = 'bench';
/** sample_stream_solar documents per second of the sampled processor: about 15 a getMore. */
const SAMPLE_RATE = 100;
/**
 * The time between two getMores of the sample, a ping halfway. A processor's output reaches
 * the main thread every 100 ms (FLUSH_MS in src/engine/runtime/output-relay.ts), and a getMore
 * that finds the sample empty waits for it: sooner than that, the figure would time the
 * relay's cadence, not the round trip. Those that still wait are counted in the detail.
 */
const GAP_MS = 150;

const stages = [{ $match: { watts: { $gte: 0 } } }, { $addFields: { kw: { $divide: ['$watts', 1000] } } }];

function settings(quick) {
  // DOCS is at most 1,000, the HTTP run's limit (TRY_LIMIT in src/domain/streams/emulator-routes.ts).
  return quick ? { rounds: 2, docs: 1000, samples: 15, connections: 5 } : { rounds: 5, docs: 1000, samples: 80, connections: 20 };
}

async function timed(action) {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/**
 * sp.process as mongosh sends it, with `limit` equal to the input so the cursor ends with the
 * last document (without it the run ends only once its output has settled for 250 ms, a fixed
 * wait that would swamp the ratio). Returns docs/s and how long the command took to answer.
 */
async function processOverWire(admin, documents) {
  const started = performance.now();
  const { name, cursorId } = await admin.command({ processStreamProcessor: [{ $source: { documents } }, ...stages], options: { limit: documents.length } });
  const replyMs = performance.now() - started;
  let received = 0;
  let id = cursorId;
  while (id !== 0) {
    const batch = await admin.command({ getMoreSampleStreamProcessor: name, cursorId: id });
    received += batch.messages.length;
    id = batch.cursorId;
  }
  const ms = performance.now() - started;
  if (received !== documents.length) throw new Error(`sp.process delivered ${received} of ${documents.length}`);
  return { rate: documents.length / (ms / 1000), replyMs };
}

/**
 * The baseline: the same interactive run (startInteractive, same limit) through HTTP, the
 * console's "Try a pipeline" (POST /emulator/v1/.../process), answered as one JSON document.
 * Better than the Admin API path used before (create, start, read the output route): that one
 * stores a processor, its output route carries only the latest 1,000 documents to a late
 * reader, and it ends another way. Here only the door differs, so the ratio is the cost of the
 * wire's cursor (OP_MSG, BSON, getMore batches). (The HTTP run notices its limit at its next
 * 50 ms poll: at most 50 ms in the wire's favour, a few per cent of a run.) Returns docs/s.
 */
async function processOverHttp(server, token, documents) {
  let results = [];
  const ms = await timed(async () => {
    const res = await fetch(`${server.url}/emulator/v1/groups/${server.projectId}/streams/${WORKSPACE}/process`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ pipeline: [{ $source: { documents } }, ...stages], limit: documents.length }),
    });
    if (!res.ok) throw new Error(`the HTTP run answered ${res.status}: ${await res.text()}`);
    ({ results } = await res.json());
  });
  if (results.length !== documents.length) throw new Error(`the HTTP run delivered ${results.length} of ${documents.length}`);
  return documents.length / (ms / 1000);
}

async function processFigure(server, token, admin, { rounds, docs }) {
  const documents = Array.from({ length: docs }, (_, i) => ({ n: i, device: `d${i % 10}`, watts: i % 300 }));
  const wire = [];
  const http = [];
  for (let i = 0; i < rounds; i++) {
    wire.push(await processOverWire(admin, documents));
    http.push(await processOverHttp(server, token, documents));
  }
  const rates = wire.map((w) => w.rate);
  // Starting the run (its worker thread) is most of either door's time at this size: the
  // command's own answer time says how much.
  return figure('wire.process', `sp.process round trip (${fmt(docs)} documents), per the same run through HTTP`, rates.map((w, i) => w / http[i]), {
    baseline: `POST /emulator/v1/.../process, median ${fmt(median(http))} docs/s`,
    detail: `wire median ${fmt(median(rates))} docs/s from processStreamProcessor to cursorId 0, the command answering in a median `
      + `${Math.round(median(wire.map((w) => w.replyMs)))} ms; ${rounds} interleaved rounds`,
  });
}

/**
 * sp.X.sample() on a running processor: startSampleStreamProcessor, then getMore after getMore
 * with its cursor id, GAP_MS apart, and a ping on the same connection halfway between two.
 * Per round, getMore's median and p99 over ping's.
 */
async function sampleFigures(admin, { rounds, samples }) {
  await admin.command({ createStreamProcessor: 'sampled', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] });
  await admin.command({ startStreamProcessor: 'sampled' });
  const p50 = [];
  const p99 = [];
  const all = { getMore: [], ping: [], docs: [] };
  try {
    const { cursorId } = await admin.command({ startSampleStreamProcessor: 'sampled' });
    for (let round = 0; round < rounds; round++) {
      const getMore = [];
      const ping = [];
      for (let i = 0; i < samples; i++) {
        await sleep(GAP_MS / 2);
        ping.push(await timed(() => admin.command({ ping: 1 })));
        await sleep(GAP_MS / 2);
        getMore.push(await timed(async () => {
          const batch = await admin.command({ getMoreSampleStreamProcessor: 'sampled', cursorId });
          all.docs.push(batch.messages.length);
        }));
      }
      getMore.sort((a, b) => a - b);
      ping.sort((a, b) => a - b);
      p50.push(percentile(getMore, 50) / percentile(ping, 50));
      p99.push(percentile(getMore, 99) / percentile(ping, 99));
      all.getMore.push(...getMore);
      all.ping.push(...ping);
    }
  } finally {
    await admin.command({ dropStreamProcessor: 'sampled' });
  }
  const ms = (values, p) => `${percentile([...values].sort((a, b) => a - b), p).toFixed(2)} ms`;
  const empty = all.docs.filter((n) => n === 0).length;
  const detail = `getMore p50 ${ms(all.getMore, 50)}, p99 ${ms(all.getMore, 99)}; median ${median(all.docs)} documents a batch `
    + `(sample_stream_solar at ${fmt(SAMPLE_RATE)}/s, getMores ${GAP_MS} ms apart), ${empty} of ${all.docs.length} found it empty and waited; ${rounds} rounds of ${samples}`;
  return [
    figure('wire.sample', 'sample getMore round trip p50 (sp.X.sample()), per ping on the same connection', p50, {
      lowerIsBetter: true, baseline: `ping p50 ${ms(all.ping, 50)}`, detail,
    }),
    figure('wire.sample.p99', 'sample getMore round trip p99, per ping p99 on the same connection', p99, {
      lowerIsBetter: true, baseline: `ping p99 ${ms(all.ping, 99)}`, detail: `${rounds} rounds of ${samples}`,
    }),
  ];
}

async function connectMs(connectionString) {
  const client = new MongoClient(connectionString, {
    auth: { username: USER, password: PASSWORD }, authSource: 'admin', authMechanism: 'SCRAM-SHA-256', directConnection: true, maxPoolSize: 1,
  });
  try {
    return await timed(async () => {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
    });
  } finally {
    await client.close();
  }
}

function echoMs(port) {
  return timed(() => new Promise((resolveEcho, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('x'));
    socket.once('data', () => { socket.destroy(); resolveEcho(); });
    socket.once('error', reject);
  }));
}

async function connectionFigure(connectionString, { rounds, connections }) {
  const echo = net.createServer((socket) => socket.pipe(socket));
  await new Promise((r) => echo.listen(0, '127.0.0.1', r));
  const { port } = echo.address();
  const ratios = [];
  const all = { wire: [], echo: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const wire = [];
      const bare = [];
      for (let i = 0; i < connections; i++) {
        wire.push(await connectMs(connectionString));
        bare.push(await echoMs(port));
      }
      ratios.push(median(wire) / median(bare));
      all.wire.push(...wire);
      all.echo.push(...bare);
    }
  } finally {
    echo.close();
  }
  return figure('wire.connect', 'new wire connection (handshake + SCRAM-SHA-256 + ping), per a bare net echo round trip', ratios, {
    lowerIsBetter: true, baseline: `connect + 1 byte echoed by a bare net server, median ${median(all.echo).toFixed(2)} ms`,
    detail: `wire median ${median(all.wire).toFixed(1)} ms; ${rounds} rounds of ${connections}, alternating`,
  });
}

export async function runWireBench({ quick = false } = {}) {
  const scale = settings(quick);
  const server = await startEmulator({
    env: { MONGODB_ATLAS_DB_USERNAME: USER, MONGODB_ATLAS_DB_PASSWORD: PASSWORD, ATLAS_STREAMS_WIRE_PORT_BASE: '0', ATLAS_STREAMS_SAMPLE_RATE: String(SAMPLE_RATE) },
  });
  try {
    const token = await bearerToken(server);
    await makeInstance(server, token, WORKSPACE, 0, { sampleConnections: { solar: true } });
    const { client, connectionString } = await wireClient(server, token, WORKSPACE, { username: USER, password: PASSWORD });
    try {
      const admin = client.db('admin');
      return [await processFigure(server, token, admin, scale), ...await sampleFigures(admin, scale), await connectionFigure(connectionString, scale)];
    } finally {
      await client.close();
    }
  } finally {
    await stopChild(server.child);
  }
}
