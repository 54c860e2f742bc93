// Contract: the database users of a project (see framework.ts for what is derived).
import { runArea } from './framework.js';
import { area } from './areas/database-users.js';

runArea(area);
