// Every operation's handler, by operationId.
import type { HandlerTable } from '../http/context.js';
import { identityHandlers } from './identity/index.js';
import { organizationHandlers } from './identity/organizations.js';
import { rootHandlers } from './root.js';
import { streamsHandlers } from './streams/index.js';

export const handlers: HandlerTable = {
  ...rootHandlers,
  ...organizationHandlers,
  ...identityHandlers,
  ...streamsHandlers,
};
