// `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run.
import { existsSync } from 'node:fs';
import { runApiBench } from './api.mjs';

await runApiBench();
if (existsSync(new URL('./engine.mjs', import.meta.url))) {
  const { runEngineBench } = await import('./engine.mjs');
  await runEngineBench();
}
// Security and reliability (issue 8): hostile load, then a bounded soak.
const { runHostileLoadBench } = await import('./hostile-load.mjs');
await runHostileLoadBench();
const { runSoakBench } = await import('./soak.mjs');
await runSoakBench();
process.exit(0);
