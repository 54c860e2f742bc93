import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProcessorHost } from '../src/domain/streams/processor-host.js';
import { ACCEPT, digestClient, startTestServer, type Client, type TestServer } from '../src/testing/harness.js';
import { createProjectKey } from './identity-helpers.js';
import type { ProcessorDefinition } from '../src/engine/contract.js';
import {
  createConnection, createInstance, createProcessor, downloadGzipLines, expectError, KAFKA_SECRET, kafkaConnection, samplePipeline, SSL_KEY, SSL_KEY_PASSWORD,
  streamsClient, streamsPath, type StreamsClient,
} from './streams-fixtures.js';

let server: TestServer;
let owner: StreamsClient;
let raw: Client;
let groupId: string;
const tenant = 'proc';

beforeAll(async () => {
  server = await startTestServer();
  owner = streamsClient(server);
  raw = digestClient(server, server.owner);
  groupId = server.projectId;
  await createInstance(owner, groupId, tenant, { sampleConnections: { solar: true } });
  await createConnection(owner, groupId, tenant, { name: 'hook', type: 'Https', url: 'https://example.com' });
  await createConnection(owner, groupId, tenant, { name: 'atlas', type: 'Cluster', clusterName: 'Cluster0' });
});
afterAll(async () => { await server.close(); });

const procPath = (name = '', action = '') => streamsPath(groupId, `/${tenant}/processor${name ? `/${name}` : ''}${action}`);
const get = (name: string) => owner.call('getStreamProcessor', procPath(name));
const start = (name: string) => owner.call('startStreamProcessor', procPath(name, ':start'), { method: 'POST' });
const stop = (name: string) => owner.call('stopStreamProcessor', procPath(name, ':stop'), { method: 'POST' });
const modify = (name: string, body: unknown) => owner.call('updateStreamProcessor', procPath(name), { method: 'PATCH', body });
const remove = (name: string) => owner.call('deleteStreamProcessor', procPath(name), { method: 'DELETE' });

describe('create, get, list', () => {
  it('creates (2024-05-30) keeping the pipeline exactly as written', async () => {
    const pipeline = [
      { $source: { connectionName: 'sample_stream_solar' } },
      { $project: { z: 1, a: 1, m: { $add: ['$obs.watts', 1] } } },
      { $emit: { connectionName: '__testLog' } },
    ];
    const res = await owner.call('createStreamProcessor', procPath(), { method: 'POST', body: { name: 'ordered', pipeline } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2024-05-30+json;charset=utf-8');
    expect(res.json).toEqual({ _id: expect.stringMatching(/^[a-f0-9]{24}$/), name: 'ordered', pipeline });
    expect(res.text).toContain('{"$project":{"z":1,"a":1,"m":{"$add":["$obs.watts",1]}}}');
    const got = await get('ordered');
    expect(got.json).toMatchObject({ _id: res.json._id, name: 'ordered', pipeline, state: 'CREATED' });
    expect(got.json.stats).toMatchObject({
      name: 'ordered', processorId: res.json._id, status: 'created', inputMessageCount: 0, outputMessageCount: 0, dlqMessageCount: 0,
      inputMessageSize: 0, outputMessageSize: 0, dlqMessageSize: 0, memoryTrackerBytes: 0, stateSize: 0, scaleFactor: 1, ok: 1,
    });
    expect(got.json.stats.operatorStats.map((o: { name: string }) => o.name)).toEqual(['$source', '$project', '$emit']);
  });

  it('refuses bad pipelines with STREAM_PROCESSOR_GENERIC_ERROR saying what is wrong', async () => {
    const post = (body: unknown) => owner.call('createStreamProcessor', procPath(), { method: 'POST', body });
    const noSink = await post({ name: 'bad', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }] });
    expectError(noSink, 400, 'STREAM_PROCESSOR_GENERIC_ERROR', 'Streams Processor with this name (bad) had a problem occur: the last stage must be $emit, $merge or $https.', ['bad', 'the last stage must be $emit, $merge or $https']);
    const unknown = await post({ name: 'bad', pipeline: [{ $source: { connectionName: 'X' } }, { $emit: { connectionName: '__testLog' } }] });
    expectError(unknown, 400, 'STREAM_PROCESSOR_GENERIC_ERROR',
      'Streams Processor with this name (bad) had a problem occur: connection named X does not exist. Check sp.listConnections() for available connections.');
    const group = await post({ name: 'bad', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $group: { _id: null } }, { $emit: { connectionName: '__testLog' } }] });
    expectError(group, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    const dlqMissing = await post({ name: 'bad', pipeline: samplePipeline(), options: { dlq: { connectionName: 'nope', db: 'd', coll: 'c' } } });
    expect(dlqMissing.json.detail).toContain('connection named nope does not exist');
    const dlqType = await post({ name: 'bad', pipeline: samplePipeline(), options: { dlq: { connectionName: 'hook', db: 'd', coll: 'c' } } });
    expect(dlqType.json.detail).toContain('must be a Cluster connection');
    expectError(await post({ name: 'bad' }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ pipeline: samplePipeline() }), 400, 'MISSING_ATTRIBUTE');
    expectError(await post({ name: 'bad', pipeline: samplePipeline(), state: 'STARTED' }), 400, 'INVALID_ATTRIBUTE');
    expectError(await get('bad'), 404, 'STREAM_PROCESSOR_NOT_FOUND');
  });

  it('answers 409 for a duplicate name and 404 under a missing instance', async () => {
    await createProcessor(owner, groupId, tenant, { name: 'dup', pipeline: samplePipeline() });
    const dup = await owner.call('createStreamProcessor', procPath(), { method: 'POST', body: { name: 'dup', pipeline: samplePipeline() } });
    expectError(dup, 409, 'STREAM_PROCESSOR_NAME_ALREADY_EXISTS');
    const missing = await owner.call('createStreamProcessor', streamsPath(groupId, '/nope/processor'), { method: 'POST', body: { name: 'x', pipeline: samplePipeline() } });
    expectError(missing, 404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME');
    expectError(await owner.call('getStreamProcessors', streamsPath(groupId, '/nope/processors')), 404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME');
    expectError(await owner.call('getStreamProcessor', streamsPath(groupId, '/proc/processor/ghost')), 404, 'STREAM_PROCESSOR_NOT_FOUND');
  });

  it('lists with stats and paging', async () => {
    const res = await owner.call('getStreamProcessors', `${streamsPath(groupId, `/${tenant}/processors`)}?itemsPerPage=1`);
    expect(res.status).toBe(200);
    expect(res.json.results).toHaveLength(1);
    expect(res.json.results[0].stats).toBeDefined();
    expect(res.json.totalCount).toBeGreaterThanOrEqual(2);
    const noCount = await owner.call('getStreamProcessors', `${streamsPath(groupId, `/${tenant}/processors`)}?includeCount=false`);
    expect(noCount.json.totalCount).toBeUndefined();
  });

  it('refuses the processor operations to Read Only (401 USER_UNAUTHORIZED) and older versions (406)', async () => {
    const readOnly = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_READ_ONLY']));
    expectError(await readOnly.call('getStreamProcessor', procPath('dup')), 401, 'USER_UNAUTHORIZED');
    expectError(await readOnly.call('startStreamProcessor', procPath('dup', ':start'), { method: 'POST' }), 401, 'USER_UNAUTHORIZED');
    const spOwner = streamsClient(server, await createProjectKey(raw, groupId, ['GROUP_STREAM_PROCESSING_OWNER']));
    expect((await spOwner.call('getStreamProcessor', procPath('dup'))).status).toBe(200);
    expectError(await owner.call('getStreamProcessor', procPath('dup'), { accept: ACCEPT.streams }), 406, 'INVALID_VERSION_DATE');
  });
});

describe('lifecycle', () => {
  it('CREATED -> STARTED -> STOPPED -> STARTED, refusing illegal transitions', async () => {
    await createProcessor(owner, groupId, tenant, { name: 'life', pipeline: samplePipeline() });
    expectError(await stop('life'), 400, 'STREAM_PROCESSOR_GENERIC_ERROR', 'Streams Processor with this name (life) had a problem occur: the stream processor is not running.');
    const started = await start('life');
    expect(started.status).toBe(200);
    expect(started.text).toBe('{}');
    const running = await get('life');
    expect(running.json.state).toBe('STARTED');
    expect(running.json.stats.processorId).toBe(running.json._id);
    expect(['starting', 'running']).toContain(running.json.stats.status);
    expect(server.app.runner.isRunning(running.json._id)).toBe(true);
    expectError(await start('life'), 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expectError(await modify('life', { name: 'renamed' }), 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    // A running processor holds its connections.
    expectError(await owner.call('deleteStreamConnection', streamsPath(groupId, `/${tenant}/connections/sample_stream_solar`), { method: 'DELETE' }),
      403, 'STREAM_CONNECTION_HAS_STREAM_PROCESSORS');
    expect((await stop('life')).status).toBe(200);
    expect((await get('life')).json.state).toBe('STOPPED');
    expect(server.app.runner.isRunning(running.json._id)).toBe(false);
    expectError(await stop('life'), 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect((await start('life')).status).toBe(200);
    expect((await get('life')).json.state).toBe('STARTED');
    // Deleting a running processor drops it in the engine too.
    const removed = await remove('life');
    expect(removed.status).toBe(204);
    expect(removed.text).toBe('');
    expect(server.app.runner.isRunning(running.json._id)).toBe(false);
    expectError(await remove('life'), 404, 'STREAM_PROCESSOR_NOT_FOUND');
  });

  it('lets only one of simultaneous starts win', async () => {
    await createProcessor(owner, groupId, tenant, { name: 'race', pipeline: samplePipeline() });
    const results = await Promise.all(Array.from({ length: 8 }, () => start('race')));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(7);
    expect((await stop('race')).status).toBe(200);
  });

  it('starts with startAtOperationTime (2025-03-12 only)', async () => {
    await createProcessor(owner, groupId, tenant, { name: 'with', pipeline: samplePipeline() });
    const old = await owner.call('startStreamProcessorWith', procPath('with', ':startWith'), {
      method: 'POST', accept: ACCEPT.processors, body: { startAtOperationTime: '2025-01-01T00:00:00Z' },
    });
    expectError(old, 406, 'INVALID_VERSION_DATE');
    expect(old.headers.get('x-emulator-supported-versions')).toBe('application/vnd.atlas.2025-03-12+json');
    const bad = await owner.call('startStreamProcessorWith', procPath('with', ':startWith'), { method: 'POST', body: { startAtOperationTime: 'yesterday' } });
    expectError(bad, 400, 'INVALID_JSON_ATTRIBUTE');
    const res = await owner.call('startStreamProcessorWith', procPath('with', ':startWith'), { method: 'POST', body: { startAtOperationTime: '2025-01-01T00:00:00Z' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2025-03-12+json;charset=utf-8');
    expect((await get('with')).json.state).toBe('STARTED');
    expect((await stop('with')).status).toBe(200);
  });

  it('puts the processor back and answers 400 when the engine refuses the pipeline at start', async () => {
    // Valid in shape and connections, but an Https connection cannot be a $source: the engine says so.
    await createProcessor(owner, groupId, tenant, { name: 'refused', pipeline: [{ $source: { connectionName: 'hook' } }, { $emit: { connectionName: '__testLog' } }] });
    const res = await start('refused');
    expectError(res, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect(res.json.detail).toMatch(/^Streams Processor with this name \(refused\) had a problem occur: .*hook.*\.$/);
    expect((await get('refused')).json.state).toBe('CREATED');
  });

  it('shows a failure reported by the engine as FAILED, and starts again from FAILED', async () => {
    const created = await createProcessor(owner, groupId, tenant, { name: 'failing', pipeline: samplePipeline() });
    expect((await start('failing')).status).toBe(200);
    await server.app.runner.drop(created._id);
    const host = createProcessorHost(server.app.store, pino({ level: 'silent' }));
    await host.markFailed(created._id, 'the broker went away');
    const failed = await get('failing');
    expect(failed.json.state).toBe('FAILED');
    expect(failed.json.stats).toMatchObject({ status: 'error', errorMsg: 'the broker went away' });
    expectError(await stop('failing'), 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expect((await start('failing')).status).toBe(200);
    const again = await get('failing');
    expect(again.json.state).toBe('STARTED');
    expect(again.json.stats.errorMsg).toBeUndefined();
    expect((await stop('failing')).status).toBe(200);
    // The workspace's operational log tells the story, the failure with the engine's message.
    const lines = await downloadGzipLines(server, server.owner, `${streamsPath(groupId, `/${tenant}:downloadOperationalLogs`)}?spName=failing`,
      'application/vnd.atlas.2025-03-12+gzip');
    expect(lines.map((l) => [l['event'], l['message']])).toEqual([
      ['created', undefined], ['started', undefined], ['failed', 'the broker went away'], ['started', undefined], ['stopped', undefined],
    ]);
    expect(lines.find((l) => l['event'] === 'failed')).toMatchObject({ level: 'ERROR', spName: 'failing', processorId: created._id });
  });
});

describe('the definition the engine gets', () => {
  it('carries every connection with secrets decrypted, the Cluster address and the instance tier', async () => {
    const t = 'handoff';
    await createInstance(owner, groupId, t, { sampleConnections: { solar: true }, streamConfig: { tier: 'SP10' } });
    await createConnection(owner, groupId, t, kafkaConnection('kafka'));
    await createConnection(owner, groupId, t, { name: 'db', type: 'Cluster', clusterName: 'Local0' });
    const mapped = await raw.call(`/emulator/v1/groups/${groupId}/clusters/Local0`, { method: 'PUT', body: { connectionString: 'mongodb://127.0.0.1:1/?x=secret-uri' } });
    expect(mapped.status).toBe(200);
    expect(mapped.text).not.toContain('secret-uri');
    await createProcessor(owner, groupId, t, { name: 'handoff', pipeline: samplePipeline(), options: { dlq: { connectionName: 'db', db: 'd', coll: 'dlq' } } });
    const runner = server.app.runner;
    const original = runner.start;
    let captured: ProcessorDefinition | undefined;
    runner.start = async (definition, options) => { captured = definition; await Promise.resolve(options); };
    try {
      expect((await owner.call('startStreamProcessor', streamsPath(groupId, `/${t}/processor/handoff:start`), { method: 'POST' })).status).toBe(200);
    } finally {
      runner.start = original;
    }
    expect(captured).toMatchObject({ name: 'handoff', groupId, instanceName: t, tier: 'SP10', options: { dlq: { connectionName: 'db', db: 'd', coll: 'dlq' } } });
    expect(captured!.connections['kafka']).toMatchObject({ type: 'Kafka', authentication: { password: KAFKA_SECRET, sslKey: SSL_KEY, sslKeyPassword: SSL_KEY_PASSWORD } });
    expect(captured!.connections['db']).toMatchObject({ type: 'Cluster', connectionString: 'mongodb://127.0.0.1:1/?x=secret-uri' });
    expect(Object.keys(captured!.connections).sort()).toEqual(['db', 'kafka', 'sample_stream_solar']);
    for (const line of server.logs) expect(line).not.toContain(KAFKA_SECRET);
    for (const line of server.logs) expect(line).not.toContain('secret-uri');
  });
});

describe('modify', () => {
  it('changes name, pipeline and DLQ of a stopped processor; resumeFromCheckpoint:false drops the checkpoint', async () => {
    const created = await createProcessor(owner, groupId, tenant, { name: 'mod', pipeline: samplePipeline() });
    await server.app.store.transaction((tx) => tx.put('checkpoint', { id: created._id }, { id: 1, takenAt: new Date().toISOString(), state: {} }));
    const pipeline = [{ $source: { connectionName: 'sample_stream_solar' } }, { $match: { 'obs.watts': { $gt: 100 } } }, { $emit: { connectionName: '__testLog' } }];
    const res = await modify('mod', { name: 'mod2', pipeline, options: { dlq: { connectionName: 'atlas', db: 'd', coll: 'dlq' } } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ _id: created._id, name: 'mod2', pipeline, options: { dlq: { connectionName: 'atlas', db: 'd', coll: 'dlq' } }, state: 'CREATED' });
    expect(await server.app.store.transaction((tx) => tx.get('checkpoint', created._id))).toBeDefined();
    expectError(await get('mod'), 404, 'STREAM_PROCESSOR_NOT_FOUND');
    const dropped = await modify('mod2', { options: { resumeFromCheckpoint: false } });
    expect(dropped.status).toBe(200);
    expect(await server.app.store.transaction((tx) => tx.get('checkpoint', created._id))).toBeUndefined();
  });

  it('refuses a bad pipeline, a taken name and a missing processor', async () => {
    await createProcessor(owner, groupId, tenant, { name: 'mod3', pipeline: samplePipeline() });
    expectError(await modify('mod3', { pipeline: [{ $emit: { connectionName: '__testLog' } }] }), 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
    expectError(await modify('mod3', { name: 'dup' }), 409, 'STREAM_PROCESSOR_NAME_ALREADY_EXISTS');
    expectError(await modify('ghost', { name: 'x' }), 404, 'STREAM_PROCESSOR_NOT_FOUND');
    expectError(await modify('mod3', { options: { bogus: true } }), 400, 'INVALID_ATTRIBUTE');
  });
});

/** The first line of an NDJSON route, read with the owner's key, then the connection is dropped. */
async function firstLine(url: string): Promise<{ res: Response; line: Record<string, any> }> {
  const challenge = await fetch(url);
  expect(challenge.status).toBe(401);
  const nonce = /nonce="([^"]+)"/.exec(challenge.headers.get('www-authenticate')!)![1]!;
  const { digestAuthorization } = await import('../src/testing/harness.js');
  const abort = new AbortController();
  const res = await fetch(url, { headers: { Authorization: digestAuthorization(url, 'GET', server.owner, nonce) }, signal: abort.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  abort.abort();
  return { res, line: JSON.parse(text.split('\n')[0]!) };
}

describe('output over HTTP', () => {
  it('streams a running processor output as NDJSON until the client goes away', async () => {
    await createProcessor(owner, groupId, tenant, { name: 'watched', pipeline: samplePipeline() });
    expect((await start('watched')).status).toBe(200);
    const url = `${server.url}/emulator/v1/groups/${groupId}/streams/${tenant}/processor/watched/output`;
    const { res, line: first } = await firstLine(url);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(first.device_id).toMatch(/^device_\d+$/);
    expect(first).toHaveProperty('obs');
    expect((await stop('watched')).status).toBe(200);
    // Stopped: its last output, then the end of the stream.
    await vi.waitFor(async () => {
      const after = await digestClient(server, server.owner).call(url.slice(server.url.length));
      expect(after.status).toBe(200);
      const lines = after.text.trim().split('\n').map((line) => JSON.parse(line));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.device_id).toMatch(/^device_\d+$/);
    }, { timeout: 30_000, interval: 200 });
    const missing = await digestClient(server, server.owner).call(url.slice(server.url.length).replace('watched', 'ghost'));
    expectError(missing, 404, 'STREAM_PROCESSOR_NOT_FOUND');
  });

  it('streams dead letter queue records as Atlas writes them to the DLQ, to those who may read the processor', async () => {
    const pipeline = [
      { $source: { connectionName: 'sample_stream_solar' } },
      { $validate: { validator: { $expr: { $lt: ['$obs.watts', 0] } }, validationAction: 'dlq' } },
      { $emit: { connectionName: '__testLog' } },
    ];
    await createProcessor(owner, groupId, tenant, { name: 'refuses', pipeline });
    expect((await start('refuses')).status).toBe(200);
    const path = `/emulator/v1/groups/${groupId}/streams/${tenant}/processor/refuses/deadLetters`;
    const { res, line: record } = await firstLine(`${server.url}${path}`);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson');
    expect(record).toMatchObject({ processorName: 'refuses', instanceName: tenant, errInfo: { reason: expect.any(String) } });
    expect(record.doc.device_id).toMatch(/^device_\d+$/);
    expect(record.errInfo.reason.length).toBeGreaterThan(0);
    expect(record.dlqTime).toEqual({ $date: expect.any(String) });
    const readOnly = digestClient(server, await createProjectKey(raw, groupId, ['GROUP_READ_ONLY']));
    expectError(await readOnly.call(path), 401, 'USER_UNAUTHORIZED');
    expect((await stop('refuses')).status).toBe(200);
    expectError(await raw.call(path), 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
  });
});

describe('restart', () => {
  it('starts every STARTED processor again when the server starts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'streams-resume-'));
    try {
      let first = await startTestServer({ inMemory: false, dataDir });
      const client = streamsClient(first);
      await createInstance(client, first.projectId, 'keep', { sampleConnections: { solar: true } });
      const running = await createProcessor(client, first.projectId, 'keep', { name: 'runs', pipeline: samplePipeline() });
      const idle = await createProcessor(client, first.projectId, 'keep', { name: 'idle', pipeline: samplePipeline() });
      expect((await client.call('startStreamProcessor', streamsPath(first.projectId, '/keep/processor/runs:start'), { method: 'POST' })).status).toBe(200);
      const projectId = first.projectId;
      const credentials = first.owner;
      await first.close();
      first = await startTestServer({ inMemory: false, dataDir });
      try {
        // On PostgreSQL a runner claims it by lease just after the start, not during it.
        const server = first;
        await expect.poll(() => server.app.runner.isRunning(running._id), { timeout: 20_000 }).toBe(true);
        expect(first.app.runner.isRunning(idle._id)).toBe(false);
        const again = streamsClient(first, credentials);
        expect((await again.call('getStreamProcessor', streamsPath(projectId, '/keep/processor/runs'))).json.state).toBe('STARTED');
      } finally {
        await first.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
