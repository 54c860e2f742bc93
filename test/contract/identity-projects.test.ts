// Contract: root, organizations, projects (see framework.ts for what is derived).
import { runArea } from './framework.js';
import { projectsArea } from './areas/identity.js';

runArea(projectsArea);
