// Processor failover (`:startWith` `failover`, StreamsStartProcessorFailover in the 2026 cut):
// a processor started in a failover region reaches each system through that connection's
// failover connection there. The primary Kafka cluster here is unreachable; the failover one
// is librdkafka's mock cluster.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSequence, produceSequence } from '../src/engine/testing/kafka-sequence.js';
import { kcatAvailable, startMockKafka, type MockKafka } from '../src/engine/testing/kcat-mock.js';
import { startTestServer, type TestServer } from '../src/testing/harness.js';
import { createConnection, createInstance, createProcessor, expectError, streamsClient, streamsPath, type StreamsClient } from './streams-fixtures.js';

const tenant = 'fo';
const FAILOVER_REGION = 'OREGON_USA';

// CI installs kcat (.ci/run); only a developer machine without it skips this.
describe.skipIf(!kcatAvailable() && !process.env['CI'])('processor failover to a failover connection', () => {
  let server: TestServer;
  let owner: StreamsClient;
  let groupId: string;
  let mock: MockKafka;
  let kafka: Kafka;

  beforeAll(async () => {
    mock = await startMockKafka();
    kafka = new Kafka({ brokers: [mock.bootstrapServers], logLevel: logLevel.NOTHING });
    server = await startTestServer();
    owner = streamsClient(server);
    groupId = server.projectId;
    await createInstance(owner, groupId, tenant);
    // Nothing listens on port 1: the primary cluster is down.
    await createConnection(owner, groupId, tenant, { name: 'events', type: 'Kafka', bootstrapServers: '127.0.0.1:1', security: { protocol: 'PLAINTEXT' } });
    const failover = await owner.call('createFailoverConnection', streamsPath(groupId, `/${tenant}/connections/events/failoverConnections`), {
      method: 'POST', body: { type: 'Kafka', region: FAILOVER_REGION, bootstrapServers: mock.bootstrapServers, security: { protocol: 'PLAINTEXT' } },
    });
    expect(failover.status, failover.text).toBe(201);
    await createProcessor(owner, groupId, tenant, {
      name: 'relay',
      pipeline: [
        { $source: { connectionName: 'events', topic: 'fo-in', config: { auto_offset_reset: 'earliest' } } },
        { $project: { _id: 0, seq: 1 } },
        { $emit: { connectionName: 'events', topic: 'fo-out' } },
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await mock?.stop();
  });

  const path = (action = '') => streamsPath(groupId, `/${tenant}/processor/relay${action}`);
  const startWith = (body: unknown) => owner.call('startStreamProcessorWith', path(':startWith'), { method: 'POST', body });
  const state = async () => (await owner.call('getStreamProcessor', path())).json as { state: string; stats: { errorMsg?: string } };

  it('refuses a region that is neither the workspace\'s nor one with failover connections; a dry run changes nothing', async () => {
    const bad = await startWith({ failover: { region: 'DUBLIN_IRL' } });
    expectError(bad, 400, 'VALIDATION_ERROR', 'The value DUBLIN_IRL of attribute failover.region is invalid.');
    expect(bad.json.badRequestDetail.fields[0].description).toContain(FAILOVER_REGION);
    const dry = await startWith({ failover: { region: FAILOVER_REGION, dryRun: true } });
    expect(dry.status, dry.text).toBe(200);
    expect((await state()).state).toBe('CREATED');
  });

  it('in its own region the processor cannot reach the primary cluster; failed over, it reads and writes through the failover cluster', async () => {
    const primary = await owner.call('startStreamProcessor', path(':start'), { method: 'POST' });
    // The engine answers the start once the source tried to connect: the processor ends FAILED either way.
    const deadline = Date.now() + 60_000;
    while ((await state()).state !== 'FAILED' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const failed = await state();
    expect(failed.state, primary.text).toBe('FAILED');
    expect(failed.stats.errorMsg).toContain('events');

    const seen = new Map<number, number>();
    await produceSequence(kafka, 'fo-in', 0, 50);
    const reader = await countSequence(kafka, 'fo-out', 'fo-reader', seen);
    const moved = await startWith({ failover: { region: FAILOVER_REGION, mode: 'GRACEFUL' } });
    expect(moved.status, moved.text).toBe(200);
    const until = Date.now() + 60_000;
    while (seen.size < 50 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await reader.disconnect();
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect((await state()).state).toBe('STARTED');
    expect((await owner.call('stopStreamProcessor', path(':stop'), { method: 'POST' })).status).toBe(200);
  }, 150_000);

  it('moves a running processor back to the workspace\'s region (GRACEFUL: stopped first), where the primary cluster is still down', async () => {
    expect((await startWith({ failover: { region: FAILOVER_REGION } })).status).toBe(200);
    expect((await state()).state).toBe('STARTED');
    const plainStart = await owner.call('startStreamProcessor', path(':start'), { method: 'POST' });
    expectError(plainStart, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect((await startWith({ failover: { region: 'VIRGINIA_USA', dryRun: true } })).status).toBe(200);
    expect((await state()).state).toBe('STARTED');

    const back = await startWith({ failover: { region: 'VIRGINIA_USA', mode: 'GRACEFUL' } });
    const deadline = Date.now() + 60_000;
    while ((await state()).state !== 'FAILED' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const failed = await state();
    expect(failed.state, back.text).toBe('FAILED');
    expect(failed.stats.errorMsg).toContain('events');
  }, 150_000);
});
