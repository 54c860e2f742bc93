// Failover connections of a stream connection (2025-03-12).
import { expect } from 'vitest';
import { expectAtlasError, send, setupClient, type Area, type OperationContract, type Target, type World } from '../framework.js';
import { operationById } from '../../../src/protocol/router.js';
import { newConnection, newInstance, streams, streamsSnapshot } from './streams-shared.js';

const SECRET = 'failover-s3cr3t';

const KAFKA = (name: string) => ({ name, type: 'Kafka', bootstrapServers: 'primary.example.com:9092', security: { protocol: 'SASL_SSL' },
  authentication: { mechanism: 'PLAIN', username: 'u', password: 'primary-pass' } });

const FAILOVER = (region = 'OHIO_USA') => ({ type: 'Kafka', region, bootstrapServers: 'ohio.example.com:9092', security: { protocol: 'SASL_SSL' },
  authentication: { mechanism: 'PLAIN', username: 'u2', password: SECRET }, config: { 'z.b': '1', 'a.c': '2' } });

const failovers = (w: World, t: Target) => streams(w.groupId, `/${t.params['tenantName']}/connections/${t.params['connectionName']}/failoverConnections`);

/** A workspace in VIRGINIA_USA with a Kafka connection `kafka`. */
async function withPrimary(w: World): Promise<Target> {
  const tenant = await newInstance(w, 'fo');
  await newConnection(w, tenant, KAFKA('kafka'));
  return { params: { groupId: w.groupId, tenantName: tenant, connectionName: 'kafka' } };
}

async function withFailover(w: World, region = 'OHIO_USA'): Promise<Target> {
  const t = await withPrimary(w);
  const res = await setupClient(w).call(failovers(w, t), { method: 'POST', body: FAILOVER(region) });
  expect(res.status, res.text).toBe(201);
  return { ...t, params: { ...t.params, failoverConnectionId: res.json.id } };
}

/** 400 for a request that names something the domain refuses; nothing changes. */
function refused(operationId: string, what: string, errorCode: string, make: (w: World) => Promise<Target>): NonNullable<OperationContract['cases']>[number] {
  return {
    name: `400 ${errorCode} (${what})`,
    async run(w) {
      const t = await make(w);
      const before = await streamsSnapshot(w, t);
      expectAtlasError(await send(w, operationById(operationId), t), { status: 400, errorCode });
      expect(await streamsSnapshot(w, t)).toEqual(before);
    },
  };
}

function expectRendered(json: any, region: string): void {
  const { authentication, ...shown } = FAILOVER(region);
  expect(json).toEqual({ ...shown, authentication: { mechanism: 'PLAIN', username: 'u2' }, name: 'kafka', id: expect.stringMatching(/^[a-f0-9]{24}$/), state: 'READY',
    networking: { access: { type: 'PUBLIC' } } });
  expect(JSON.stringify(json)).not.toContain(SECRET);
  void authentication;
}

const contracts: OperationContract[] = [
  {
    operationId: 'listFailoverConnections',
    async setup(w) {
      const t = await withFailover(w);
      await setupClient(w).call(failovers(w, t), { method: 'POST', body: FAILOVER('OREGON_USA') });
      return { params: { groupId: t.params['groupId']!, tenantName: t.params['tenantName']!, connectionName: 'kafka' } };
    },
    success(res) {
      expect(res.json.totalCount).toBe(2);
      expect(res.json.results.map((f: { region: string }) => f.region)).toEqual(['OHIO_USA', 'OREGON_USA']);
      expect(res.text).not.toContain(SECRET);
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
    differences: ['Failover connections'],
  },
  {
    operationId: 'createFailoverConnection',
    async setup(w) {
      return { ...(await withPrimary(w)), body: FAILOVER() };
    },
    sampleBody: FAILOVER(),
    async success(res, t, w) {
      expectRendered(res.json, 'OHIO_USA');
      // Keys of the caller's Kafka config keep their order.
      expect(Object.keys(res.json.config)).toEqual(['z.b', 'a.c']);
      const got = await setupClient(w).call(`${failovers(w, t)}/${res.json.id}`);
      expectRendered(got.json, 'OHIO_USA');
    },
    duplicate: { status: 409, errorCode: 'STREAM_FAILOVER_CONNECTION_ALREADY_EXISTS' },
    cases: [
      refused('createFailoverConnection', 'a failover of another type than its connection', 'VALIDATION_ERROR',
        async (w) => ({ ...(await withPrimary(w)), body: { type: 'Cluster', region: 'OHIO_USA', clusterName: 'c' } })),
      refused('createFailoverConnection', 'the workspace region itself', 'VALIDATION_ERROR', async (w) => ({ ...(await withPrimary(w)), body: FAILOVER('VIRGINIA_USA') })),
      refused('createFailoverConnection', 'a region of another provider', 'VALIDATION_ERROR', async (w) => ({ ...(await withPrimary(w)), body: FAILOVER('eastus') })),
      refused('createFailoverConnection', 'no region', 'MISSING_ATTRIBUTE', async (w) => {
        const { region: _r, ...body } = FAILOVER();
        return { ...(await withPrimary(w)), body };
      }),
      refused('createFailoverConnection', 'bootstrap servers that are no host:port list', 'VALIDATION_ERROR',
        async (w) => ({ ...(await withPrimary(w)), body: { ...FAILOVER(), bootstrapServers: 'not a server' } })),
      refused('createFailoverConnection', 'a connection type without failover (Https)', 'VALIDATION_ERROR', async (w) => {
        const tenant = await newInstance(w, 'fohttps');
        await newConnection(w, tenant, { name: 'hook', type: 'Https', url: 'https://example.com' });
        return { params: { groupId: w.groupId, tenantName: tenant, connectionName: 'hook' }, body: FAILOVER() };
      }),
    ],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
    differences: ['Failover connections'],
  },
  {
    operationId: 'getStreamFailoverConnection',
    setup: (w) => withFailover(w),
    success(res) {
      expectRendered(res.json, 'OHIO_USA');
    },
    cases: [{
      name: '404 STREAM_FAILOVER_CONNECTION_NOT_FOUND (the id of a failover of another connection)',
      async run(w) {
        const t = await withFailover(w);
        await newConnection(w, t.params['tenantName']!, KAFKA('other'));
        const res = await send(w, operationById('getStreamFailoverConnection'), { params: { ...t.params, connectionName: 'other' } });
        expectAtlasError(res, { status: 404, errorCode: 'STREAM_FAILOVER_CONNECTION_NOT_FOUND' });
        expect(res.json.parameters).toEqual([t.params['failoverConnectionId'], 'other', t.params['tenantName']]);
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
    differences: ['Failover connections'],
  },
  {
    operationId: 'updateStreamFailoverConnection',
    async setup(w) {
      return { ...(await withFailover(w)), body: { ...FAILOVER('OREGON_USA'), config: {} } };
    },
    sampleBody: FAILOVER('OREGON_USA'),
    async success(res, t, w) {
      // PATCH replaces the definition: the new region, an empty config.
      expect(res.json).toMatchObject({ id: t.params['failoverConnectionId'], region: 'OREGON_USA', config: {} });
      expect(res.text).not.toContain(SECRET);
      const list = await setupClient(w).call(failovers(w, t));
      expect(list.json.results.map((f: { region: string }) => f.region)).toEqual(['OREGON_USA']);
    },
    cases: [
      {
        name: '409 STREAM_FAILOVER_CONNECTION_ALREADY_EXISTS (moved to a region another failover serves)',
        async run(w) {
          const t = await withFailover(w);
          await setupClient(w).call(failovers(w, t), { method: 'POST', body: FAILOVER('OREGON_USA') });
          const before = await streamsSnapshot(w, t);
          expectAtlasError(await send(w, operationById('updateStreamFailoverConnection'), { ...t, body: FAILOVER('OREGON_USA') }),
            { status: 409, errorCode: 'STREAM_FAILOVER_CONNECTION_ALREADY_EXISTS' });
          expect(await streamsSnapshot(w, t)).toEqual(before);
        },
      },
      refused('updateStreamFailoverConnection', 'the workspace region itself', 'VALIDATION_ERROR', async (w) => ({ ...(await withFailover(w)), body: FAILOVER('VIRGINIA_USA') })),
    ],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
    differences: ['Failover connections'],
  },
  {
    operationId: 'deleteStreamFailoverConnection',
    setup: (w) => withFailover(w),
    async success(_res, t, w) {
      expect((await setupClient(w).call(failovers(w, t))).json.results).toEqual([]);
    },
    cases: [{
      name: '404 STREAM_FAILOVER_CONNECTION_NOT_FOUND (deleted with its connection)',
      async run(w) {
        const t = await withFailover(w);
        const del = await setupClient(w).call(streams(w.groupId, `/${t.params['tenantName']}/connections/kafka`), { method: 'DELETE' });
        expect(del.status).toBe(202);
        await newConnection(w, t.params['tenantName']!, KAFKA('kafka'));
        expectAtlasError(await send(w, operationById('deleteStreamFailoverConnection'), t), { status: 404, errorCode: 'STREAM_FAILOVER_CONNECTION_NOT_FOUND' });
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
    differences: ['Failover connections'],
  },
];

export const area: Area = { contracts, snapshot: streamsSnapshot };
