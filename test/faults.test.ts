// Fault injection as a test suite uses it: Atlas-shaped errors on matching calls, with a
// count, a probability, latency, and processors failed on demand.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/library.js';
import { ACCEPT, callDigest, type CallOptions } from '../src/testing/harness.js';

const V2 = '/api/atlas/v2';

describe('fault injection', () => {
  let emulator: Emulator;
  beforeAll(async () => { emulator = await startEmulator({ sampleRatePerSecond: 0 }); });
  afterEach(async () => { await emulator.clearFaults(); await emulator.reset(); });
  afterAll(async () => { await emulator?.close(); });

  const call = (path: string, options: CallOptions = {}) =>
    callDigest(`${emulator.baseUrl}${path}`, { publicKey: emulator.credentials.publicKey, privateKey: emulator.credentials.privateKey }, options);
  const project = () => `${V2}/groups/${emulator.credentials.projectId}`;

  it('answers 429 RATE_LIMITED with Retry-After as often as the rule says, then the real answer', async () => {
    const rule = await emulator.injectFault({ match: { operationId: 'getGroup' }, error: { errorCode: 'RATE_LIMITED', parameters: ['getGroup', 100, 1], retryAfterSeconds: 7 }, count: 2 });
    for (let i = 0; i < 2; i += 1) {
      const res = await call(project(), { accept: ACCEPT.identity });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.headers.get('x-error-code')).toBe('RATE_LIMITED');
      expect(res.json).toEqual({ detail: 'Resource getGroup is limited to 100 requests every 1 minutes.', error: 429, errorCode: 'RATE_LIMITED', parameters: ['getGroup', 100, 1], reason: 'Too Many Requests' });
    }
    expect((await call(project(), { accept: ACCEPT.identity })).status).toBe(200);
    const listed = await call('/emulator/v1/admin/faults');
    expect(listed.json.results).toEqual([expect.objectContaining({ id: rule.id, fired: 2, count: 2 })]);
  });

  it('matches by method and path, answers 503, and leaves other calls alone', async () => {
    await emulator.injectFault({ match: { method: 'POST', path: '/streams$' }, error: { errorCode: 'SERVICE_UNAVAILABLE' } });
    const refused = await call(`${project()}/streams`, { method: 'POST', accept: ACCEPT.streams, body: { name: 'w', dataProcessRegion: { cloudProvider: 'AWS', region: 'VIRGINIA_USA' } } });
    expect({ status: refused.status, errorCode: refused.json.errorCode }).toEqual({ status: 503, errorCode: 'SERVICE_UNAVAILABLE' });
    const listed = await call(`${project()}/streams`, { accept: ACCEPT.streams });
    expect(listed.status).toBe(200);
    expect(listed.json.results).toEqual([]);
  });

  it('answers 504 STREAM_PROCESSOR_TIMEOUT on start and changes nothing', async () => {
    const { projects } = await emulator.seed({ projects: [{ name: 'p', workspaces: [{ name: 'w', sampleConnections: true, processors: [
      { name: 'solar', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] }] }] }] });
    await emulator.injectFault({ match: { operationId: 'startStreamProcessor' }, error: { errorCode: 'STREAM_PROCESSOR_TIMEOUT', parameters: ['solar'] } });
    const path = `${V2}/groups/${projects['p']}/streams/w/processor/solar`;
    const start = await call(`${path}:start`, { method: 'POST', accept: ACCEPT.processors });
    expect({ status: start.status, errorCode: start.json.errorCode }).toEqual({ status: 504, errorCode: 'STREAM_PROCESSOR_TIMEOUT' });
    expect((await call(path, { accept: ACCEPT.processors })).json.state).toBe('CREATED');
  });

  it('never fires at probability 0; adds latency without an error', async () => {
    const never = await emulator.injectFault({ match: { operationId: 'getGroup' }, error: { errorCode: 'UNEXPECTED_ERROR' }, probability: 0 });
    const slow = await emulator.injectFault({ match: { operationId: 'listGroups' }, latencyMs: 50 });
    expect((await call(project(), { accept: ACCEPT.identity })).status).toBe(200);
    expect((await call(`${V2}/groups`, { accept: ACCEPT.identity })).status).toBe(200);
    const rules = (await call('/emulator/v1/admin/faults')).json.results as Array<{ id: string; fired: number }>;
    expect(rules.find((r) => r.id === never.id)!.fired).toBe(0);
    expect(rules.find((r) => r.id === slow.id)!.fired).toBe(1);
  });

  it('refuses malformed rules and callers that are not Organization Owners', async () => {
    const bad = await call('/emulator/v1/admin/faults', { method: 'POST', body: { error: { errorCode: 'NO_SUCH_CODE' } } });
    expect({ status: bad.status, errorCode: bad.json.errorCode, detail: bad.json.detail })
      .toEqual({ status: 400, errorCode: 'INVALID_ATTRIBUTE', detail: 'Invalid attribute error.errorCode specified.' });
    const { apiKeys } = await emulator.seed({ apiKeys: [{ desc: 'member', roles: ['ORG_MEMBER'] }] });
    const member = await callDigest(`${emulator.baseUrl}/emulator/v1/admin/faults`, apiKeys[0]!, { method: 'POST', body: { latencyMs: 1 } });
    expect({ status: member.status, errorCode: member.json.errorCode }).toEqual({ status: 401, errorCode: 'USER_UNAUTHORIZED' });
    expect((await call('/emulator/v1/admin/faults')).json.results).toEqual([]);
  });

  it('fails a running processor with the given message', async () => {
    const { projects } = await emulator.seed({ projects: [{ name: 'p', workspaces: [{ name: 'w', sampleConnections: true, processors: [
      { name: 'solar', state: 'STARTED', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] }] }] }] });
    await emulator.failProcessor({ groupId: projects['p']!, tenantName: 'w', processorName: 'solar', message: 'Kafka sink went away' });
    const processor = await call(`${V2}/groups/${projects['p']}/streams/w/processor/solar`, { accept: ACCEPT.processors });
    expect({ state: processor.json.state, errorMsg: processor.json.stats?.errorMsg }).toEqual({ state: 'FAILED', errorMsg: 'Kafka sink went away' });
  });

  it('makes a sink go away: the processor retries, then fails with the refusal; listed and cleared, the next start works', async () => {
    const { projects } = await emulator.seed({ projects: [{ name: 'p', workspaces: [{ name: 'w', sampleConnections: true, processors: [
      { name: 'solar', state: 'STARTED', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] }] }] }] });
    const groupId = projects['p']!;
    const processorPath = `${V2}/groups/${groupId}/streams/w/processor/solar`;
    const read = async () => (await call(processorPath, { accept: ACCEPT.processors })).json;
    await vi.waitFor(async () => expect((await read()).stats.outputMessageCount).toBeGreaterThan(0), { timeout: 30_000, interval: 100 });

    await emulator.failSink({ groupId, tenantName: 'w', processorName: 'solar', message: 'connect ECONNREFUSED 10.0.0.7:9092' });
    const listed = await call('/emulator/v1/admin/faults/sink');
    expect(listed.json.results).toEqual([{ processorId: expect.stringMatching(/^[a-f0-9]{24}$/), message: 'connect ECONNREFUSED 10.0.0.7:9092' }]);
    await vi.waitFor(async () => expect((await read()).state).toBe('FAILED'), { timeout: 60_000, interval: 250 });
    expect((await read()).stats.errorMsg).toBe('writing to connection __testLog failed after 4 attempts: connect ECONNREFUSED 10.0.0.7:9092');

    // Still away: the next start fails the same way, at connecting.
    expect((await call(`${processorPath}:start`, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    await vi.waitFor(async () => expect((await read()).state).toBe('FAILED'), { timeout: 60_000, interval: 250 });
    expect((await read()).stats.errorMsg).toBe('connecting to connection __testLog failed after 4 attempts: connect ECONNREFUSED 10.0.0.7:9092');

    await emulator.clearFaults();
    expect((await call('/emulator/v1/admin/faults/sink')).json.results).toEqual([]);
    expect((await call(`${processorPath}:start`, { method: 'POST', accept: ACCEPT.processors })).status).toBe(200);
    await vi.waitFor(async () => expect((await read()).stats.status).toBe('running'), { timeout: 30_000, interval: 100 });
    expect((await read()).state).toBe('STARTED');
  }, 180_000);

  it('refuses a sink fault for a processor that does not exist', async () => {
    const res = await call('/emulator/v1/admin/faults/sink', { method: 'POST', body: { groupId: emulator.credentials.projectId, tenantName: 'nowhere', processorName: 'x', message: 'gone' } });
    expect({ status: res.status, errorCode: res.json.errorCode }).toEqual({ status: 404, errorCode: 'STREAM_TENANT_NOT_FOUND_FOR_NAME' });
    const incomplete = await call('/emulator/v1/admin/faults/sink', { method: 'POST', body: { groupId: emulator.credentials.projectId } });
    expect({ status: incomplete.status, errorCode: incomplete.json.errorCode }).toEqual({ status: 400, errorCode: 'MISSING_ATTRIBUTE' });
  });
});

describe('request journal', () => {
  let emulator: Emulator;
  beforeAll(async () => { emulator = await startEmulator(); });
  afterAll(async () => { await emulator?.close(); });

  it('lists the last calls newest first, with the roles a refusal needed, filtered by status and operation', async () => {
    const { apiKeys } = await emulator.seed({ apiKeys: [{ desc: 'member', roles: ['ORG_MEMBER'] }] });
    const member = apiKeys[0]!;
    const refused = await callDigest(`${emulator.baseUrl}${V2}/orgs/${emulator.credentials.orgId}/apiKeys`, member,
      { method: 'POST', accept: ACCEPT.identity, body: { desc: 'x', roles: ['ORG_MEMBER'] } });
    expect(refused.status).toBe(401);
    const all = await emulator.journal();
    expect(all[0]).toMatchObject({ status: 401, operationId: 'createOrgApiKey', principal: member.publicKey, method: 'POST', requiredRoles: ['ORG_OWNER'] });
    expect(all[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(all.some((e) => e.operationId === 'createOrgApiKey' && e.status === 200)).toBe(true);
    const onlyRefusals = await emulator.journal({ status: 401 });
    expect(onlyRefusals.every((e) => e.status === 401)).toBe(true);
    expect(await emulator.journal({ operationId: 'createOrgApiKey', limit: 1 })).toHaveLength(1);
  });
});
