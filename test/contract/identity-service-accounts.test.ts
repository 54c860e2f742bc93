// Contract: service accounts, their secrets and access lists (see framework.ts for what is derived).
import { runArea } from './framework.js';
import { serviceAccountsArea } from './areas/identity.js';

runArea(serviceAccountsArea);
