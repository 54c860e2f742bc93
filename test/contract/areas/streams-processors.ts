// Stream processors: create, read, modify, start, stop, delete.
import { expect } from 'vitest';
import { expectAtlasError, send, setupClient, type Area, type OperationContract, type Target, type World } from '../framework.js';
import { operationById } from '../../../src/protocol/router.js';
import { newInstance, newProcessor, samplePipeline, streams, streamsSnapshot } from './streams-shared.js';

/** One instance with the sample connection for the whole file: processors get fresh names. */
let tenant = '';

async function withProcessor(w: World, started = false): Promise<Target> {
  const name = await newProcessor(w, tenant);
  if (started) {
    const res = await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/${name}:start`), { method: 'POST' });
    expect(res.status, res.text).toBe(200);
  }
  return { params: { groupId: w.groupId, tenantName: tenant, processorName: name } };
}

/** A processor that exists: 400 STREAM_PROCESSOR_GENERIC_ERROR for an illegal state change, state unchanged. */
function illegal(operationId: string, started: boolean, message: string, body?: unknown): NonNullable<OperationContract['cases']>[number] {
  return {
    name: `400 STREAM_PROCESSOR_GENERIC_ERROR (${message})`,
    async run(w) {
      const t = { ...(await withProcessor(w, started)), ...(body !== undefined ? { body } : {}) };
      const before = await streamsSnapshot(w, t);
      const res = await send(w, operationById(operationId), t);
      expectAtlasError(res, { status: 400, errorCode: 'STREAM_PROCESSOR_GENERIC_ERROR' });
      expect(res.json.detail).toMatch(new RegExp(`^Streams Processor with this name \\(${t.params['processorName']}\\) had a problem occur: .+\\.$`));
      expect(await streamsSnapshot(w, t)).toEqual(before);
      if (started) await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/${t.params['processorName']}:stop`), { method: 'POST' });
    },
  };
}

const PIPELINE_BODY = (name: string) => ({ name, pipeline: samplePipeline(), options: { dlq: { connectionName: 'atlas', db: 'd', coll: 'dead' } } });

const contracts: OperationContract[] = [
  {
    operationId: 'createStreamProcessor',
    async setup(w) {
      return { params: { groupId: w.groupId, tenantName: tenant }, body: PIPELINE_BODY(w.unique('cp')) };
    },
    sampleBody: PIPELINE_BODY('x'),
    success(res, t) {
      const body = t.body as ReturnType<typeof PIPELINE_BODY>;
      expect(res.json).toMatchObject({ name: body.name, pipeline: body.pipeline });
      expect(res.json._id).toMatch(/^[a-f0-9]{24}$/);
    },
    duplicate: { status: 409, errorCode: 'STREAM_PROCESSOR_NAME_ALREADY_EXISTS' },
    cases: [{
      name: '400 STREAM_PROCESSOR_GENERIC_ERROR (a pipeline naming a connection the instance lacks)',
      async run(w) {
        const name = w.unique('bad');
        const t = { params: { groupId: w.groupId, tenantName: tenant }, body: { name, pipeline: [{ $source: { connectionName: 'X' } }, { $emit: { connectionName: '__testLog' } }] } };
        const before = await streamsSnapshot(w, t);
        const res = await send(w, operationById('createStreamProcessor'), t);
        expectAtlasError(res, { status: 400, errorCode: 'STREAM_PROCESSOR_GENERIC_ERROR' });
        expect(res.json.detail).toBe(`Streams Processor with this name (${name}) had a problem occur: connection named X does not exist. Check sp.listConnections() for available connections.`);
        expect(await streamsSnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
    differences: ['Read-only attributes in a request body'],
  },
  {
    operationId: 'getStreamProcessor',
    setup: (w) => withProcessor(w),
    success(res, t) {
      expect(res.json).toMatchObject({ name: t.params['processorName'], state: 'CREATED', pipeline: samplePipeline() });
      expect(Object.keys(res.json.stats)).toEqual(expect.arrayContaining(['inputMessageCount', 'outputMessageCount', 'dlqMessageCount', 'operatorStats', 'processorId', 'name', 'ok']));
    },
    notProvokable: { 400: 'no parameter of the request is validated beyond its path, covered by 404s', 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'getStreamProcessors',
    async setup(w) {
      const t = await withProcessor(w);
      return { params: { groupId: t.params['groupId']!, tenantName: tenant } };
    },
    success(res) {
      expect(res.json.totalCount).toBeGreaterThan(0);
      expect(res.json.results[0]).toHaveProperty('stats');
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'updateStreamProcessor',
    async setup(w) {
      const t = await withProcessor(w);
      return {
        ...t,
        body: {
          name: t.params['processorName'], pipeline: [{ $source: { connectionName: 'sample_stream_solar' } }, { $match: { x: 1 } }, { $emit: { connectionName: '__testLog' } }],
          options: { resumeFromCheckpoint: false, dlq: { connectionName: 'atlas', db: 'd', coll: 'dead' } },
        },
      };
    },
    sampleBody: { name: 'x', pipeline: samplePipeline(), options: { resumeFromCheckpoint: false, dlq: { connectionName: 'atlas', db: 'd', coll: 'dead' } } },
    success(res, t) {
      expect(res.json.pipeline).toEqual((t.body as { pipeline: unknown }).pipeline);
    },
    cases: [illegal('updateStreamProcessor', true, 'modifying a running processor', { pipeline: samplePipeline() })],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'deleteStreamProcessor',
    setup: (w) => withProcessor(w),
    async success(res, t, w) {
      expect(res.headers.get('content-type')).toBeNull();
      const got = await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/${t.params['processorName']}`));
      expect(got.status).toBe(404);
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'startStreamProcessor',
    setup: (w) => withProcessor(w),
    async success(res, t, w) {
      expect(res.text).toBe('{}');
      const got = await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/${t.params['processorName']}`));
      expect(got.json.state).toBe('STARTED');
      await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/${t.params['processorName']}:stop`), { method: 'POST' });
    },
    cases: [illegal('startStreamProcessor', true, 'starting a running processor')],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'startStreamProcessorWith',
    async setup(w) {
      return { ...(await withProcessor(w)), body: { startAtOperationTime: '2025-01-01T00:00:00Z' } };
    },
    sampleBody: { startAtOperationTime: '2025-01-01T00:00:00Z' },
    async success(res, t, w) {
      expect(res.text).toBe('{}');
      const got = await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/${t.params['processorName']}`));
      expect(got.json.state).toBe('STARTED');
      await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/${t.params['processorName']}:stop`), { method: 'POST' });
    },
    cases: [{
      name: '400 INVALID_JSON_ATTRIBUTE (startAtOperationTime not a date-time)',
      async run(w) {
        const t = { ...(await withProcessor(w)), body: { startAtOperationTime: 'yesterday' } };
        expectAtlasError(await send(w, operationById('startStreamProcessorWith'), t), { status: 400, errorCode: 'INVALID_JSON_ATTRIBUTE' });
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'stopStreamProcessor',
    setup: (w) => withProcessor(w, true),
    async success(res, t, w) {
      expect(res.text).toBe('{}');
      const got = await setupClient(w).call(streams(w.groupId, `/${tenant}/processor/${t.params['processorName']}`));
      expect(got.json.state).toBe('STOPPED');
    },
    cases: [illegal('stopStreamProcessor', false, 'stopping a processor that is not running')],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
];

export const area: Area = {
  contracts,
  async prepare(w) {
    tenant = await newInstance(w, 'proc', { sampleConnections: { solar: true } });
    const res = await setupClient(w).call(streams(w.groupId, `/${tenant}/connections`), { method: 'POST', body: { name: 'atlas', type: 'Cluster', clusterName: 'Cluster0' } });
    expect(res.status, res.text).toBe(200);
  },
  snapshot: streamsSnapshot,
};
