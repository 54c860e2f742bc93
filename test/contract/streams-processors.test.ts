// Contract: stream processors (see framework.ts for what is derived).
import { runArea } from './framework.js';
import { area } from './areas/streams-processors.js';

runArea(area);
