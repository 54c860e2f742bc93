// The library API as a test suite uses it: start, seed, reset, export, close; and what the
// server shows around the Atlas paths (metrics, landing page, served contract, admin reset).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, SeedError, type Emulator } from '../src/library.js';
import { ACCEPT, callAnonymous, callBearer, callDigest, fetchToken } from '../src/testing/harness.js';

const V2 = '/api/atlas/v2';

describe('startEmulator', () => {
  let emulator: Emulator;
  beforeAll(async () => { emulator = await startEmulator({ sampleRatePerSecond: 0 }); });
  afterAll(async () => { await emulator?.close(); });

  const owner = () => ({ publicKey: emulator.credentials.publicKey, privateKey: emulator.credentials.privateKey });
  const get = (path: string, accept: string = ACCEPT.latest) => callDigest(`${emulator.baseUrl}${path}`, owner(), { accept });

  it('serves on a free loopback port with a working Digest key and service account', async () => {
    expect(emulator.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const project = await get(`${V2}/groups/${emulator.credentials.projectId}`, ACCEPT.identity);
    expect(project.status).toBe(200);
    expect(project.json.orgId).toBe(emulator.credentials.orgId);
    const token = await fetchToken(emulator.baseUrl, emulator.credentials.clientId, emulator.credentials.clientSecret);
    const viaToken = await callBearer(`${emulator.baseUrl}${V2}/orgs/${emulator.credentials.orgId}`, token, { accept: ACCEPT.identity });
    expect(viaToken.status).toBe(200);
  });

  it('seeds projects, keys, service accounts, workspaces, connections and processors in their states', async () => {
    const result = await emulator.seed({
      apiKeys: [{ desc: 'reader', roles: ['ORG_READ_ONLY'] }],
      serviceAccounts: [{ name: 'ci', description: 'ci runs', roles: ['ORG_MEMBER'] }],
      projects: [{
        name: 'seeded',
        workspaces: [{
          name: 'ws', sampleConnections: true,
          connections: [{ name: 'hook', type: 'Https', url: 'https://example.invalid/hook' }],
          processors: [
            { name: 'running', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }], state: 'STARTED' },
            { name: 'idle', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }] },
          ],
        }],
      }],
    });
    const groupId = result.projects['seeded']!;
    expect(groupId).toMatch(/^[a-f0-9]{24}$/);
    const processors = await get(`${V2}/groups/${groupId}/streams/ws/processors`, ACCEPT.processors);
    expect(Object.fromEntries(processors.json.results.map((p: { name: string; state: string }) => [p.name, p.state])))
      .toEqual({ running: 'STARTED', idle: 'CREATED' });
    const reader = result.apiKeys[0]!;
    const asReader = await callDigest(`${emulator.baseUrl}${V2}/orgs/${emulator.credentials.orgId}`, reader, { accept: ACCEPT.identity });
    expect(asReader.status).toBe(200);
    expect(result.serviceAccounts[0]!.clientId).toMatch(/^mdb_sa_id_/);
    await fetchToken(emulator.baseUrl, result.serviceAccounts[0]!.clientId, result.serviceAccounts[0]!.clientSecret);
  });

  it('exports the state as a seed document that rebuilds it after a reset', async () => {
    const exported = await emulator.exportState();
    const seeded = exported.projects!.find((p) => p.name === 'seeded')!;
    expect(seeded.workspaces!.map((w) => w.name)).toEqual(['ws']);
    expect(seeded.workspaces![0]!.processors!.map((p) => [p.name, p.state])).toEqual([['running', 'STARTED'], ['idle', 'CREATED']]);
    await emulator.reset();
    const result = await emulator.seed(exported);
    const processors = await get(`${V2}/groups/${result.projects['seeded']}/streams/ws/processors`, ACCEPT.processors);
    expect(processors.json.results.map((p: { name: string; state: string }) => [p.name, p.state])).toEqual([['running', 'STARTED'], ['idle', 'CREATED']]);
  });

  it('resets everything but the credentials it started with', async () => {
    const { apiKeys } = await emulator.seed({ apiKeys: [{ desc: 'doomed', roles: ['ORG_MEMBER'] }], projects: [{ name: 'gone', workspaces: [{ name: 'w' }] }] });
    await emulator.reset();
    const projects = await get(`${V2}/groups`, ACCEPT.identity);
    expect(projects.json.results.map((p: { name: string }) => p.name)).toEqual(['Local-Project']);
    const workspaces = await get(`${V2}/groups/${emulator.credentials.projectId}/streams`, ACCEPT.streams);
    expect(workspaces.json.results).toEqual([]);
    const doomed = await callDigest(`${emulator.baseUrl}${V2}/orgs/${emulator.credentials.orgId}`, apiKeys[0]!, { accept: ACCEPT.identity });
    expect(doomed.status).toBe(401);
    const token = await fetchToken(emulator.baseUrl, emulator.credentials.clientId, emulator.credentials.clientSecret);
    expect(token).toBeTruthy();
  });

  it('resets one project and leaves the others', async () => {
    const { projects } = await emulator.seed({ projects: [{ name: 'a', workspaces: [{ name: 'wa' }] }, { name: 'b', workspaces: [{ name: 'wb' }] }] });
    await emulator.reset(projects['a']);
    expect((await get(`${V2}/groups/${projects['a']}/streams`, ACCEPT.streams)).json.results).toEqual([]);
    expect((await get(`${V2}/groups/${projects['b']}/streams`, ACCEPT.streams)).json.results.map((w: { name: string }) => w.name)).toEqual(['wb']);
    expect((await get(`${V2}/groups/${projects['a']}`, ACCEPT.identity)).status).toBe(200);
    await emulator.reset();
  });

  it('refuses a malformed seed naming the place, and a refused call with the API error and its place', async () => {
    await expect(emulator.seed({ projects: [{ name: 'x', workspaces: [{ nam: 'typo' } as never] }] }))
      .rejects.toThrow(new SeedError('projects[0].workspaces[0]: unknown field "nam" (known: name, cloudProvider, region, tier, sampleConnections, connections, processors)'));
    await expect(emulator.seed({ projects: [{ name: 'y', workspaces: [{ name: 'w', region: 'ATLANTIS' }] }] }))
      .rejects.toThrow(/^projects\[0\]\.workspaces\[0\] \(createStreamWorkspace\): 400 /);
    await emulator.reset();
  });

  it('serves Prometheus metrics by operation and status, and processors by state', async () => {
    await get(`${V2}/groups/${emulator.credentials.projectId}`, ACCEPT.identity);
    await emulator.seed({ projects: [{ name: 'metrics', workspaces: [{ name: 'm', sampleConnections: true, processors: [
      { name: 'p', pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $emit: { connectionName: '__testLog' } }], state: 'STARTED' }] }] }] });
    const res = await fetch(`${emulator.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^atlas_streams_api_requests_total\{operation="getGroup",status="200"\} [1-9]/m);
    expect(text).toMatch(/^atlas_streams_api_request_duration_seconds_count\{operation="getGroup"\} [1-9]/m);
    expect(text).toMatch(/^atlas_streams_processors\{state="STARTED"\} 1$/m);
    expect(text).toMatch(/^atlas_streams_processor_input_messages\{project="[a-f0-9]{24}",workspace="m",processor="p"\} \d+/m);
    await emulator.reset();
  });

  it('answers / with the connection details and serves the contract', async () => {
    const page = await callAnonymous(`${emulator.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.text).toContain(emulator.credentials.projectId);
    expect(page.text).toContain(emulator.credentials.publicKey);
    expect(page.text).not.toContain(emulator.credentials.privateKey);
    const spec = await callAnonymous(`${emulator.baseUrl}/spec/atlas-admin-v2.yaml`);
    expect(spec.status).toBe(200);
    expect(spec.text).toMatch(/^openapi: 3\./m);
  });

  it('resets through the admin API for an Organization Owner only', async () => {
    const { apiKeys, projects } = await emulator.seed({ projects: [{ name: 'p1', apiKeys: [{ desc: 'owner of p1', roles: ['GROUP_OWNER'] }] }] });
    const projectKey = apiKeys[0]!;
    const whole = await callDigest(`${emulator.baseUrl}/emulator/v1/admin/reset`, projectKey, { method: 'POST' });
    expect({ status: whole.status, errorCode: whole.json?.errorCode }).toEqual({ status: 401, errorCode: 'USER_UNAUTHORIZED' });
    const own = await callDigest(`${emulator.baseUrl}/emulator/v1/admin/reset?projectId=${projects['p1']}`, projectKey, { method: 'POST' });
    expect(own.status).toBe(200);
    const all = await callDigest(`${emulator.baseUrl}/emulator/v1/admin/reset`, owner(), { method: 'POST' });
    expect(all.status).toBe(200);
    expect(all.json.deleted).toBeGreaterThan(0);
  });
});
