// Contract: failover connections of a stream connection (see framework.ts for what is derived).
import { runArea } from './framework.js';
import { area } from './areas/streams-failover.js';

runArea(area);
