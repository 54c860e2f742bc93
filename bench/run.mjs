// `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run.
import { existsSync } from 'node:fs';
import { runApiBench } from './api.mjs';

await runApiBench();
if (existsSync(new URL('./engine.mjs', import.meta.url))) {
  const { runEngineBench } = await import('./engine.mjs');
  await runEngineBench();
}
process.exit(0);
