// Private link and VPC peering connections, account details.
import { expect } from 'vitest';
import { expectAtlasError, send, setupClient, type Area, type OperationContract } from '../framework.js';
import { operationById } from '../../../src/protocol/router.js';
import { PEER_ACCOUNT, seedPeering, streams, streamsSnapshot } from './streams-shared.js';

let linkCounter = 0;
const LINK = () => ({ provider: 'AWS', region: 'us-east-1', serviceEndpointId: `com.amazonaws.vpce.us-east-1.vpce-svc-${String(++linkCounter).padStart(6, '0')}`, dnsDomain: 'example.com', dnsSubDomain: ['a.example.com'] });

async function newLink(w: Parameters<OperationContract['setup']>[0]): Promise<string> {
  const res = await setupClient(w).call(streams(w.groupId, '/privateLinkConnections'), { method: 'POST', body: LINK() });
  expect(res.status, res.text).toBe(200);
  return res.json._id;
}

const contracts: OperationContract[] = [
  {
    operationId: 'getAccountDetails',
    async setup(w) {
      return { params: { groupId: w.groupId }, query: { cloudProvider: 'aws', regionName: 'us-east-1' } };
    },
    success(res) {
      expect(res.json).toMatchObject({ cloudProvider: 'aws', awsAccountId: expect.stringMatching(/^\d{12}$/), vpcId: expect.stringMatching(/^vpc-/) });
    },
    cases: [{
      name: '400 INVALID_QUERY_PARAMETER (cloudProvider no Streams account lives in)',
      async run(w) {
        const res = await send(w, operationById('getAccountDetails'), { params: { groupId: w.groupId }, query: { cloudProvider: 'nimbus', regionName: 'us-east-1' } });
        expectAtlasError(res, { status: 400, errorCode: 'INVALID_QUERY_PARAMETER' });
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'listActivePeeringConnections',
    async setup(w) {
      const id = await seedPeering(w);
      const accepted = await setupClient(w).call(streams(w.groupId, `/vpcPeeringConnections/${id}:accept`), {
        method: 'POST', body: { requesterAccountId: PEER_ACCOUNT, requesterVpcId: (await peeringVpc(w, id)) },
      });
      expect(accepted.status, accepted.text).toBe(202);
      return { params: { groupId: w.groupId } };
    },
    success(res) {
      expect(res.json.results.length).toBeGreaterThan(0);
      expect(res.json.results.every((p: { status: string }) => p.status === 'active')).toBe(true);
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'listVpcPeeringConnections',
    async setup(w) {
      await seedPeering(w);
      return { params: { groupId: w.groupId }, query: { requesterAccountId: PEER_ACCOUNT } };
    },
    success(res) {
      expect(res.json.results.length).toBeGreaterThan(0);
      expect(res.json.results[0]).toMatchObject({ requesterAccountId: PEER_ACCOUNT });
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'acceptVpcPeeringConnection',
    async setup(w) {
      const vpc = `vpc-${w.unique('acc')}`;
      const id = await seedPeering(w, vpc);
      return { params: { groupId: w.groupId, id }, body: { requesterAccountId: PEER_ACCOUNT, requesterVpcId: vpc } };
    },
    sampleBody: { requesterAccountId: PEER_ACCOUNT, requesterVpcId: 'vpc-x' },
    async success(_res, t, w) {
      const list = await setupClient(w).call(streams(w.groupId, '/activeVpcPeeringConnections'));
      expect(list.json.results.map((p: { _id: string }) => p._id)).toContain(t.params['id']);
    },
    cases: [{
      name: '400 STREAM_VPC_PEERING_CHALLENGE_FAILED (the challenge names another VPC)',
      async run(w) {
        const id = await seedPeering(w);
        const t = { params: { groupId: w.groupId, id }, body: { requesterAccountId: PEER_ACCOUNT, requesterVpcId: 'vpc-wrong' } };
        const before = await streamsSnapshot(w, t);
        expectAtlasError(await send(w, operationById('acceptVpcPeeringConnection'), t), { status: 400, errorCode: 'STREAM_VPC_PEERING_CHALLENGE_FAILED' });
        expect(await streamsSnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'rejectVpcPeeringConnection',
    async setup(w) {
      return { params: { groupId: w.groupId, id: await seedPeering(w) } };
    },
    async success(_res, t, w) {
      const list = await setupClient(w).call(streams(w.groupId, `/vpcPeeringConnections?requesterAccountId=${PEER_ACCOUNT}`));
      expect(list.json.results.find((p: { _id: string }) => p._id === t.params['id'])?.status).toBe('rejected');
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'deleteVpcPeeringConnection',
    async setup(w) {
      return { params: { groupId: w.groupId, id: await seedPeering(w) } };
    },
    async success(_res, t, w) {
      const list = await setupClient(w).call(streams(w.groupId, `/vpcPeeringConnections?requesterAccountId=${PEER_ACCOUNT}`));
      expect(list.json.results.map((p: { _id: string }) => p._id)).not.toContain(t.params['id']);
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'listPrivateLinkConnections',
    async setup(w) {
      await newLink(w);
      return { params: { groupId: w.groupId } };
    },
    success(res) {
      expect(res.json.totalCount).toBeGreaterThan(0);
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'createPrivateLinkConnection',
    async setup(w) {
      return { params: { groupId: w.groupId }, body: { ...LINK(), provider: 'aws' } };
    },
    sampleBody: LINK(),
    success(res, t) {
      const body = t.body as Record<string, unknown>;
      expect(res.json).toMatchObject({ ...body, provider: 'AWS', state: 'DONE' });
      expect(res.json._id).toMatch(/^[a-f0-9]{24}$/);
    },
    duplicate: { status: 409, errorCode: 'STREAM_PRIVATE_LINK_ALREADY_EXISTS' },
    cases: [{
      name: '400 VALIDATION_ERROR (a provider that is none of AWS, AZURE, GCP)',
      async run(w) {
        const t = { params: { groupId: w.groupId }, body: { ...LINK(), provider: 'ORACLE' } };
        const before = await streamsSnapshot(w, t);
        expectAtlasError(await send(w, operationById('createPrivateLinkConnection'), t), { status: 400, errorCode: 'VALIDATION_ERROR' });
        expect(await streamsSnapshot(w, t)).toEqual(before);
      },
    }],
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'getPrivateLinkConnection',
    async setup(w) {
      return { params: { groupId: w.groupId, connectionId: await newLink(w) } };
    },
    success(res, t) {
      expect(res.json).toMatchObject({ _id: t.params['connectionId'], provider: 'AWS', state: 'DONE' });
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
  {
    operationId: 'deletePrivateLinkConnection',
    async setup(w) {
      return { params: { groupId: w.groupId, connectionId: await newLink(w) } };
    },
    async success(_res, t, w) {
      expect((await setupClient(w).call(streams(w.groupId, `/privateLinkConnections/${t.params['connectionId']}`))).status).toBe(404);
    },
    notProvokable: { 500: 'UNEXPECTED_ERROR' },
  },
];

async function peeringVpc(w: Parameters<OperationContract['setup']>[0], id: string): Promise<string> {
  const list = await setupClient(w).call(streams(w.groupId, `/vpcPeeringConnections?requesterAccountId=${PEER_ACCOUNT}&itemsPerPage=500`));
  return list.json.results.find((p: { _id: string }) => p._id === id).requesterVpcId;
}

export const area: Area = { contracts, snapshot: streamsSnapshot };
