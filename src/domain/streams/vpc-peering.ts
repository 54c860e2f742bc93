// Incoming VPC peering connections. In Atlas they appear when a customer's AWS account asks
// to peer with the Stream Processing VPC; nothing in the Admin API creates them. Here a
// user seeds them through the emulator-only endpoint (emulator-routes.ts):
//   POST /emulator/v1/groups/{groupId}/streams/vpcPeeringConnections
//   {"requesterAccountId": "123456789012", "requesterVpcId": "vpc-...", "requesterCidr": "10.0.0.0/16", "region": "us-east-1"}
// They start `pending-acceptance` (AWS's status names); :accept makes them `active`,
// :reject `rejected`; delete removes them.
import { createHash } from 'node:crypto';
import { newObjectId } from '../../crypto/ids.js';
import type { HandlerTable, RequestContext } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { pageArray, pagedList } from '../../http/pagination.js';
import type { StoreTx } from '../../store/store.js';
import { groupIdOf, invalidField, isObject, listAllUnder, requiredField, STREAMS_KIND } from './common.js';

export interface StoredVpcPeering {
  _id: string;
  groupId: string;
  name: string;
  cloudProvider: 'AWS';
  region: string;
  requesterAccountId: string;
  requesterVpcId: string;
  requesterCidr?: string;
  accepterAccountId: string;
  accepterVpcId: string;
  status: 'pending-acceptance' | 'active' | 'rejected';
  createdAt: string;
}

function hex(seed: string, n: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, n);
}

/** The Stream Processing side of the peering: deterministic per project and region, like getAccountDetails. */
export function accepterOf(groupId: string, region: string): { accountId: string; vpcId: string } {
  const accountId = [...hex(`aws:${groupId}`, 24)].map((c) => String(parseInt(c, 16) % 10)).join('').slice(0, 12);
  return { accountId, vpcId: `vpc-${hex(`aws:${groupId}:${region}`, 17)}` };
}

function render(p: StoredVpcPeering): Record<string, unknown> {
  const { groupId: _groupId, ...shown } = p;
  return shown;
}

/** Seeds one incoming request (the emulator's stand-in for a customer's AWS account asking to peer). */
export async function seedVpcPeering(tx: StoreTx, groupId: string, body: unknown, now: Date): Promise<Record<string, unknown>> {
  if (!isObject(body)) throw new ApiError('MALFORMED_JSON');
  for (const field of ['requesterAccountId', 'requesterVpcId'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '') throw requiredField(field);
  }
  if (!/^\d{12}$/.test(body['requesterAccountId'] as string)) {
    throw invalidField('requesterAccountId', body['requesterAccountId'], 'An AWS account id: 12 digits.');
  }
  const region = typeof body['region'] === 'string' ? body['region'] : 'us-east-1';
  const id = newObjectId(now.getTime());
  const accepter = accepterOf(groupId, region);
  const peering: StoredVpcPeering = {
    _id: id, groupId, name: `pcx-${hex(id, 17)}`, cloudProvider: 'AWS', region,
    requesterAccountId: body['requesterAccountId'] as string, requesterVpcId: body['requesterVpcId'] as string,
    ...(typeof body['requesterCidr'] === 'string' ? { requesterCidr: body['requesterCidr'] } : {}),
    accepterAccountId: accepter.accountId, accepterVpcId: accepter.vpcId, status: 'pending-acceptance', createdAt: now.toISOString(),
  };
  await tx.insert(STREAMS_KIND.vpcPeering, { id, parentId: groupId }, peering);
  return render(peering);
}

async function requirePeering(ctx: RequestContext): Promise<StoredVpcPeering> {
  const id = ctx.params['id']!;
  const peering = await ctx.tx.get<StoredVpcPeering>(STREAMS_KIND.vpcPeering, id);
  if (!peering || peering.groupId !== groupIdOf(ctx)) throw new ApiError('STREAM_VPC_PEERING_CONNECTION_NOT_FOUND', [id, groupIdOf(ctx)]);
  return peering;
}

async function decide(ctx: RequestContext, to: 'active' | 'rejected'): Promise<{ status: number; body: unknown }> {
  const peering = await requirePeering(ctx);
  if (to === 'active') {
    // The challenge: the caller proves it knows which account and VPC asked.
    const challenge = (ctx.body ?? {}) as Record<string, unknown>;
    if (challenge['requesterAccountId'] !== peering.requesterAccountId || challenge['requesterVpcId'] !== peering.requesterVpcId) {
      throw new ApiError('STREAM_VPC_PEERING_CHALLENGE_FAILED', [peering._id]);
    }
  }
  if (peering.status !== 'pending-acceptance' && peering.status !== to) {
    throw new ApiError('STREAM_VPC_PEERING_INVALID_STATE', [peering._id, peering.status, to === 'active' ? 'accepted' : 'rejected']);
  }
  await ctx.tx.update(STREAMS_KIND.vpcPeering, peering._id, { ...peering, status: to });
  return { status: 202, body: {} };
}

export const vpcPeeringHandlers: HandlerTable = {
  async listVpcPeeringConnections(ctx) {
    const requester = ctx.query['requesterAccountId'];
    const all = await listAllUnder<StoredVpcPeering>(ctx.tx, STREAMS_KIND.vpcPeering, groupIdOf(ctx));
    return { body: pagedList(ctx, pageArray(ctx, all.filter((p) => p.requesterAccountId === requester)), render) };
  },

  async listActivePeeringConnections(ctx) {
    const all = await listAllUnder<StoredVpcPeering>(ctx.tx, STREAMS_KIND.vpcPeering, groupIdOf(ctx));
    return { body: pagedList(ctx, pageArray(ctx, all.filter((p) => p.status === 'active')), render) };
  },

  acceptVpcPeeringConnection: (ctx) => decide(ctx, 'active'),
  rejectVpcPeeringConnection: (ctx) => decide(ctx, 'rejected'),

  async deleteVpcPeeringConnection(ctx) {
    const peering = await requirePeering(ctx);
    await ctx.tx.delete(STREAMS_KIND.vpcPeering, peering._id);
    return { status: 202, body: {} };
  },
};
