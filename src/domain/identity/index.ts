// Every identity operation's handler, by operationId.
import type { HandlerTable } from '../../http/context.js';
import { apiKeyAccessListHandlers } from './api-key-access-lists.js';
import { apiKeyHandlers } from './api-keys.js';
import { databaseUserHandlers } from './database-users.js';
import { organizationHandlers } from './organizations.js';
import { projectHandlers } from './projects.js';
import { serviceAccountHandlers } from './service-accounts.js';

export const identityHandlers: HandlerTable = {
  ...organizationHandlers,
  ...projectHandlers,
  ...apiKeyHandlers,
  ...apiKeyAccessListHandlers,
  ...serviceAccountHandlers,
  ...databaseUserHandlers,
};
