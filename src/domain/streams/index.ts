// Every Streams operation's handler (the 37 operations tagged Streams in the spec).
import type { HandlerTable } from '../../http/context.js';
import { accountDetailsHandlers } from './account-details.js';
import { auditLogHandlers } from './audit-logs.js';
import { connectionHandlers } from './connections.js';
import { failoverConnectionHandlers } from './failover-connections.js';
import { instanceHandlers } from './instances.js';
import { operationalLogHandlers } from './operational-logs.js';
import { privateLinkHandlers } from './private-links.js';
import { processorHandlers } from './processors.js';
import { vpcPeeringHandlers } from './vpc-peering.js';

export const streamsHandlers: HandlerTable = {
  ...instanceHandlers,
  ...connectionHandlers,
  ...failoverConnectionHandlers,
  ...processorHandlers,
  ...privateLinkHandlers,
  ...vpcPeeringHandlers,
  ...accountDetailsHandlers,
  ...auditLogHandlers,
  ...operationalLogHandlers,
};
