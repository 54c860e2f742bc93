// Runners on separate hosts: each runner in a network namespace of its own, reaching
// PostgreSQL over one virtual network and Kafka over another. Mid-stream, the host running a
// Kafka-to-Kafka processor loses its database network (every packet dropped, as behind a dead
// switch: no error, no reset) while it still reaches Kafka. It stops writing before its lease
// can lapse, the runner on the other host takes the processor over under a higher epoch, and
// every input event arrives at least once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kcatAvailable } from '../src/engine/testing/kcat-mock.js';
import { startNodes, stopNodes, until } from '../src/testing/cluster.js';
import { ACCEPT, callDigest, type CallOptions } from '../src/testing/harness.js';
import { startTakeoverWorld, type TakeoverWorld } from '../src/testing/takeover.js';
import { createNetHost, netnsUnavailableReason, type NetHost } from '../src/testing/netns.js';
import { SKIP_MESSAGE, testDatabaseUrl } from '../src/testing/postgres.js';
import { CLI, startServerProcess, type ServerProcess } from '../src/testing/server-process.js';

const EVENTS = 6000;
const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);
const netnsProblem = netnsUnavailableReason();
// In CI (.ci/run runs as root and installs iproute2) a missing capability fails the test below.
if (netnsProblem && !process.env['CI']) console.warn(`separate-host runner test skipped: ${netnsProblem}`);

interface LogLine { msg: string; time: number; epoch?: number; processors?: Array<{ epoch: number }> }
const logLines = (node: ServerProcess): LogLine[] =>
  node.text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);

describe.skipIf(!serverUrl || ((netnsProblem || !kcatAvailable()) && !process.env['CI']))('runners on separate hosts', () => {
  let world: TakeoverWorld;
  let api: ServerProcess | undefined;
  const runners: ServerProcess[] = [];
  const hosts: NetHost[] = [];

  beforeAll(async () => {
    if (netnsProblem) throw new Error(`cannot make the test's hosts: ${netnsProblem}`);
    world = await startTakeoverWorld(serverUrl!, { input: 'hosts-in', output: 'hosts-out', reader: 'hosts-test-reader' }, EVENTS / 2);
    const { schema, cluster, mock } = world;

    const direct = new URL(schema.url);
    const brokerPort = Number(mock.bootstrapServers.split(':').pop());
    for (const index of [0, 1]) {
      const host = await createNetHost(index);
      hosts.push(host);
      // The connection stored through the API names 127.0.0.1:port: that is Kafka on every host.
      await host.mirrorLoopbackPort(brokerPort);
      const database = await host.reachDatabase(Number(direct.port || 5432));
      const url = new URL(schema.url);
      url.hostname = database.host;
      url.port = String(database.port);
      runners.push(await startServerProcess(['--port', '0', '--log-level', 'info', '--role', 'runner'],
        { ...cluster.env, ATLAS_STREAMS_DATABASE_URL: url.toString() }, host.command([process.execPath, CLI])));
    }
    [api] = await startNodes(cluster, [['--role', 'api']]);
  }, 90_000);

  afterAll(async () => {
    await stopNodes([api, ...runners]);
    for (const host of hosts) await host.close();
    await world?.close();
  });

  it('moves the processor off a host cut from the database; every event arrives; the old epoch stopped before the new one began', async () => {
    const { cluster, mock, seen, produce, lease } = world;
    const call = (path: string, options: CallOptions) =>
      callDigest(`${api!.url}/api/atlas/v2/groups/${api!.projectId}/streams${path}`, cluster.owner, options);
    expect((await call('', { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'hosts', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } })).status).toBe(200);
    expect((await call('/hosts/connections', { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'kafka', type: 'Kafka', bootstrapServers: mock.bootstrapServers, security: { protocol: 'PLAINTEXT' } } })).status).toBe(200);
    const pipeline = [
      { $source: { connectionName: 'kafka', topic: 'hosts-in', config: { auto_offset_reset: 'earliest' } } },
      { $project: { _id: 0, seq: 1 } },
      { $emit: { connectionName: 'kafka', topic: 'hosts-out' } },
    ];
    expect((await call('/hosts/processor', { method: 'POST', accept: ACCEPT.processors, body: { name: 'relay', pipeline } })).status).toBe(200);
    expect((await call('/hosts/processor/relay:start', { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);

    await until(async () => (await lease())?.runner_id != null, 'a runner to claim the processor', 30_000);
    const first = (await lease())!;
    const holderIndex = runners.findIndex((r) => first.runner_id!.includes(`-${r.child.pid}-`));
    expect(holderIndex).toBeGreaterThanOrEqual(0);
    const holder = runners[holderIndex]!;
    const survivor = runners[1 - holderIndex]!;

    await until(() => seen.size >= 300, 'the first output');
    hosts[holderIndex]!.cutDatabaseNetwork();
    // The rest once the cut-off runner has stopped, so that only a takeover can deliver them.
    const selfStop = () => logLines(holder).find((l) => l.msg === 'cannot renew leases in time: stopping every processor here');
    await until(() => selfStop() !== undefined, 'the cut-off runner to stop its processor', 30_000);
    await produce(EVENTS / 2, EVENTS);

    await until(() => seen.size === EVENTS, `all ${EVENTS} events (had ${seen.size} of them)`);
    const missing = Array.from({ length: EVENTS }, (_, i) => i).filter((i) => !seen.has(i));
    expect(missing).toEqual([]);

    const after = (await lease())!;
    expect(after.runner_id).toContain(`-${survivor.child.pid}-`);
    expect(Number(after.epoch)).toBeGreaterThan(Number(first.epoch));
    // The cut-off runner, still alive and still reaching Kafka, stopped the processor under its
    // epoch before the survivor claimed it under the next: never two writers at once.
    const stopped = selfStop();
    expect(stopped?.processors).toEqual([{ processorId: expect.any(String), epoch: Number(first.epoch) }]);
    const claimed = logLines(survivor).find((l) => l.msg === 'runner claimed processor' && l.epoch === Number(after.epoch));
    expect(claimed).toBeDefined();
    expect(stopped!.time).toBeLessThan(claimed!.time);
    expect(holder.child.exitCode).toBeNull();
  }, 180_000);
});
