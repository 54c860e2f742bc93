// Stream instances, their connections and audit logs.
import { expect } from 'vitest';
import {
  ACCEPT, expectAtlasError, pathOf, send, setupClient, type Area, type OperationContract,
} from '../framework.js';
import { operationById } from '../../../src/protocol/router.js';
import { downloadLines, newConnection, newInstance, newProcessor, REGION, startProcessor, stopProcessor, streams, streamsSnapshot } from './streams-shared.js';

const HTTPS = (name: string) => ({ name, type: 'Https', url: 'https://example.com/hook', headers: { 'x-b': '1', 'x-a': '2' } });
/** How an Https connection comes back: header values are secrets, shown masked (docs/security.md), in the order sent. */
const HTTPS_SHOWN = (name: string) => ({ ...HTTPS(name), headers: { 'x-b': '****', 'x-a': '****' } });

const sampleInstanceBody = (name: string) => ({ name, dataProcessRegion: { ...REGION }, streamConfig: { tier: 'SP10' }, sampleConnections: { solar: true } });

const instanceCases = (operationId: string): OperationContract['cases'] => [
  {
    name: '400 VALIDATION_ERROR (instance name with characters other than letters, digits, hyphens)',
    async run(w) {
      const op = operationById(operationId);
      const before = await streamsSnapshot(w, { params: { groupId: w.groupId } });
      const res = await send(w, op, { params: { groupId: w.groupId }, body: { name: 'bad name!', dataProcessRegion: REGION } });
      expectAtlasError(res, { status: 400, errorCode: 'VALIDATION_ERROR' });
      expect(await streamsSnapshot(w, { params: { groupId: w.groupId } })).toEqual(before);
    },
  },
  {
    name: '400 INVALID_ENUM_VALUE (a region the provider does not offer)',
    async run(w) {
      const op = operationById(operationId);
      const res = await send(w, op, { params: { groupId: w.groupId }, body: { name: w.unique('r'), dataProcessRegion: { cloudProvider: 'AWS', region: 'eastus' } } });
      expectAtlasError(res, { status: 400, errorCode: 'INVALID_ENUM_VALUE' });
    },
  },
];

const contracts: OperationContract[] = [
  {
    operationId: 'listStreamWorkspaces',
    async setup(w) {
      await newInstance(w);
      return { params: { groupId: w.groupId } };
    },
    success(res) {
      expect(res.json.totalCount).toBeGreaterThan(0);
      expect(res.json.links[0]).toEqual({ href: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/api\/atlas\/v2\/groups\/[a-f0-9]{24}\/streams\?pageNum=1&itemsPerPage=100$/), rel: 'self' });
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR: no request makes the server fail' },
  },
  {
    operationId: 'createStreamWorkspace',
    async setup(w) {
      return { params: { groupId: w.groupId }, body: sampleInstanceBody(w.unique('create')) };
    },
    sampleBody: sampleInstanceBody('x'),
    async success(res, t, w) {
      const body = t.body as { name: string };
      expect(res.json).toMatchObject({ name: body.name, groupId: w.groupId, dataProcessRegion: REGION, streamConfig: { tier: 'SP10' } });
      expect(res.json._id).toMatch(/^[a-f0-9]{24}$/);
      expect(res.json.hostnames).toEqual([expect.stringMatching(new RegExp(`^atlas-stream-${res.json._id}-[a-z]{6}\\.virginia-usa\\.a\\.query\\.mongodb\\.net$`))]);
      const got = await setupClient(w).call(streams(w.groupId, `/${body.name}?includeConnections=true`));
      expect(got.json.connections).toEqual([expect.objectContaining({ name: 'sample_stream_solar', type: 'Sample' })]);
    },
    duplicate: { status: 409, errorCode: 'STREAM_TENANT_NAME_ALREADY_EXISTS' },
    cases: [
      ...instanceCases('createStreamWorkspace')!,
      {
        name: 'success without streamConfig: tier SP30 by default',
        async run(w) {
          const res = await send(w, operationById('createStreamWorkspace'), { params: { groupId: w.groupId }, body: { name: w.unique('dflt'), dataProcessRegion: REGION } });
          expect(res.status).toBe(200);
          expect(res.json.streamConfig).toEqual({ tier: 'SP30' });
        },
      },
    ],
    notProvokable: { 500: 'UNEXPECTED_ERROR: no request makes the server fail' },
    differences: ['Read-only attributes in a request body', 'Failed validation of a pattern, length or range'],
  },
  {
    operationId: 'withStreamSampleConnections',
    async setup(w) {
      return { params: { groupId: w.groupId }, body: { name: w.unique('sample'), dataProcessRegion: { ...REGION }, streamConfig: { tier: 'SP10' } } };
    },
    sampleBody: { name: 'x', dataProcessRegion: { ...REGION }, streamConfig: { tier: 'SP10' } },
    bodySchema: 'StreamsTenant',
    async success(res, t, w) {
      const name = (t.body as { name: string }).name;
      expect(res.json).toMatchObject({ name, streamConfig: { tier: 'SP10' } });
      const conns = await setupClient(w).call(streams(w.groupId, `/${name}/connections`));
      expect(conns.json.results.map((c: { name: string }) => c.name)).toEqual(['sample_stream_solar']);
    },
    duplicate: { status: 409, errorCode: 'STREAM_TENANT_NAME_ALREADY_EXISTS' },
    cases: instanceCases('withStreamSampleConnections'),
    notProvokable: { 500: 'UNEXPECTED_ERROR: no request makes the server fail' },
  },
  {
    operationId: 'getStreamWorkspace',
    async setup(w) {
      const name = await newInstance(w, 'get', { sampleConnections: { solar: true } });
      return { params: { groupId: w.groupId, tenantName: name }, query: { includeConnections: 'true' } };
    },
    success(res, t) {
      expect(res.json.name).toBe(t.params['tenantName']);
      expect(res.json.connections).toEqual([{ id: expect.any(String), name: 'sample_stream_solar', region: 'VIRGINIA_USA', state: 'READY', type: 'Sample' }]);
    },
    cases: [{
      name: '404 STREAM_TENANT_NOT_FOUND_FOR_NAME (names are case-sensitive; detail and parameters as Atlas)',
      async run(w) {
        const name = await newInstance(w, 'Case');
        const res = await send(w, operationById('getStreamWorkspace'), { params: { groupId: w.groupId, tenantName: name.toLowerCase() } });
        expectAtlasError(res, { status: 404, errorCode: 'STREAM_TENANT_NOT_FOUND_FOR_NAME' });
        expect(res.text).toBe(JSON.stringify({
          detail: `Stream instance for project ${w.groupId} and name ${name.toLowerCase()} not found.`, error: 404,
          errorCode: 'STREAM_TENANT_NOT_FOUND_FOR_NAME', parameters: [w.groupId, name.toLowerCase()], reason: 'Not Found',
        }));
      },
    }],
    notProvokable: { 400: 'the only query parameter is a boolean, covered by INVALID_QUERY_PARAMETER', 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'updateStreamWorkspace',
    async setup(w) {
      const name = await newInstance(w, 'upd');
      return { params: { groupId: w.groupId, tenantName: name }, body: { cloudProvider: 'AWS', region: 'OREGON_USA' } };
    },
    sampleBody: { cloudProvider: 'AWS', region: 'OREGON_USA' },
    success(res) {
      expect(res.json.dataProcessRegion).toEqual({ cloudProvider: 'AWS', region: 'OREGON_USA' });
      expect(res.json.hostnames[0]).toMatch(/\.oregon-usa\.a\.query\.mongodb\.net$/);
    },
    cases: [{
      name: '400 INVALID_ENUM_VALUE (a region the provider does not offer)',
      async run(w) {
        const name = await newInstance(w, 'updbad');
        const res = await send(w, operationById('updateStreamWorkspace'), { params: { groupId: w.groupId, tenantName: name }, body: { cloudProvider: 'GCP', region: 'OREGON_USA' } });
        expectAtlasError(res, { status: 400, errorCode: 'INVALID_ENUM_VALUE' });
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'deleteStreamWorkspace',
    async setup(w) {
      // A created and a stopped processor hold nothing: they go with the workspace.
      const name = await newInstance(w, 'del', { sampleConnections: { solar: true } });
      await newProcessor(w, name, 'created');
      await newProcessor(w, name, 'stopped');
      await startProcessor(w, name, 'stopped');
      await stopProcessor(w, name, 'stopped');
      return { params: { groupId: w.groupId, tenantName: name } };
    },
    async success(_res, t, w) {
      const got = await setupClient(w).call(streams(w.groupId, `/${t.params['tenantName']}`));
      expect(got.status).toBe(404);
      // Made again under the same name, the workspace starts empty.
      const again = await setupClient(w).call(streams(w.groupId), { method: 'POST', body: { name: t.params['tenantName'], dataProcessRegion: REGION } });
      expect(again.status, again.text).toBe(200);
      expect((await setupClient(w).call(streams(w.groupId, `/${t.params['tenantName']}/processors`))).json.results).toEqual([]);
      expect((await setupClient(w).call(streams(w.groupId, `/${t.params['tenantName']}/connections`))).json.results).toEqual([]);
    },
    cases: [{
      name: '403 STREAM_TENANT_HAS_STREAM_PROCESSORS (a workspace with a started processor)',
      async run(w) {
        const tenant = await newInstance(w, 'delp', { sampleConnections: { solar: true } });
        await newProcessor(w, tenant, 'idle');
        await startProcessor(w, tenant, await newProcessor(w, tenant));
        const t = { params: { groupId: w.groupId, tenantName: tenant } };
        const before = await streamsSnapshot(w, t);
        const res = await send(w, operationById('deleteStreamWorkspace'), t);
        expectAtlasError(res, { status: 403, errorCode: 'STREAM_TENANT_HAS_STREAM_PROCESSORS' });
        expect(res.json.detail).toBe(`Stream instance with name ${tenant} has active processors, and cannot be changed.`);
        expect(res.json.parameters).toEqual([tenant]);
        expect(await streamsSnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
    differences: ['Active processors'],
  },
  {
    operationId: 'downloadAuditLogs',
    async setup(w) {
      const name = await newInstance(w, 'audit');
      return { params: { groupId: w.groupId, tenantName: name } };
    },
    async success(res, t) {
      const disposition = res.headers.get('content-disposition') ?? '';
      expect(disposition).toMatch(new RegExp(`^attachment; filename="${t.params['tenantName']}_\\d+_\\d+_audit\\.log\\.gz"$`));
    },
    cases: [
      {
        name: 'success is gzip of one JSON line per call on the instance',
        async run(w) {
          const tenant = await newInstance(w, 'audit2');
          await setupClient(w).call(streams(w.groupId, `/${tenant}`));
          const path = pathOf(operationById('downloadAuditLogs'), { params: { groupId: w.groupId, tenantName: tenant } });
          const lines = await downloadLines(w, path, 'application/vnd.atlas.2023-02-01+gzip');
          expect(lines.some((l) => l.operationId === 'getStreamWorkspace')).toBe(true);
        },
      },
      {
        name: '400 INVALID_QUERY_PARAMETER (startDate after endDate)',
        async run(w) {
          const tenant = await newInstance(w, 'audit3');
          const res = await send(w, operationById('downloadAuditLogs'), { params: { groupId: w.groupId, tenantName: tenant }, query: { startDate: '1700000100', endDate: '1700000000' } }, undefined, { accept: 'application/vnd.atlas.2023-02-01+gzip' });
          expectAtlasError(res, { status: 400, errorCode: 'INVALID_QUERY_PARAMETER' });
        },
      },
    ],
    notProvokable: { 409: 'no conflicting state exists for a download', 500: 'UNEXPECTED_ERROR' },
  },
  // --- connections
  {
    operationId: 'listStreamConnections',
    async setup(w) {
      const tenant = await newInstance(w, 'lconn', { sampleConnections: { solar: true } });
      await newConnection(w, tenant, HTTPS('hook'));
      return { params: { groupId: w.groupId, tenantName: tenant } };
    },
    success(res) {
      expect(res.json.totalCount).toBe(2);
      expect(res.json.results.map((c: { name: string }) => c.name).sort()).toEqual(['hook', 'sample_stream_solar']);
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'createStreamConnection',
    async setup(w) {
      const tenant = await newInstance(w, 'cconn');
      return { params: { groupId: w.groupId, tenantName: tenant }, body: HTTPS(w.unique('hook')) };
    },
    sampleBody: HTTPS('hook'),
    success(res, t) {
      const body = t.body as { name: string };
      expect(res.json).toEqual({ ...HTTPS_SHOWN(body.name), id: expect.any(String), region: 'VIRGINIA_USA', state: 'READY' });
      expect(res.text).toContain('"headers":{"x-b":"****","x-a":"****"}');
    },
    duplicate: { status: 409, errorCode: 'STREAM_CONNECTION_NAME_ALREADY_EXISTS' },
    cases: [
      {
        name: 'success for Kafka: secrets absent, networking PUBLIC by default',
        async run(w) {
          const tenant = await newInstance(w, 'kafka');
          const res = await send(w, operationById('createStreamConnection'), {
            params: { groupId: w.groupId, tenantName: tenant },
            body: {
              name: 'k', type: 'Kafka', bootstrapServers: 'a:9092', security: { protocol: 'SASL_SSL' },
              authentication: { mechanism: 'PLAIN', username: 'u', password: 'pw-secret-1', sslKey: 'key-secret-2', sslKeyPassword: 'kp-secret-3' },
            },
          });
          expect(res.status).toBe(200);
          expect(res.text).not.toMatch(/secret-\d/);
          expect(res.json.authentication).toEqual({ mechanism: 'PLAIN', username: 'u' });
          expect(res.json.networking).toEqual({ access: { type: 'PUBLIC' } });
        },
      },
      {
        name: '400 VALIDATION_ERROR (an Https connection without an absolute URL)',
        async run(w) {
          const tenant = await newInstance(w, 'badurl');
          const t = { params: { groupId: w.groupId, tenantName: tenant }, body: { name: 'h', type: 'Https', url: 'not a url' } };
          const before = await streamsSnapshot(w, t);
          expectAtlasError(await send(w, operationById('createStreamConnection'), t), { status: 400, errorCode: 'VALIDATION_ERROR' });
          expect(await streamsSnapshot(w, t)).toEqual(before);
        },
      },
    ],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'getStreamConnection',
    async setup(w) {
      const tenant = await newInstance(w, 'gconn');
      await newConnection(w, tenant, HTTPS('hook'));
      return { params: { groupId: w.groupId, tenantName: tenant, connectionName: 'hook' } };
    },
    success(res) {
      expect(res.json).toEqual({ ...HTTPS_SHOWN('hook'), id: expect.any(String), region: 'VIRGINIA_USA', state: 'READY' });
    },
    cases: [{
      name: '404 STREAM_CONNECTION_NOT_FOUND_FOR_NAME (detail and parameters as Atlas)',
      async run(w) {
        const tenant = await newInstance(w, 'gconn404');
        const res = await send(w, operationById('getStreamConnection'), { params: { groupId: w.groupId, tenantName: tenant, connectionName: 'ghost' } });
        expect(res.text).toBe(JSON.stringify({
          detail: `Stream connection with name ghost for project ${w.groupId} and name ${tenant} not found.`, error: 404,
          errorCode: 'STREAM_CONNECTION_NOT_FOUND_FOR_NAME', parameters: ['ghost', w.groupId, tenant], reason: 'Not Found',
        }));
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'updateStreamConnection',
    async setup(w) {
      const tenant = await newInstance(w, 'uconn');
      await newConnection(w, tenant, HTTPS('hook'));
      return { params: { groupId: w.groupId, tenantName: tenant, connectionName: 'hook' }, body: { name: 'hook', type: 'Https', url: 'https://example.org/v2' } };
    },
    sampleBody: { name: 'hook', type: 'Https', url: 'https://example.org/v2', headers: { a: 'b' } },
    success(res) {
      // PATCH replaces the whole definition: the headers are gone.
      expect(res.json).toEqual({ name: 'hook', type: 'Https', url: 'https://example.org/v2', id: expect.any(String), region: 'VIRGINIA_USA', state: 'READY' });
    },
    cases: [{
      name: '403 STREAM_CONNECTION_HAS_STREAM_PROCESSORS (a connection a started processor uses)',
      async run(w) {
        const tenant = await newInstance(w, 'uconnp', { sampleConnections: { solar: true } });
        await startProcessor(w, tenant, await newProcessor(w, tenant));
        const t = { params: { groupId: w.groupId, tenantName: tenant, connectionName: 'sample_stream_solar' }, body: { name: 'sample_stream_solar', type: 'Sample' } };
        const before = await streamsSnapshot(w, t);
        const res = await send(w, operationById('updateStreamConnection'), t);
        expectAtlasError(res, { status: 403, errorCode: 'STREAM_CONNECTION_HAS_STREAM_PROCESSORS' });
        expect(res.json.detail).toBe(`Stream connection with name sample_stream_solar in stream workspace ${tenant} has active processors, and cannot be changed.`);
        expect(res.json.parameters).toEqual(['sample_stream_solar', tenant]);
        expect(await streamsSnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: { 409: 'the name cannot change (it is the path), so no duplicate can arise', 500: 'UNEXPECTED_ERROR' },
    differences: ['`STREAM_CONNECTION_HAS_STREAM_PROCESSORS`', 'Active processors'],
  },
  {
    operationId: 'deleteStreamConnection',
    async setup(w) {
      // A created processor that reads the connection does not hold it.
      const tenant = await newInstance(w, 'dconn', { sampleConnections: { solar: true } });
      await newProcessor(w, tenant, 'reader');
      return { params: { groupId: w.groupId, tenantName: tenant, connectionName: 'sample_stream_solar' } };
    },
    async success(_res, t, w) {
      const tenant = t.params['tenantName'];
      const got = await setupClient(w).call(streams(w.groupId, `/${tenant}/connections/sample_stream_solar`));
      expect(got.status).toBe(404);
      // The processor stays, and cannot start without its connection.
      const start = await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/reader:start`), { method: 'POST' });
      expect(start.status).toBe(400);
      expect(start.json.detail).toBe('Streams Processor with this name (reader) had a problem occur: connection named sample_stream_solar does not exist. Check sp.listConnections() for available connections.');
    },
    cases: [{
      name: '403 STREAM_CONNECTION_HAS_STREAM_PROCESSORS (a connection a started processor uses)',
      async run(w) {
        const tenant = await newInstance(w, 'dconnp', { sampleConnections: { solar: true } });
        await startProcessor(w, tenant, await newProcessor(w, tenant));
        const t = { params: { groupId: w.groupId, tenantName: tenant, connectionName: 'sample_stream_solar' } };
        const before = await streamsSnapshot(w, t);
        expectAtlasError(await send(w, operationById('deleteStreamConnection'), t), { status: 403, errorCode: 'STREAM_CONNECTION_HAS_STREAM_PROCESSORS' });
        expect(await streamsSnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: { 409: 'Atlas documents it; nothing a delete can conflict with exists here (in-use connections answer 403 as Atlas does)', 500: 'UNEXPECTED_ERROR' },
    differences: ['`STREAM_CONNECTION_HAS_STREAM_PROCESSORS`', 'Active processors'],
  },
];

export const area: Area = { contracts, snapshot: streamsSnapshot };
export { ACCEPT };
