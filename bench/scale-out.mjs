// Scale-out on PostgreSQL (issue 14), in interleaved rounds, each figure a ratio to one node
// in the same round:
// - API requests/s: two wrk processes of 16 connections each, both against one API node,
//   then one against each of two API nodes (same load generator, the nodes differ);
// - Kafka events/s through the kcat mock on a 4-partition topic: one runner running one
//   processor, then two runners each running one of two processors that share a consumer
//   group (group_id), so that Kafka splits the topic's partitions between them.
//   The kcat mock broker, when a consumer joins a group that is already up, holds every
//   member's rejoin for the session timeout less a second (9 s here: rd_kafka_mock_cgrp_rebalance
//   in librdkafka's rdkafka_mock_cgrp.c) where Kafka goes on as soon as all members have
//   rejoined; a two-runner phase whose second consumer came after the first's join window
//   then stood still for 9 s, which turned a 1.1 ratio into 0.08. Such waits (no output for
//   GROUP_WAIT_MS or more) are left out of the rate and counted in the figure's detail.
// Needs PostgreSQL: ATLAS_STREAMS_TEST_DATABASE_URL, or else it starts one with
// scripts/ci-postgres.sh on port 55433 and stops it afterwards. Runs its measuring half as a
// process of its own under tsx (it reuses the TypeScript test support for nodes and Kafka):
//   node --import tsx bench/scale-out.mjs '{"rounds":3,"seconds":3,"events":40000}'
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root } from './lib/processes.mjs';
import { figure, fmt, median } from './lib/stats.mjs';
import { ensureWrk, findOrInstall } from './lib/wrk.mjs';

const SELF = fileURLToPath(import.meta.url);
const sum = (values) => values.reduce((a, b) => a + b, 0);
/** No output for this long mid-phase is the mock broker holding the group, not the processors being slow. */
const GROUP_WAIT_MS = 3000;

export async function runScaleOutBench({ quick }) {
  if (quick) return [{ id: 'scaleout', label: 'scale-out on PostgreSQL (API nodes, Kafka runners)', detail: 'full mode only: it needs PostgreSQL and several nodes' }];
  if (!findOrInstall('kcat')) throw new Error('the scale-out bench needs kcat (apt-get install -y kcat) for its mock Kafka cluster');
  let databaseUrl = process.env.ATLAS_STREAMS_TEST_DATABASE_URL;
  let startedDatabase;
  if (!databaseUrl) {
    const env = { ...process.env, ATLAS_STREAMS_TEST_PGPORT: '55433' };
    const exports = execFileSync(`${root}/scripts/ci-postgres.sh`, ['start'], { env, encoding: 'utf8' });
    databaseUrl = /ATLAS_STREAMS_TEST_DATABASE_URL=(\S+)/.exec(exports)[1];
    startedDatabase = { ...env, ATLAS_STREAMS_TEST_PGDATA: /ATLAS_STREAMS_TEST_PGDATA=(\S+)/.exec(exports)[1] };
  }
  try {
    const job = JSON.stringify({ rounds: 3, seconds: 3, events: 40_000 });
    const rounds = await new Promise((resolveRun, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', SELF, job], {
        cwd: root, env: { ...process.env, ATLAS_STREAMS_TEST_DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => { out += c; });
      child.stderr.on('data', (c) => { err += c; });
      child.once('exit', (code) => (code === 0 ? resolveRun(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`scale-out bench failed: ${err.slice(-3000)}`))));
    });
    const pick = (key) => rounds.map((r) => r[key]);
    return [
      figure('scaleout.api', 'API GET one connection (bearer, wrk), two API nodes per one, on PostgreSQL',
        rounds.map((r) => r.apiTwo / r.apiOne), {
          baseline: `one API node ${fmt(median(pick('apiOne')))} req/s`,
          detail: `two API nodes ${fmt(median(pick('apiTwo')))} req/s; 32 connections either way`,
        }),
      figure('scaleout.kafka', 'Kafka → Kafka events/s, two runners per one (4-partition topic, one consumer group)',
        rounds.map((r) => r.kafkaTwo / r.kafkaOne), {
          baseline: `one runner ${fmt(median(pick('kafkaOne')))} events/s`,
          detail: `two runners ${fmt(median(pick('kafkaTwo')))} events/s; every event counted once; `
            + `consumers the mock broker stopped mid-run (their partitions moved to the other): ${sum(pick('crashedConsumers'))}; `
            + `the mock broker's group waits left out of the rates: ${sum(pick('groupWaits'))} (${(sum(pick('groupWaitMs')) / 1000).toFixed(1)} s in all; `
            + `counted in, two runners per one would be ${rounds.map((r) => (r.kafkaTwoWithWaits / r.kafkaOneWithWaits).toFixed(2)).join(', ')})`,
        }),
    ];
  } finally {
    if (startedDatabase) execFileSync(`${root}/scripts/ci-postgres.sh`, ['stop'], { env: startedDatabase, stdio: 'ignore' });
  }
}

async function measure({ rounds, seconds, events }) {
  const { Kafka, logLevel } = await import('kafkajs');
  const { runWrk } = await import('./lib/wrk.mjs');
  const { bearerToken, sleep } = await import('./lib/processes.mjs');
  const { makeInstance, streamsUrl } = await import('./lib/fixtures.mjs');
  const { ACCEPT } = await import('../src/testing/harness.ts');
  const { createTestSchema } = await import('../src/testing/postgres.ts');
  const { clusterEnvironment, startNodes, stopNodes } = await import('../src/testing/cluster.ts');
  const { startMockKafka } = await import('../src/engine/testing/kcat-mock.ts');
  const { countSequence, produceSequence } = await import('../src/engine/testing/kafka-sequence.ts');

  const wrk = ensureWrk();
  const schema = await createTestSchema(process.env.ATLAS_STREAMS_TEST_DATABASE_URL);
  const cluster = clusterEnvironment(schema.url);
  const mock = await startMockKafka();
  const kafka = new Kafka({ brokers: [mock.bootstrapServers], logLevel: logLevel.NOTHING });
  const nodes = await startNodes(cluster, [['--role', 'api'], ['--role', 'api'], ['--role', 'runner']]);
  const [apiA, apiB, runner1] = nodes;
  let runner2;
  const results = [];
  try {
    const credentials = { clientId: cluster.clientId, clientSecret: cluster.clientSecret };
    const token = await bearerToken({ url: apiA.url, ...credentials });
    const emulatorA = { url: apiA.url, projectId: apiA.projectId };
    await makeInstance(emulatorA, token, 'bench', 1);
    const headers = { Accept: ACCEPT.streams, Authorization: `Bearer ${token}` };
    const call = async (path, method, body) => {
      const accept = path.includes('/processor') ? ACCEPT.processors : ACCEPT.streams;
      const res = await fetch(streamsUrl(emulatorA, path), {
        method, headers: { ...headers, Accept: accept, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body && JSON.stringify(body) });
      if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
      return res.status === 204 ? undefined : res.json();
    };
    await call('/bench/connections', 'POST', { name: 'kafka', type: 'Kafka', bootstrapServers: mock.bootstrapServers, security: { protocol: 'PLAINTEXT' } });

    /** Requests/s of two wrk processes at once, 16 connections each, at these two nodes. */
    const twoWrks = async (first, second) => {
      const url = (node) => `${node.url}/api/atlas/v2/groups/${node.projectId}/streams/bench/connections/c0`;
      const runs = await Promise.all([first, second].map((node) => runWrk(wrk, url(node), { connections: 16, seconds, headers })));
      for (const run of runs) if (run.non2xx) throw new Error(`GET: ${run.non2xx} answers were not 200`);
      return runs[0].rps + runs[1].rps;
    };

    /**
     * Events/s of `processors` processors sharing one consumer group, from the first output to
     * the last event, without the mock broker's group waits (GROUP_WAIT_MS); and with them.
     */
    let phase = 0;
    let crashedConsumers = 0;
    let groupWaits = 0;
    let groupWaitMs = 0;
    const kafkaRun = async (processors) => {
      phase += 1;
      const input = `scale-in-${phase}`;
      const output = `scale-out-${phase}`;
      await produceSequence(kafka, input, 0, events);
      const seen = new Map();
      const reader = await countSequence(kafka, output, `scale-reader-${phase}`, seen);
      const names = Array.from({ length: processors }, (_, i) => `p${phase}x${i}`);
      for (const name of names) {
        await call('/bench/processor', 'POST', { name, pipeline: [
          { $source: { connectionName: 'kafka', topic: input, config: { auto_offset_reset: 'earliest', group_id: `scale-group-${phase}` } } },
          { $project: { _id: 0, seq: 1 } },
          { $emit: { connectionName: 'kafka', topic: output } },
        ] });
      }
      // Together, so that their consumers usually join the group in one go.
      await Promise.all(names.map((name) => call(`/bench/processor/${name}:start`, 'POST')));
      let first;
      let progress = { at: 0, seen: 0 };
      let waitedMs = 0;
      const deadline = Date.now() + 180_000;
      for (;;) {
        const now = performance.now();
        const count = seen.size;
        if (count > 0) first ??= { at: now, seen: count };
        if (count !== progress.seen) {
          if (progress.seen > 0 && now - progress.at >= GROUP_WAIT_MS) {
            waitedMs += now - progress.at;
            groupWaits += 1;
          }
          progress = { at: now, seen: count };
        }
        if (count >= events) break;
        if (Date.now() > deadline) throw new Error(`${processors} processor(s) moved ${count} of ${events} events in 180 s`);
        await sleep(20);
      }
      const elapsedMs = progress.at - first.at;
      groupWaitMs += waitedMs;
      const rate = (withWaits) => (events - first.seen) / ((elapsedMs - (withWaits ? 0 : waitedMs)) / 1000);
      for (const name of names) {
        // The kcat mock now and then answers a group sync with an error that stops one
        // consumer of the shared group (its processor FAILs); the other takes its partitions
        // over and every event still arrives. Counted and told, not hidden.
        if ((await call(`/bench/processor/${name}`, 'GET')).state === 'FAILED') crashedConsumers += 1;
        else await call(`/bench/processor/${name}:stop`, 'POST');
        await call(`/bench/processor/${name}`, 'DELETE');
      }
      await reader.disconnect();
      return { rate: rate(false), withWaits: rate(true) };
    };

    for (let round = 0; round < rounds; round++) {
      const apiOne = await twoWrks(apiA, apiA);
      const apiTwo = await twoWrks(apiA, apiB);
      const one = await kafkaRun(1);
      [runner2] = await startNodes(cluster, [['--role', 'runner']]);
      await sleep(2000); // one heartbeat: runner1 counts it live and claims only its share
      const two = await kafkaRun(2);
      await stopNodes([runner2]);
      runner2 = undefined;
      results.push({ apiOne, apiTwo, kafkaOne: one.rate, kafkaTwo: two.rate, kafkaOneWithWaits: one.withWaits, kafkaTwoWithWaits: two.withWaits,
        crashedConsumers, groupWaits, groupWaitMs });
      crashedConsumers = 0;
      groupWaits = 0;
      groupWaitMs = 0;
    }
  } finally {
    await stopNodes([...nodes, runner2]);
    await mock.stop();
    await schema.drop();
  }
  return results;
}

if (process.argv[1] === SELF) {
  const results = await measure(JSON.parse(process.argv[2]));
  process.stdout.write(`${JSON.stringify(results)}\n`);
  process.exit(0);
}
