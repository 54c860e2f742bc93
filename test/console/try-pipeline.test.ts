// POST /emulator/v1/groups/{groupId}/streams/{tenantName}/process: the console's "Try a
// pipeline", a pipeline run once over its documents, nothing created.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestClient, startTestServer, type Client, type TestServer } from '../../src/testing/harness.js';
import { createProjectKey } from '../identity-helpers.js';
import { createInstance, expectError, streamsClient, streamsPath } from '../streams-fixtures.js';

let server: TestServer;
let owner: Client;
let readOnly: Client;
const processPath = (tenant: string) => `/emulator/v1/groups/${server.projectId}/streams/${tenant}/process`;

beforeAll(async () => {
  server = await startTestServer();
  owner = digestClient(server, server.owner);
  readOnly = digestClient(server, await createProjectKey(owner, server.projectId, ['GROUP_READ_ONLY'], 'try read-only'));
  await createInstance(streamsClient(server), server.projectId, 'try-ws');
});
afterAll(async () => {
  await server.close();
});

const documents = [{ device: 'a', temp: 25, at: { $date: '2026-01-01T00:00:00Z' } }, { device: 'b', temp: 12 }, { device: 'c', temp: 31 }];

describe('trying a pipeline', () => {
  it('answers the output of the pipeline over the documents, in order, and creates nothing', async () => {
    const res = await owner.call(processPath('try-ws'), {
      method: 'POST', body: { pipeline: [{ $source: { documents } }, { $match: { temp: { $gt: 20 } } }, { $project: { _id: 0, device: 1, at: 1 } }] },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ complete: true, inputMessageCount: 3, outputMessageCount: 2, dlqMessageCount: 0 });
    expect(res.json.results.map((d: Record<string, unknown>) => ({ device: d['device'], at: d['at'] })))
      .toEqual([{ device: 'a', at: { $date: '2026-01-01T00:00:00Z' } }, { device: 'c', at: undefined }]);
    const processors = await streamsClient(server).call('getStreamProcessors', streamsPath(server.projectId, '/try-ws/processors'));
    expect(processors.json.results).toEqual([]);
  });

  it('stops at the limit', async () => {
    const res = await owner.call(processPath('try-ws'), { method: 'POST', body: { pipeline: [{ $source: { documents } }], limit: 1 } });
    expect(res.status, res.text).toBe(200);
    expect(res.json.results).toHaveLength(1);
    expect(res.json.complete).toBe(false);
  });

  it('refuses a pipeline the engine cannot run with Atlas\'s message', async () => {
    const res = await owner.call(processPath('try-ws'), { method: 'POST', body: { pipeline: [{ $source: { connectionName: 'nowhere' } }] } });
    expectError(res, 400, 'STREAM_PROCESSOR_GENERIC_ERROR');
  });

  it('refuses bad input, unknown workspaces and callers without the processor roles', async () => {
    expectError(await owner.call(processPath('try-ws'), { method: 'POST', body: { pipe: [] } }), 400, 'MISSING_ATTRIBUTE');
    expectError(await owner.call(processPath('try-ws'), { method: 'POST', body: { pipeline: [], limit: 0 } }), 400, 'INVALID_ATTRIBUTE');
    expectError(await owner.call(processPath('try-ws'), { method: 'GET' }), 405, 'METHOD_NOT_ALLOWED');
    expectError(await owner.call(processPath('nope'), { method: 'POST', body: { pipeline: [] } }), 404, 'STREAM_TENANT_NOT_FOUND_FOR_NAME');
    expectError(await readOnly.call(processPath('try-ws'), { method: 'POST', body: { pipeline: [{ $source: { documents } }] } }), 401, 'USER_UNAUTHORIZED');
  });
});
