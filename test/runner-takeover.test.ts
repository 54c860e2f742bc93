// Two API nodes and two processor runners, separate processes on one PostgreSQL database. A
// Kafka-to-Kafka processor is started through one API node; the runner that holds it is
// killed (SIGKILL) mid-stream; the other runner takes it over from its last checkpoint under
// a higher lease epoch, every input event still arrives (at least once), and both API nodes
// show the processor's stats wherever it runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchProcessorOutput } from '../src/cli/watch.js';
import { kcatAvailable } from '../src/engine/testing/kcat-mock.js';
import { startNodes, stopNodes, until } from '../src/testing/cluster.js';
import { ACCEPT, callDigest, type CallOptions } from '../src/testing/harness.js';
import { startTakeoverWorld, type TakeoverWorld } from '../src/testing/takeover.js';
import { SKIP_MESSAGE, testDatabaseUrl } from '../src/testing/postgres.js';
import { stopServerProcess, type ServerProcess } from '../src/testing/server-process.js';

const EVENTS = 6000;
const serverUrl = testDatabaseUrl();
if (!serverUrl) console.warn(SKIP_MESSAGE);

// CI installs kcat and PostgreSQL (.ci/run); only a developer machine without them skips this.
describe.skipIf(!serverUrl || (!kcatAvailable() && !process.env['CI']))('processor runners with leases', () => {
  let world: TakeoverWorld;
  let nodes: ServerProcess[] = [];

  beforeAll(async () => {
    // Half now; the rest once the runner holding the processor is dead, so that the survivor
    // must take it over to deliver them, however fast the first runner went.
    world = await startTakeoverWorld(serverUrl!, { input: 'lease-in', output: 'lease-out', reader: 'lease-test-reader' }, EVENTS / 2);
  }, 60_000);

  afterAll(async () => {
    await stopNodes(nodes);
    await world?.close();
  });

  it('takes a killed runner processor over from its checkpoint; every event arrives; the epoch fences the old owner', async () => {
    const { cluster, mock, seen, produce, lease, db } = world;
    // Sample-rate and log options apply to all; only the roles differ.
    nodes = await startNodes(cluster, [['--role', 'api'], ['--role', 'api'], ['--role', 'runner'], ['--role', 'runner']]);
    const [apiA, apiB, runner1, runner2] = nodes as [ServerProcess, ServerProcess, ServerProcess, ServerProcess];
    const call = (node: ServerProcess, path: string, options: CallOptions) =>
      callDigest(`${node.url}/api/atlas/v2/groups/${node.projectId}/streams${path}`, cluster.owner, options);

    expect((await call(apiA, '', { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'leased', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } })).status).toBe(200);
    expect((await call(apiB, '/leased/connections', { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'kafka', type: 'Kafka', bootstrapServers: mock.bootstrapServers, security: { protocol: 'PLAINTEXT' } } })).status).toBe(200);
    const pipeline = [
      { $source: { connectionName: 'kafka', topic: 'lease-in', config: { auto_offset_reset: 'earliest' } } },
      { $project: { _id: 0, seq: 1 } },
      { $emit: { connectionName: 'kafka', topic: 'lease-out' } },
    ];
    expect((await call(apiA, '/leased/processor', { method: 'POST', accept: ACCEPT.processors, body: { name: 'relay', pipeline } })).status).toBe(200);
    expect((await call(apiB, '/leased/processor/relay:start', { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);

    // A runner claims it at once (NOTIFY), under epoch 1.
    await until(async () => (await lease())?.runner_id != null, 'a runner to claim the processor', 20_000);
    const first = (await lease())!;
    expect(first.epoch).toBe('1');
    const holder = [runner1, runner2].find((r) => first.runner_id!.includes(`-${r.child.pid}-`))!;
    const survivor = holder === runner1 ? runner2 : runner1;
    expect(holder).toBeDefined();

    // Either API node shows the running processor's stats, published by the runner.
    for (const api of [apiA, apiB]) {
      await until(async () => {
        const got = await call(api, '/leased/processor/relay', { accept: ACCEPT.processors });
        return got.json?.stats?.inputMessageCount > 0;
      }, 'stats on an API node', 30_000);
    }

    await until(() => seen.size >= 300, 'the first output');
    await stopServerProcess(holder.child, 'SIGKILL');
    await produce(EVENTS / 2, EVENTS);

    await until(() => seen.size === EVENTS, `all ${EVENTS} events (had ${seen.size} of them)`);
    const missing = Array.from({ length: EVENTS }, (_, i) => i).filter((i) => !seen.has(i));
    expect(missing).toEqual([]);

    // The survivor holds it under a higher epoch: the killed runner's epoch can write nothing.
    const after = (await lease())!;
    expect(after.runner_id).toContain(`-${survivor.child.pid}-`);
    expect(Number(after.epoch)).toBeGreaterThan(Number(first.epoch));
    const stale = await db.query("SELECT 1 FROM processor_leases WHERE runner_id = $1 AND epoch = $2", [first.runner_id, first.epoch]);
    expect(stale.rowCount).toBe(0);
    for (const api of [apiA, apiB]) {
      const got = await call(api, '/leased/processor/relay', { accept: ACCEPT.processors });
      expect(got.json.state).toBe('STARTED');
    }
  }, 180_000);

  it("follows a processor's output from an API node while it runs on a runner", async () => {
    const { cluster } = world;
    const [apiA] = nodes as [ServerProcess];
    const base = `${apiA.url}/api/atlas/v2/groups/${apiA.projectId}/streams`;
    expect((await callDigest(base, cluster.owner, { method: 'POST', accept: ACCEPT.streams,
      body: { name: 'solar', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' }, sampleConnections: { solar: true } } })).status).toBe(200);
    const pipeline = [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }];
    expect((await callDigest(`${base}/solar/processor`, cluster.owner, { method: 'POST', accept: ACCEPT.processors, body: { name: 'sun', pipeline } })).status).toBe(200);
    expect((await callDigest(`${base}/solar/processor/sun:start`, cluster.owner, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    const lines: string[] = [];
    const abort = new AbortController();
    await watchProcessorOutput({
      url: apiA.url, projectId: apiA.projectId, instance: 'solar', processor: 'sun', ...cluster.owner, signal: abort.signal,
      onLine: (line) => { lines.push(line); if (lines.length >= 3) abort.abort(); },
    }).catch((error: unknown) => { if (!abort.signal.aborted) throw error; });
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(lines[0]!)).toHaveProperty('device_id');
  }, 60_000);
});
