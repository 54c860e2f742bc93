// Contract: API keys and their access lists (see framework.ts for what is derived).
import { runArea } from './framework.js';
import { apiKeysArea } from './areas/identity.js';

runArea(apiKeysArea);
