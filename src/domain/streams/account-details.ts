// The Stream Processing side's cloud account for a project and region, for setting up
// peering. Nothing real stands behind it here, so the values are derived from the project
// id and region: stable across calls and restarts, different per project.
import { createHash } from 'node:crypto';
import type { HandlerTable } from '../../http/context.js';
import { ApiError } from '../../http/errors.js';
import { groupIdOf } from './common.js';
import { accepterOf } from './vpc-peering.js';

function hex(seed: string, n: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, n);
}

/** A /21 in 192.168.0.0/16, chosen by the seed (Atlas's streams VPCs are /21s). */
function cidrOf(seed: string): string {
  const third = (parseInt(hex(seed, 2), 16) % 32) * 8;
  return `192.168.${third}.0/21`;
}

export const accountDetailsHandlers: HandlerTable = {
  async getAccountDetails(ctx) {
    const groupId = groupIdOf(ctx);
    const provider = String(ctx.query['cloudProvider']).toLowerCase();
    const region = String(ctx.query['regionName']);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(region)) throw new ApiError('INVALID_QUERY_PARAMETER', ['regionName']);
    if (provider === 'aws') {
      const accepter = accepterOf(groupId, region);
      return { body: { awsAccountId: accepter.accountId, cidrBlock: cidrOf(`aws:${groupId}:${region}`), cloudProvider: 'aws', vpcId: accepter.vpcId } };
    }
    if (provider === 'azure') {
      const h = hex(`azure:${groupId}`, 32);
      return {
        body: {
          azureSubscriptionId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`,
          cidrBlock: cidrOf(`azure:${groupId}:${region}`), cloudProvider: 'azure',
          virtualNetworkName: `vnet_${hex(`azure:${groupId}:${region}`, 24)}`,
        },
      };
    }
    if (provider === 'gcp') {
      return {
        body: {
          cidrBlock: cidrOf(`gcp:${groupId}:${region}`), cloudProvider: 'gcp',
          gcpProjectId: `p-${hex(`gcp:${groupId}`, 20)}`, vpcNetworkName: `nt-${hex(`gcp:${groupId}:${region}`, 20)}`,
        },
      };
    }
    throw new ApiError('INVALID_QUERY_PARAMETER', ['cloudProvider']);
  },
};
