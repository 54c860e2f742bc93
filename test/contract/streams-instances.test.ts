// Contract: stream instances, connections, audit logs (see framework.ts for what is derived).
import { runArea } from './framework.js';
import { area } from './areas/streams-instances.js';

runArea(area);
