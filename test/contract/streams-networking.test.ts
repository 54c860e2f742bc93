// Contract: private link and VPC peering connections, account details (see framework.ts for what is derived).
import { runArea } from './framework.js';
import { area } from './areas/streams-networking.js';

runArea(area);
